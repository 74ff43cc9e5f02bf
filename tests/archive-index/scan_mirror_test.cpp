// SPDX-License-Identifier: Apache-2.0
//
// Scanning mirrors: the real corpus must give exactly INDEX.tsv; a mirror
// with bad layouts must give warnings, once per bad path; re-scans reuse
// digests of unchanged files.
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "btfpack/archive_index.h"
#include "btfpack/file_util.h"
#include "btfpack/sha256.h"
#include "test_util.h"

using namespace btfpack;
namespace fs = std::filesystem;

namespace {

struct TsvRow {
  std::string distro, version, arch, release, sha256;
  std::uint64_t size = 0;
};

std::map<std::string, TsvRow> corpus_index() {
  std::map<std::string, TsvRow> out;
  std::ifstream in(test::corpus_dir() / "INDEX.tsv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string x;
    while (std::getline(ls, x, '\t'))
      f.push_back(x);
    if (f.size() < 8)
      continue;
    out[f[0]] = {f[1], f[2], f[3], f[4], f[7], std::stoull(f[5])};
  }
  return out;
}

void write(const fs::path &p, const std::string &data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string sha256sum(const fs::path &p) {
  auto r = test::run({"sha256sum", p.string()});
  return r.out.substr(0, 64);
}

} // namespace

TEST(ScanMirror, CorpusGivesExactlyIndexTsv) {
  SKIP_UNLESS_CORPUS();
  auto want = corpus_index();
  ASSERT_EQ(want.size(), 105u);
  auto r = scan_mirror(test::corpus_archive());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->warnings.empty())
      << (r->warnings.empty() ? "" : r->warnings[0]);
  EXPECT_EQ(r->hashed_files, 105u);
  ASSERT_EQ(r->index.entries.size(), want.size());
  for (const auto &e : r->index.entries) {
    SCOPED_TRACE(e.path);
    auto it = want.find(e.path);
    ASSERT_NE(it, want.end());
    EXPECT_EQ(e.distro, it->second.distro);
    EXPECT_EQ(e.version, it->second.version);
    EXPECT_EQ(e.arch, it->second.arch);
    EXPECT_EQ(e.release, it->second.release);
    EXPECT_EQ(e.size, it->second.size);
    EXPECT_EQ(e.sha256, it->second.sha256);
  }
  for (std::size_t i = 0; i + 1 < r->index.entries.size(); i++)
    EXPECT_TRUE(entry_less(r->index.entries[i], r->index.entries[i + 1]));
}

TEST(ScanMirror, GitBlobIdsMatchRecordedListingAndGit) {
  SKIP_UNLESS_CORPUS();
  auto text = read_text_file(test::data_dir() / "listing/corpus-tree.json");
  ASSERT_TRUE(text.ok());
  auto listing = parse_git_tree_listing(*text, "corpus-tree.json");
  ASSERT_TRUE(listing.ok());
  ScanOptions so;
  so.git_blob = true;
  so.jobs = 2;
  auto r = scan_mirror(test::corpus_archive(), so);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->index.entries.size(), listing->entries.size());
  for (std::size_t i = 0; i < listing->entries.size(); i++) {
    EXPECT_EQ(r->index.entries[i].path, listing->entries[i].path);
    EXPECT_EQ(r->index.entries[i].git_blob, listing->entries[i].git_blob);
    EXPECT_EQ(r->index.entries[i].size, listing->entries[i].size);
  }
  // and with git itself, for one file
  const auto &e = r->index.entries.front();
  auto git = test::run(
      {"git", "hash-object", (test::corpus_archive() / e.path).string()});
  if (git.status == 0) {
    EXPECT_EQ(git.out.substr(0, 40), e.git_blob);
    auto b = git_blob_id_file(test::corpus_archive() / e.path);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, e.git_blob);
  }
}

TEST(ScanMirror, BadLayoutsSkippedWithOneWarningEach) {
  test::TempDir tmp;
  fs::path m = tmp / "mirror";
  const std::string good = "ubuntu/20.04/x86_64/5.4.0-1036-aws.btf.tar.xz";
  write(m / good, "good kernel");
  write(m / "debian/12/arm64/6.1.0-47-arm64.btf.tar.xz", "another");
  // bad ones
  write(m / "ubuntu/20.04/5.4.0-1.btf.tar.xz", "x");             // depth
  write(m / "ubuntu/20.04/x86_64/5.4.0-2.btf", "x");             // suffix
  write(m / "ubuntu/20.04/x86_64/.5.4.0-3.btf.tar.xz", "x");     // hidden
  write(m / ".git/objects/ab/cdef", "x");                        // hidden dir
  write(m / ".git/config", "x");                                 // (same)
  write(m / "ubuntu/20.04/x86_64/deep/5.4.0-4.btf.tar.xz", "x"); // too deep
  write(m / "ubuntu/20.04/x86_64/deep/5.4.0-5.btf.tar.xz", "x"); // (same)
  write(m / "README.md", "x");                                   // depth
  write(tmp / "outside.btf.tar.xz", "secret");
  fs::create_symlink(tmp / "outside.btf.tar.xz",
                     m / "ubuntu/20.04/x86_64/5.4.0-6-evil.btf.tar.xz");
  fs::create_symlink("/etc", m / "ubuntu/20.04/etc");
  fs::create_symlink("nowhere", m / "ubuntu/20.04/x86_64/5.4.0-7.btf.tar.xz");
  // a symlink inside the mirror to a good file is indexed
  fs::create_symlink("5.4.0-1036-aws.btf.tar.xz",
                     m / "ubuntu/20.04/x86_64/5.4.0-1036-aws-link.btf.tar.xz");
  write(m / "index.json", "{}"); // the index itself: ignored silently

  auto r = scan_mirror(m);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::set<std::string> paths;
  for (const auto &e : r->index.entries)
    paths.insert(e.path);
  EXPECT_EQ(paths, (std::set<std::string>{
                       good, "debian/12/arm64/6.1.0-47-arm64.btf.tar.xz",
                       "ubuntu/20.04/x86_64/5.4.0-1036-aws-link.btf.tar.xz"}));
  const char *bad[] = {"ubuntu/20.04/5.4.0-1.btf.tar.xz",
                       "ubuntu/20.04/x86_64/5.4.0-2.btf",
                       "ubuntu/20.04/x86_64/.5.4.0-3.btf.tar.xz",
                       "'.git'",
                       "ubuntu/20.04/x86_64/deep/",
                       "'README.md'",
                       "5.4.0-6-evil.btf.tar.xz",
                       "ubuntu/20.04/etc",
                       "5.4.0-7.btf.tar.xz"};
  EXPECT_EQ(r->warnings.size(), std::size(bad));
  for (const char *b : bad) {
    int n = 0;
    for (const auto &w : r->warnings)
      n += w.find(b) != std::string::npos;
    EXPECT_EQ(n, 1) << b;
  }
  for (const auto &w : r->warnings) {
    EXPECT_EQ(w.find("5.4.0-5"), std::string::npos) << w; // inside deep/
    EXPECT_EQ(w.find("cdef"), std::string::npos) << w;    // inside .git
  }
  bool says_outside = false;
  for (const auto &w : r->warnings)
    says_outside |= w.find("outside the mirror") != std::string::npos;
  EXPECT_TRUE(says_outside);
  // digests are those sha256sum computes
  for (const auto &e : r->index.entries)
    EXPECT_EQ(e.sha256, sha256sum(m / e.path)) << e.path;
}

TEST(ScanMirror, IncrementalReusesUnchangedDigests) {
  test::TempDir tmp;
  fs::path m = tmp / "m";
  for (int i = 0; i < 20; i++)
    write(m / ("debian/12/x86_64/6.1.0-" + std::to_string(i) +
               "-amd64.btf.tar.xz"),
          "kernel " + std::to_string(i));
  std::vector<ScanProgress> seen;
  ScanOptions so;
  so.jobs = 3;
  so.progress = [&](const ScanProgress &p) { seen.push_back(p); };
  auto first = scan_mirror(m, so);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->hashed_files, 20u);
  ASSERT_EQ(seen.size(), 20u);
  EXPECT_EQ(seen.back().files_done, 20u);
  EXPECT_EQ(seen.back().files_total, 20u);
  EXPECT_EQ(seen.back().bytes_done, seen.back().bytes_total);

  ScanOptions inc;
  inc.previous = &first->index;
  auto second = scan_mirror(m, inc);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->hashed_files, 0u);
  ASSERT_EQ(second->index.entries.size(), 20u);
  for (std::size_t i = 0; i < 20; i++)
    EXPECT_EQ(second->index.entries[i].sha256, first->index.entries[i].sha256);

  // same size, new content and mtime: re-hashed; a new file: hashed
  fs::path changed = m / "debian/12/x86_64/6.1.0-3-amd64.btf.tar.xz";
  write(changed, "kernel X");
  struct timespec ts[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, changed.c_str(), ts, 0), 0);
  write(m / "debian/12/x86_64/6.1.0-99-amd64.btf.tar.xz", "new");
  auto third = scan_mirror(m, inc);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->hashed_files, 2u);
  EXPECT_EQ(third->index.entries.size(), 21u);
  const auto *c =
      third->index.find_path("debian/12/x86_64/6.1.0-3-amd64.btf.tar.xz");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->sha256, sha256sum(changed));
  // removed files disappear
  fs::remove(changed);
  auto fourth = scan_mirror(m, inc);
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->index.entries.size(), 20u);
}

// weak spot (#20): a file rewritten (in place, or another file renamed over
// it) with the same size and its old mtime put back kept its old digest.
TEST(ScanMirror, SameSizeAndMtimeButReplacedIsRehashed) {
  test::TempDir tmp;
  fs::path m = tmp / "m";
  fs::path f = m / "debian/12/x86_64/6.1.0-1-amd64.btf.tar.xz";
  write(f, "kernel A");
  struct stat before {};
  ASSERT_EQ(::stat(f.c_str(), &before), 0);
  auto first = scan_mirror(m, {});
  ASSERT_TRUE(first.ok());
  // Through the index file, as gen's cache and fetch keep it.
  ASSERT_TRUE(first->index.write_file(tmp / "index.json").ok());
  auto prev = Index::read_file(tmp / "index.json");
  ASSERT_TRUE(prev.ok()) << prev.error().message;
  ScanOptions inc;
  inc.previous = &*prev;
  auto same = scan_mirror(m, inc);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->hashed_files, 0u) << "an unchanged file is re-hashed";

  const struct timespec ts[2] = {before.st_atim, before.st_mtim};
  write(f, "kernel B"); // in place: same inode, same size
  ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), ts, 0), 0);
  auto inplace = scan_mirror(m, inc);
  ASSERT_TRUE(inplace.ok());
  EXPECT_EQ(inplace->hashed_files, 1u);
  EXPECT_EQ(inplace->index.entries.at(0).sha256, sha256sum(f));

  fs::path other = tmp / "other";
  write(other, "kernel C");
  ASSERT_EQ(::utimensat(AT_FDCWD, other.c_str(), ts, 0), 0);
  fs::rename(other, f); // replaced: new inode, same size and mtime
  auto replaced = scan_mirror(m, inc);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->hashed_files, 1u);
  EXPECT_EQ(replaced->index.entries.at(0).sha256, sha256sum(f));
}

TEST(ScanMirror, MissingDirIsAnError) {
  auto r = scan_mirror("/nonexistent/mirror");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_NE(r.error().message.find("/nonexistent/mirror"), std::string::npos);
}

TEST(ScanMirror, CommittedSampleIndexMatchesCorpusFiles) {
  SKIP_UNLESS_CORPUS();
  auto idx = Index::read_file(test::data_dir() / "index/corpus-sample.json");
  ASSERT_TRUE(idx.ok());
  for (const auto &e : idx->entries) {
    auto d = sha256_file(test::corpus_archive() / e.path);
    ASSERT_TRUE(d.ok()) << e.path;
    EXPECT_EQ(to_hex(*d), e.sha256) << e.path;
  }
}
