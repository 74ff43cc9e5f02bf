// SPDX-License-Identifier: Apache-2.0
//
// The archive layout: which paths are entries, why the others are not, and
// filters.
#include <gtest/gtest.h>

#include "btfpack/archive_index.h"

using namespace btfpack;

TEST(ArchivePath, SplitsLayoutPath) {
  auto e = parse_archive_path("ubuntu/20.04/x86_64/5.4.0-1036-aws.btf.tar.xz");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->distro, "ubuntu");
  EXPECT_EQ(e->version, "20.04");
  EXPECT_EQ(e->arch, "x86_64");
  EXPECT_EQ(e->release, "5.4.0-1036-aws");
  EXPECT_EQ(e->path, "ubuntu/20.04/x86_64/5.4.0-1036-aws.btf.tar.xz");
  EXPECT_EQ(e->kernel_release().build(), "1036");

  auto k = parse_archive_path(
      "kylin/V10/aarch64/4.19.90-24.4.v2101.ky10.aarch64.btf.tar.xz");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->arch, "aarch64");
  EXPECT_EQ(k->release, "4.19.90-24.4.v2101.ky10.aarch64");
  auto d =
      parse_archive_path("debian/12/x86_64/6.12.107+deb12-amd64.btf.tar.xz");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->release, "6.12.107+deb12-amd64");
}

TEST(ArchivePath, RejectsWithReason) {
  struct Bad {
    const char *path, *why;
  } bad[] = {
      {"", "empty"},
      {"/ubuntu/20.04/x86_64/5.4.0-1.btf.tar.xz", "absolute"},
      {"ubuntu/20.04/5.4.0-1.btf.tar.xz", "wrong depth"},
      {"x/ubuntu/20.04/x86_64/5.4.0-1.btf.tar.xz", "wrong depth"},
      {"ubuntu/20.04/x86_64/5.4.0-1.btf", "wrong suffix"},
      {"ubuntu/20.04/x86_64/5.4.0-1.btf.tar.gz", "wrong suffix"},
      {"ubuntu/20.04/x86_64/.btf.tar.xz", "hidden"},
      {"ubuntu/20.04/x86_64/.5.4.0-1.btf.tar.xz", "hidden"},
      {".git/20.04/x86_64/5.4.0-1.btf.tar.xz", "hidden"},
      {"ubuntu/../x86_64/5.4.0-1.btf.tar.xz", "'..'"},
      {"ubuntu/./x86_64/5.4.0-1.btf.tar.xz", "'.'"},
      {"ubuntu//x86_64/5.4.0-1.btf.tar.xz", "empty path component"},
      {"ubuntu/20.04/x86_64/5.4.0-1.btf.tar.xz/", "empty path component"},
      {"ubuntu/20.04/x86_64/5.4\n.btf.tar.xz", "control character"},
      // Names a bundle cannot hold (bug: accepted, then gen failed at the
      // end with every kernel minimized).
      {"my distro/12/x86_64/6.1.0-1-amd64.btf.tar.xz", "distro 'my distro'"},
      {"d\xc3\xa9bian/12/x86_64/6.1.0-1-amd64.btf.tar.xz", "a bundle cannot"},
      {"debian/1 2/x86_64/6.1.0-1-amd64.btf.tar.xz", "version '1 2'"},
      {"debian/12/x86_64/6.1.0 1.btf.tar.xz", "release '6.1.0 1'"},
  };
  for (const auto &b : bad) {
    SCOPED_TRACE(b.path);
    auto r = parse_archive_path(b.path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find(b.why), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(b.path), std::string::npos)
        << r.error().message;
  }
}

namespace {
IndexEntry entry(const char *path) {
  auto e = parse_archive_path(path);
  EXPECT_TRUE(e.ok()) << path;
  return e.ok() ? e.value() : IndexEntry{};
}
} // namespace

TEST(ArchivePath, FilterMatchesFieldsAliasesAndGlob) {
  Index idx;
  idx.entries = {
      entry("ubuntu/20.04/x86_64/5.4.0-1036-aws.btf.tar.xz"),
      entry("ubuntu/20.04/x86_64/5.4.0-1065-gke.btf.tar.xz"),
      entry("ubuntu/18.04/x86_64/4.15.0-1054-aws.btf.tar.xz"),
      entry("centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64.btf.tar.xz"),
      entry("debian/12/arm64/6.1.0-47-arm64.btf.tar.xz"),
  };
  EXPECT_EQ(idx.select({}).size(), 5u);
  EXPECT_EQ(idx.select({"ubuntu", "", "", ""}).size(), 3u);
  EXPECT_EQ(idx.select({"ubuntu", "20.04", "", ""}).size(), 2u);
  EXPECT_EQ(idx.select({"", "", "", "*-aws"}).size(), 2u);
  EXPECT_EQ(idx.select({"", "", "", "5.4.0-*"}).size(), 2u);
  // the fork's aarch64 folder and upstream's arm64 folder are one arch
  EXPECT_EQ(idx.select({"", "", "arm64", ""}).size(), 2u);
  EXPECT_EQ(idx.select({"", "", "aarch64", ""}).size(), 2u);
  EXPECT_EQ(idx.select({"", "", "x86_64", ""}).size(), 3u);
  EXPECT_TRUE(idx.select({"fedora", "", "", ""}).empty());
  EXPECT_TRUE(Filter{}.empty());
  EXPECT_FALSE((Filter{"", "", "", "x"}).empty());
}

TEST(ArchivePath, IndexSortsNaturallyAndFindsPaths) {
  Index idx;
  idx.entries = {
      entry("ubuntu/20.04/x86_64/5.4.0-100-generic.btf.tar.xz"),
      entry("ubuntu/20.04/x86_64/5.4.0-99-generic.btf.tar.xz"),
      entry("ubuntu/18.04/x86_64/4.15.0-1054-aws.btf.tar.xz"),
      entry("amzn/2/x86_64/4.14.262-200.489.amzn2.x86_64.btf.tar.xz"),
  };
  idx.sort();
  EXPECT_EQ(idx.entries[0].distro, "amzn");
  EXPECT_EQ(idx.entries[1].version, "18.04");
  EXPECT_EQ(idx.entries[2].release, "5.4.0-99-generic");
  EXPECT_EQ(idx.entries[3].release, "5.4.0-100-generic");
  for (std::size_t i = 0; i + 1 < idx.entries.size(); i++)
    EXPECT_TRUE(entry_less(idx.entries[i], idx.entries[i + 1]));
  ASSERT_NE(idx.find_path("ubuntu/18.04/x86_64/4.15.0-1054-aws.btf.tar.xz"),
            nullptr);
  EXPECT_EQ(idx.find_path("ubuntu/18.04/x86_64/nope.btf.tar.xz"), nullptr);
}
