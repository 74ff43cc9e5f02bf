// SPDX-License-Identifier: Apache-2.0
//
// tests/data/archive is the committed Debian sample every corpus-free test
// and README's default job use: it must match tests/data/SOURCES.md, byte
// for byte, and hold real BTF.
#include "test_util.h"

#include "btfpack/c_free.h"
#include "btfpack/file_util.h"
#include "btfpack/sha256.h"

#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <regex>

namespace btfpack::test {
namespace {

struct Pinned {
  std::string path, sha256;
};

std::vector<Pinned> pinned_from_sources_md() {
  auto text = read_text_file(data_dir() / "SOURCES.md");
  std::vector<Pinned> out;
  if (!text)
    return out;
  std::regex row(
      R"(\| `((?:debian)/[^`]+\.btf\.tar\.xz)` \|[^|]*\| `([0-9a-f]{64})` \|)");
  for (auto it = std::sregex_iterator(text->begin(), text->end(), row);
       it != std::sregex_iterator(); ++it)
    out.push_back({(*it)[1].str(), (*it)[2].str()});
  return out;
}

TEST(SampleArchive, MatchesSourcesMd) {
  auto pinned = pinned_from_sources_md();
  ASSERT_GE(pinned.size(), 4u) << "SOURCES.md lists no archive files";
  std::uintmax_t total = 0;
  for (const auto &p : pinned) {
    auto file = sample_archive() / p.path;
    ASSERT_TRUE(fs::exists(file)) << file;
    auto digest = sha256_file(file);
    ASSERT_TRUE(digest) << digest.error().message;
    EXPECT_EQ(to_hex(*digest), p.sha256) << p.path;
    total += fs::file_size(file);
  }
  // Every file in the sample is listed, and the sample stays small.
  size_t files = 0;
  for (auto &e : fs::recursive_directory_iterator(sample_archive()))
    files += e.is_regular_file();
  EXPECT_EQ(files, pinned.size());
  EXPECT_LE(total, 4500000u);
}

TEST(SampleArchive, HoldsRealBtf) {
  TempDir tmp;
  for (const auto &p : pinned_from_sources_md()) {
    auto r = run({"tar", "-xJf", (sample_archive() / p.path).string(), "-C",
                  tmp.path().string()});
    ASSERT_EQ(r.status, 0) << r.err;
    auto release = fs::path(p.path).filename().string();
    release = release.substr(0, release.size() - std::string(".tar.xz").size());
    CHandle<struct btf, btf__free> btf(
        btf__parse((tmp / release).c_str(), nullptr));
    ASSERT_NE(btf, nullptr) << release;
    EXPECT_GT(btf__type_cnt(btf.get()), 50000u) << release;
    EXPECT_GT(btf__find_by_name_kind(btf.get(), "task_struct", BTF_KIND_STRUCT),
              0)
        << release;
  }
}

} // namespace
} // namespace btfpack::test
