// SPDX-License-Identifier: Apache-2.0
//
// Remote listings in GitHub's recursive git tree shape, from the recorded
// listing of ../shared/corpus/archive (tests/data/listing/corpus-tree.json,
// made by archive-index/tools/make-listing.py).
#include <gtest/gtest.h>

#include "btfpack/archive_index.h"
#include "btfpack/file_util.h"
#include "test_util.h"

using namespace btfpack;

namespace {
std::string recorded() {
  auto t = read_text_file(test::data_dir() / "listing" / "corpus-tree.json");
  EXPECT_TRUE(t.ok());
  return t.ok() ? t.value() : std::string();
}
} // namespace

TEST(GitListing, ParsesRecordedCorpusListing) {
  std::vector<std::string> skipped;
  auto r = parse_git_tree_listing(recorded(), "corpus-tree.json", &skipped);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries.size(), 105u);
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ(r->source, "corpus-tree.json");
  for (const auto &e : r->entries) {
    EXPECT_EQ(e.git_blob.size(), 40u);
    EXPECT_TRUE(e.sha256.empty());
    EXPECT_GT(e.size, 0u);
  }
  const auto *k = r->find_path(
      "kylin/V10/aarch64/4.19.90-24.4.v2101.ky10.aarch64.btf.tar.xz");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->size, 966760u);
  EXPECT_EQ(r->select({"", "", "arm64", ""}).size(), 30u + 9u + 1u + 3u);
}

TEST(GitListing, SkipsNonLayoutBlobsAndTrees) {
  std::string j = R"({"sha":"x","tree":[
    {"path":"README.md","mode":"100644","type":"blob","size":10,"sha":"0123456789012345678901234567890123456789"},
    {"path":".github","mode":"040000","type":"tree","sha":"0123456789012345678901234567890123456789"},
    {"path":".github/workflows/ci.yml","mode":"100644","type":"blob","size":3,"sha":"0123456789012345678901234567890123456789"},
    {"path":"ubuntu","mode":"040000","type":"tree","sha":"0123456789012345678901234567890123456789"},
    {"path":"ubuntu/20.04/x86_64/5.4.0-1036-aws.btf.tar.xz","mode":"100644","type":"blob","size":42,"sha":"abcdefabcdefabcdefabcdefabcdefabcdefabcd"},
    {"path":"ubuntu/20.04/x86_64/link.btf.tar.xz","mode":"120000","type":"blob","size":5,"sha":"abcdefabcdefabcdefabcdefabcdefabcdefabcd"}
  ],"truncated":false})";
  std::vector<std::string> skipped;
  auto r = parse_git_tree_listing(j, "l.json", &skipped);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].release, "5.4.0-1036-aws");
  EXPECT_EQ(r->entries[0].size, 42u);
  EXPECT_EQ(r->entries[0].git_blob, "abcdefabcdefabcdefabcdefabcdefabcdefabcd");
  EXPECT_EQ(skipped.size(), 3u);
}

TEST(GitListing, RefusesEscapingPathsTruncationAndGarbage) {
  auto one = [](const std::string &path) {
    return R"({"sha":"x","tree":[{"path":")" + path +
           R"(","mode":"100644","type":"blob","size":1,"sha":"0123456789012345678901234567890123456789"}]})";
  };
  for (std::string p : {"../ubuntu/20.04/x86_64/a.btf.tar.xz",
                        "ubuntu/../../etc/x86_64/a.btf.tar.xz", "..",
                        "/etc/passwd", "ubuntu/20.04/x86_64/.."}) {
    SCOPED_TRACE(p);
    auto r = parse_git_tree_listing(one(p), "evil.json");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_NE(r.error().message.find(p), std::string::npos)
        << r.error().message;
  }
  auto t = parse_git_tree_listing(R"({"sha":"x","tree":[],"truncated":true})",
                                  "t.json");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("truncated"), std::string::npos);
  auto g = parse_git_tree_listing("{\"tree\": [\n{]", "g.json");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("g.json:2"), std::string::npos)
      << g.error().message;
  EXPECT_FALSE(parse_git_tree_listing("{}", "e.json").ok());
  auto badsha = one("ubuntu/20.04/x86_64/a.btf.tar.xz");
  badsha.replace(badsha.find("0123"), 4, "XYZ!");
  EXPECT_FALSE(parse_git_tree_listing(badsha, "s.json").ok());
}

// Regression (found by fuzz/git_listing_fuzz): number overflow in a listing
// threw nlohmann's out_of_range out of the parser.
// 116 KB of gzipped brackets drove fetch to 4.5 GB and std::bad_alloc: the
// parser stops at the nesting limit and says so.
TEST(GitListing, DeepNestingIsRefusedBeforeItCostsMemory) {
  std::string deep = "{\"sha\":\"x\",\"tree\":" + std::string(200000, '[') +
                     std::string(200000, ']') + "}";
  auto r = parse_git_tree_listing(deep, "deep.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_NE(r.error().message.find("deep.json"), std::string::npos);
  EXPECT_NE(r.error().message.find("nested more than 64 levels"),
            std::string::npos)
      << r.error().message;
  auto i = Index::from_json(
      "{\"schema\":1,\"entries\":" + std::string(100000, '[') + "}",
      "deep-index.json");
  ASSERT_FALSE(i.ok());
  EXPECT_NE(i.error().message.find("nested more than 64"), std::string::npos)
      << i.error().message;
}

TEST(GitListing, NumberOverflowIsAnError) {
  auto r = parse_git_tree_listing(
      "{\"sha\": \"x\",\n\"tree\": [{\"path\":\"a/b/c/d.btf.tar.xz\","
      "\"type\":\"blob\",\"size\":54e753,\"sha\":\"0123\"}]}",
      "o.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_NE(r.error().message.find("o.json:2:"), std::string::npos)
      << r.error().message;
}
