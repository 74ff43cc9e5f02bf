// SPDX-License-Identifier: Apache-2.0
//
// The one atomic writer: every durability gives the whole file or the old
// one, never a temporary left behind; write_file_atomic_at writes inside a
// directory descriptor and refuses to follow a planted temporary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"
#include "test_util.h"

using namespace btfpack;
namespace fs = std::filesystem;

namespace {
std::size_t entries(const fs::path &dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto &e : fs::directory_iterator(dir))
    n++;
  return n;
}
} // namespace

TEST(AtomicWrite, EveryDurabilityReplacesWholeFilesAndLeavesNoTemporary) {
  test::TempDir t;
  fs::path p = t / "index.json";
  for (auto d :
       {Durability::none, Durability::file, Durability::file_and_dir}) {
    ASSERT_TRUE(write_file_atomic(p, "first version", d).ok());
    ASSERT_TRUE(write_file_atomic(p, "second", d, 0600).ok());
    EXPECT_EQ(*read_text_file(p), "second");
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(entries(t.path()), 1u);
  }
}

TEST(AtomicWrite, AMissingDirectoryIsAnErrorNamingThePath) {
  test::TempDir t;
  fs::path p = t / "no-such-dir" / "f";
  auto r = write_file_atomic(p, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find(p.string()), std::string::npos)
      << r.error().message;
}

TEST(AtomicWrite, AtADirectoryDescriptorKeepsTheOldFileOnFailure) {
  test::TempDir t;
  UniqueFd dfd(::open(t.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dfd);
  std::string data = "a cache file";
  auto bytes = std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t *>(data.data()), data.size());
  ASSERT_TRUE(write_file_atomic_at(dfd.get(), "c.btf", bytes,
                                   Durability::file_and_dir, 0644,
                                   (t / "c.btf").string())
                  .ok());
  EXPECT_EQ(*read_text_file(t / "c.btf"), data);
  // A directory where the file should go: the rename fails, the temporary
  // is removed and the directory is untouched.
  fs::create_directory(t / "d");
  fs::create_directory(t / "d" / "keep");
  auto r = write_file_atomic_at(dfd.get(), "d", bytes, Durability::none, 0644,
                                (t / "d").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find((t / "d").string()), std::string::npos);
  EXPECT_TRUE(fs::is_directory(t / "d" / "keep"));
  EXPECT_EQ(entries(t.path()), 2u);
}

TEST(AtomicWrite, WriteFullyWritesEverythingToAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::vector<std::uint8_t> data(4000, 0x5a);
  ASSERT_TRUE(write_fully(wr.get(), data, "the pipe").ok());
  wr.reset();
  std::vector<std::uint8_t> got(8192);
  std::size_t n = 0;
  for (ssize_t k; (k = ::read(rd.get(), got.data() + n, got.size() - n)) > 0;)
    n += static_cast<std::size_t>(k);
  EXPECT_EQ(n, data.size());
  // A closed reader: an error naming what was written, not a crash.
  int fds2[2];
  ASSERT_EQ(::pipe(fds2), 0);
  UniqueFd w2(fds2[1]);
  ::close(fds2[0]);
  ::signal(SIGPIPE, SIG_IGN);
  auto r = write_fully(w2.get(), data, "the closed pipe");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("the closed pipe"), std::string::npos);
}
