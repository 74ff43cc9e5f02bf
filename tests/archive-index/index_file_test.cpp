// SPDX-License-Identifier: Apache-2.0
//
// The index file: round trip, and errors that name the file and the line.
#include <gtest/gtest.h>

#include "btfpack/archive_index.h"
#include "btfpack/file_util.h"
#include "test_util.h"

using namespace btfpack;

namespace {

Index sample() {
  Index idx;
  idx.source = "/srv/mirror";
  for (const char *p :
       {"ubuntu/20.04/x86_64/5.4.0-1036-aws.btf.tar.xz",
        "debian/12/x86_64/6.12.107+deb12-amd64.btf.tar.xz",
        "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64.btf.tar.xz"}) {
    auto e = parse_archive_path(p);
    EXPECT_TRUE(e.ok());
    e->size = 1000 + idx.entries.size();
    e->sha256 = std::string(64, 'a' + static_cast<char>(idx.entries.size()));
    e->mtime_ns = 1700000000123456789 + static_cast<long>(idx.entries.size());
    idx.entries.push_back(e.value());
  }
  idx.entries[2].git_blob = std::string(40, 'f');
  idx.sort();
  return idx;
}

std::string replace(std::string s, const std::string &from,
                    const std::string &to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos)
    s.replace(p, from.size(), to);
  return s;
}

} // namespace

TEST(IndexFile, RoundTripsThroughJsonAndDisk) {
  auto idx = sample();
  for (bool pretty : {true, false}) {
    auto back = Index::from_json(idx.to_json(pretty), "mem");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->source, idx.source);
    ASSERT_EQ(back->entries.size(), idx.entries.size());
    for (std::size_t i = 0; i < idx.entries.size(); i++) {
      const auto &a = idx.entries[i], &b = back->entries[i];
      EXPECT_EQ(a.path, b.path);
      EXPECT_EQ(a.distro, b.distro);
      EXPECT_EQ(a.version, b.version);
      EXPECT_EQ(a.arch, b.arch);
      EXPECT_EQ(a.release, b.release);
      EXPECT_EQ(a.size, b.size);
      EXPECT_EQ(a.sha256, b.sha256);
      EXPECT_EQ(a.git_blob, b.git_blob);
      EXPECT_EQ(a.mtime_ns, b.mtime_ns);
    }
  }
  test::TempDir tmp;
  ASSERT_TRUE(idx.write_file(tmp / "index.json").ok());
  auto r = Index::read_file(tmp / "index.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries.size(), 3u);
  // nothing but the file itself is left in the directory
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(IndexFile, OneEntryPerLine) {
  auto text = sample().to_json(true);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);
}

TEST(IndexFile, SyntaxErrorNamesFileAndLine) {
  auto text = sample().to_json(true);
  // Line 3 is the second entry: cut a quote out of it.
  std::size_t l3 = text.find('\n', text.find('\n') + 1) + 1;
  text.erase(text.find("\"size\"", l3), 1);
  auto r = Index::from_json(text, "/m/index.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_NE(r.error().message.find("/m/index.json:3:"), std::string::npos)
      << r.error().message;

  auto trunc = Index::from_json(text.substr(0, 40), "cut.json");
  ASSERT_FALSE(trunc.ok());
  EXPECT_NE(trunc.error().message.find("cut.json:1:"), std::string::npos)
      << trunc.error().message;
}

TEST(IndexFile, BadEntryNamesItsLine) {
  auto text = sample().to_json(true);
  // The third entry (line 4) gets a negative size.
  auto idx = sample();
  text = replace(text, "\"size\":1002", "\"size\":-5");
  auto r = Index::from_json(text, "x.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_NE(r.error().message.find("x.json:"), std::string::npos);
  EXPECT_NE(r.error().message.find("size"), std::string::npos)
      << r.error().message;
  // the line is the one holding that entry
  std::size_t pos = text.find("\"size\":-5");
  auto line = 1 + std::count(text.begin(), text.begin() + pos, '\n');
  EXPECT_NE(r.error().message.find("x.json:" + std::to_string(line) + ":"),
            std::string::npos)
      << r.error().message;
}

TEST(IndexFile, RefusesInconsistentOrUnsafeEntries) {
  auto base = sample().to_json(true);
  struct Bad {
    std::string from, to, why;
  } bad[] = {
      {"\"distro\":\"ubuntu\"", "\"distro\":\"debian\"", "path says"},
      {"\"path\":\"ubuntu/20.04", "\"path\":\"../20.04", "'..'"},
      {"\"path\":\"ubuntu/20.04/x86_64/", "\"path\":\"/etc/", "absolute"},
      {"\"sha256\":\"aaaa", "\"sha256\":\"AAAA", "sha256"},
      {"\"size\":1000", "\"size\":\"1000\"", "size"},
  };
  for (const auto &b : bad) {
    SCOPED_TRACE(b.to);
    auto r = Index::from_json(replace(base, b.from, b.to), "i.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(b.why), std::string::npos)
        << r.error().message;
  }
  // duplicate entries
  auto dup = base;
  auto first = dup.find("\n{") + 1;
  auto end = dup.find("},", first) + 1; // entry lines end in "},"
  dup.insert(end, "," + dup.substr(first, end - first));
  auto r = Index::from_json(dup, "d.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("duplicate"), std::string::npos);
}

TEST(IndexFile, UnknownSchemaVersionRefusedNamingIt) {
  auto text = replace(sample().to_json(true), "\"schema_version\":1",
                      "\"schema_version\":7");
  auto r = Index::from_json(text, "new.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unsupported);
  EXPECT_NE(r.error().message.find("version 7"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("new.json"), std::string::npos);

  auto none = Index::from_json("{\"entries\":[]}", "old.json");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("schema_version"), std::string::npos);
  EXPECT_FALSE(Index::from_json("[]", "a.json").ok());
}

TEST(IndexFile, MissingFileIsNotFound) {
  auto r = Index::read_file("/nonexistent/index.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_NE(r.error().message.find("/nonexistent/index.json"),
            std::string::npos);
}

// Regression (found by fuzz/index_file_fuzz): a number too large for a
// double made nlohmann throw out_of_range, which escaped as an exception.
TEST(IndexFile, NumberOverflowIsAnErrorNamingTheLine) {
  for (std::string num : {"69e6187", "1e999", "-1e400"}) {
    SCOPED_TRACE(num);
    auto r =
        Index::from_json("{\"schema_version\":1,\n\"entries\":[\n{\"path\":"
                         "\"a/b/c/d.btf.tar.xz\",\"size\":" +
                             num + "}]}",
                         "o.json");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_NE(r.error().message.find("o.json:3:"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("overflow"), std::string::npos);
  }
}

TEST(IndexFile, ReadsCommittedSample) {
  auto r = Index::read_file(test::data_dir() / "index/corpus-sample.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->entries.size(), 8u);
  EXPECT_EQ(r->source, "../shared/corpus/archive");
  const auto *u = r->find_path("ubuntu/20.04/x86_64/5.4.0-1029-aws.btf.tar.xz");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->size, 1063824u);
  EXPECT_EQ(u->sha256,
            "0ee4e138920c9d49c8ef2c4ca57afe26aede13370c7799301fa72ff51007d398");
  EXPECT_EQ(u->kernel_release().flavour(), "aws");
  // the strict reader agrees with the fast one on the same file
  auto text = read_text_file(test::data_dir() / "index/corpus-sample.json");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(r->to_json(), Index::from_json(*text, "x")->to_json());
}
