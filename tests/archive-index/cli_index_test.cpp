// SPDX-License-Identifier: Apache-2.0
//
// `btfpack index` end to end: scan, incremental re-run, --list, filters,
// --listing, JSON output and errors.
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace btfpack;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
std::string cli() {
  return test::cli_path().string();
}
void write(const fs::path &p, const std::string &data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}
} // namespace

TEST(CliIndex, ScansWritesAndReusesIndex) {
  test::TempDir tmp;
  fs::path m = tmp / "m";
  write(m / "ubuntu/20.04/x86_64/5.4.0-99-generic.btf.tar.xz", "a");
  write(m / "ubuntu/20.04/x86_64/5.4.0-100-generic.btf.tar.xz", "b");
  write(m / "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64.btf.tar.xz", "c");
  write(m / "ubuntu/20.04/x86_64/junk.txt", "d");

  auto r = test::run({cli(), "--json", "index", m.string()});
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  auto doc = json::parse(r.out);
  ASSERT_EQ(doc["entries"].size(), 3u);
  EXPECT_EQ(doc["hashed_files"], 3);
  EXPECT_EQ(doc["warnings"].size(), 1u);
  EXPECT_EQ(doc["entries"][0]["distro"], "centos");
  // natural order: 99 before 100
  EXPECT_EQ(doc["entries"][1]["release"], "5.4.0-99-generic");
  EXPECT_EQ(doc["entries"][2]["release"], "5.4.0-100-generic");
  for (auto key :
       {"path", "distro", "version", "arch", "release", "size", "sha256"})
    EXPECT_TRUE(doc["entries"][0].contains(key)) << key;
  EXPECT_EQ(doc["entries"][1]["sha256"],
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
  ASSERT_TRUE(fs::exists(m / "index.json"));

  // incremental: nothing re-hashed; warnings in JSON, not on stderr
  auto again = test::run({cli(), "-j", "index", m.string()});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["hashed_files"], 0);
  EXPECT_EQ(again.err, "");

  // plain: table on stdout, the warning on stderr naming the path
  auto plain = test::run({cli(), "index", m.string()});
  ASSERT_EQ(plain.status, 0);
  EXPECT_NE(plain.out.find("DISTRO"), std::string::npos);
  EXPECT_NE(plain.out.find("5.4.0-100-generic"), std::string::npos);
  EXPECT_NE(plain.err.find("junk.txt"), std::string::npos);

  // --list with filters (aarch64 finds the arm64 alias and vice versa)
  auto list = test::run(
      {cli(), "-j", "index", "--list", m.string(), "--arch", "arm64"});
  ASSERT_EQ(list.status, 0) << list.err;
  auto ld = json::parse(list.out);
  ASSERT_EQ(ld["entries"].size(), 1u);
  EXPECT_EQ(ld["entries"][0]["arch"], "aarch64");
  auto glob =
      test::run({cli(), "-j", "index", "--list", m.string(), "--release",
                 "5.4.0-1*", "--distro", "ubuntu", "--version", "20.04"});
  ASSERT_EQ(glob.status, 0) << glob.err;
  ASSERT_EQ(json::parse(glob.out)["entries"].size(), 1u);
}

TEST(CliIndex, CorruptIndexOnListNamesTheLine) {
  test::TempDir tmp;
  fs::path m = tmp / "m";
  write(m / "ubuntu/20.04/x86_64/5.4.0-99-generic.btf.tar.xz", "a");
  write(m / "index.json",
        "{\"schema_version\":1,\n\"entries\":[\n{\"path\": oops}]}\n");
  auto r = test::run({cli(), "index", "--list", m.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find((m / "index.json").string() + ":3"), std::string::npos)
      << r.err;
  // a scan replaces a corrupt index, saying so
  auto s = test::run({cli(), "-j", "index", m.string()});
  ASSERT_EQ(s.status, 0) << s.err;
  auto doc = json::parse(s.out);
  EXPECT_EQ(doc["entries"].size(), 1u);
  EXPECT_EQ(doc["warnings"].size(), 1u);

  write(m / "index.json", "{\"schema_version\":9,\"entries\":[]}");
  auto v = test::run({cli(), "-j", "index", "--list", m.string()});
  EXPECT_EQ(v.status, 1);
  auto err = json::parse(v.out);
  EXPECT_EQ(err["code"], "unsupported");
  EXPECT_NE(err["error"].get<std::string>().find("version 9"),
            std::string::npos);
}

TEST(CliIndex, ReadsListing) {
  auto listing = test::data_dir() / "listing/corpus-tree.json";
  auto r = test::run({cli(), "-j", "index", "--listing", listing.string(),
                      "--distro", "kylin"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = json::parse(r.out);
  ASSERT_EQ(doc["entries"].size(), 3u);
  EXPECT_EQ(doc["entries"][0]["git_blob"].get<std::string>().size(), 40u);
  EXPECT_TRUE(doc["entries"][0]["sha256"].is_null());

  test::TempDir tmp;
  write(
      tmp / "evil.json",
      R"({"tree":[{"path":"../x/y/z/a.btf.tar.xz","type":"blob","size":1,"sha":"0123456789012345678901234567890123456789"}]})");
  auto e =
      test::run({cli(), "index", "--listing", (tmp / "evil.json").string()});
  EXPECT_EQ(e.status, 1);
  EXPECT_NE(e.err.find("../x/y/z/a.btf.tar.xz"), std::string::npos) << e.err;
}

TEST(CliIndex, CorpusScanMatchesIndexTsvThroughCli) {
  SKIP_UNLESS_CORPUS();
  auto r = test::run(
      {cli(), "-j", "index", "--no-write", test::corpus_archive().string()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = json::parse(r.out);
  ASSERT_EQ(doc["entries"].size(), 105u);
  std::ifstream in(test::corpus_dir() / "INDEX.tsv");
  std::string line;
  std::getline(in, line);
  std::map<std::string, std::string> want;
  while (std::getline(in, line)) {
    auto tab = line.find('\t');
    std::size_t pos = 0;
    for (int i = 0; i < 7; i++)
      pos = line.find('\t', pos) + 1;
    want[line.substr(0, tab)] = line.substr(pos, 64);
  }
  for (const auto &e : doc["entries"])
    EXPECT_EQ(e["sha256"], want[e["path"].get<std::string>()]);
  EXPECT_FALSE(fs::exists(test::corpus_archive() / "index.json"));
}

TEST(CliIndex, UsageErrors) {
  auto r = test::run({cli(), "index"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("DIR"), std::string::npos) << r.err;
  auto h = test::run({cli(), "index", "--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("--listing"), std::string::npos);
}
