// SPDX-License-Identifier: Apache-2.0
//
// refresh_index over a copy of the committed sample archive: the one
// broken-index policy (a broken index is ignored with a warning, every
// file is hashed, and the index written back replaces it), then an
// incremental refresh that hashes nothing.
#include <fstream>
#include <gtest/gtest.h>

#include "btfpack/archive_index.h"
#include "test_util.h"

using namespace btfpack;
namespace fs = std::filesystem;

TEST(RefreshIndex, BrokenIndexIsIgnoredWithAWarningAndReplaced) {
  test::TempDir t;
  fs::path dir = t / "archive";
  fs::copy(test::sample_archive(), dir, fs::copy_options::recursive);
  fs::path idx = dir / "index.json";
  std::ofstream(idx) << "{ not json";

  RefreshOptions ro;
  ro.candidates = {idx};
  ro.write_to = idx;
  std::vector<std::string> warnings;
  auto r = refresh_index(dir, ro, warnings);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->had_previous);
  EXPECT_TRUE(r->written);
  ASSERT_FALSE(warnings.empty());
  EXPECT_EQ(warnings.front().rfind("ignoring " + idx.string() + ": ", 0), 0u)
      << warnings.front();
  EXPECT_NE(warnings.front().find("every file is hashed again"),
            std::string::npos);
  std::size_t files = r->scan.index.entries.size();
  EXPECT_GT(files, 0u);
  EXPECT_EQ(r->scan.hashed_files, files);
  auto back = Index::read_file(idx);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->entries.size(), files);

  // Now the index is good: nothing is hashed, nothing warned, and with
  // only_if_changed nothing is written.
  warnings.clear();
  ro.only_if_changed = true;
  auto again = refresh_index(dir, ro, warnings);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->had_previous);
  EXPECT_EQ(again->scan.hashed_files, 0u);
  EXPECT_FALSE(again->written);
  EXPECT_TRUE(warnings.empty());
  // reuse = false (`index --full`, gen --no-cache): everything again.
  ro.reuse = false;
  auto full = refresh_index(dir, ro, warnings);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->scan.hashed_files, files);
}

TEST(RefreshIndex, AnUnwritableWriteBackIsAnErrorOrAWarningAsAsked) {
  test::TempDir t;
  fs::path dir = t / "archive";
  fs::copy(test::sample_archive(), dir, fs::copy_options::recursive);
  RefreshOptions ro;
  ro.write_to = t / "no-such-dir-file" / "x" / "index.json";
  fs::create_directories(t / "no-such-dir-file");
  std::ofstream(t / "no-such-dir-file" / "x") << "a file, not a directory";
  std::vector<std::string> warnings;
  EXPECT_FALSE(refresh_index(dir, ro, warnings).ok());
  ro.best_effort_write = true;
  auto r = refresh_index(dir, ro, warnings);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->written);
  ASSERT_FALSE(warnings.empty());
  EXPECT_EQ(warnings.back().rfind("cache: ", 0), 0u) << warnings.back();
}
