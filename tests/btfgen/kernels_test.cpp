// SPDX-License-Identifier: Apache-2.0
#include <ctime>
#include <gtest/gtest.h>
#include <set>

#include "btfpack/btfgen.h"
#include "btfpack/file_util.h"
#include "test_util.h"

namespace btfpack::btfgen {
namespace {

using namespace btfpack::test;

TEST(Shard, ParseAndPartition) {
  EXPECT_FALSE(Shard::parse("0/2").ok());
  EXPECT_FALSE(Shard::parse("3/2").ok());
  EXPECT_FALSE(Shard::parse("1/").ok());
  EXPECT_FALSE(Shard::parse("1-2").ok());
  EXPECT_FALSE(Shard::parse("1/2x").ok());
  auto s = Shard::parse("2/3");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->k, 2u);
  EXPECT_EQ(s->n, 3u);
  // Every kernel lands in exactly one shard, and not all in one.
  std::vector<std::size_t> counts(3);
  for (int i = 0; i < 300; i++) {
    KernelKey k{"ubuntu", "20.04", "x86_64", "5.4.0-" + std::to_string(i)};
    int hits = 0;
    for (unsigned j = 1; j <= 3; j++)
      if (Shard{j, 3}.contains(k)) {
        hits++;
        counts[j - 1]++;
      }
    EXPECT_EQ(hits, 1);
  }
  for (auto c : counts)
    EXPECT_GT(c, 50u);
}

TEST(Custom, ExtraSpec) {
  TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "v.btf", std::string("x")).ok());
  auto k = parse_extra_kernel("debian/12/x86_64/6.1.0-9-amd64=" +
                              (dir / "v.btf").string());
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->key.release, "6.1.0-9-amd64");
  EXPECT_FALSE(k->packed);
  EXPECT_EQ(k->source, "custom");
  EXPECT_FALSE(parse_extra_kernel("debian/12/x86_64=/x").ok());
  EXPECT_FALSE(parse_extra_kernel("debian/12/x86_64/r").ok());
  EXPECT_FALSE(parse_extra_kernel("debian/../x86_64/r=/x").ok());
  EXPECT_FALSE(parse_extra_kernel("debian/12/x86_64/r=/nonexistent").ok());
}

TEST(Custom, DirLayout) {
  TempDir dir;
  fs::create_directories(dir / "acme/3/x86_64");
  for (const char *f : {"5.15.0-acme1.btf", "5.15.0-acme2.btf.tar.xz",
                        "vmlinux-5.15.0-acme3", "notes.txt"})
    ASSERT_TRUE(
        write_file_atomic(dir / "acme/3/x86_64" / f, std::string("x")).ok());
  auto ks = scan_custom_dir(dir.path());
  ASSERT_TRUE(ks.ok()) << ks.error().message;
  std::set<std::string> rel;
  for (const auto &k : *ks) {
    rel.insert(k.key.release);
    EXPECT_EQ(k.key.distro, "acme");
    EXPECT_EQ(k.packed, k.key.release == "5.15.0-acme2");
  }
  EXPECT_EQ(rel, (std::set<std::string>{"5.15.0-acme1", "5.15.0-acme2",
                                        "5.15.0-acme3"}));
  EXPECT_FALSE(scan_custom_dir(dir / "missing").ok());
}

TEST(Expiry, Forms) {
  EXPECT_EQ(*parse_expiry("never", 100), 0);
  EXPECT_EQ(*parse_expiry("@500", 100), 500);
  EXPECT_EQ(*parse_expiry("2d", 100), 100 + 2 * 86400);
  // No recorded creation time (no SOURCE_DATE_EPOCH): counts from now.
  auto before = static_cast<std::int64_t>(std::time(nullptr));
  auto three_hours = *parse_expiry("3h", 0);
  auto after = static_cast<std::int64_t>(std::time(nullptr));
  EXPECT_GE(three_hours, before + 3 * 3600);
  EXPECT_LE(three_hours, after + 3 * 3600);
  EXPECT_FALSE(parse_expiry("soon", 0).ok());
  EXPECT_FALSE(parse_expiry("5y", 0).ok());
}

} // namespace
} // namespace btfpack::btfgen
