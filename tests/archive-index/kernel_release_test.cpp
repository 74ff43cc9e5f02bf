// SPDX-License-Identifier: Apache-2.0
//
// KernelRelease over real release strings of the archive's distros: parsed
// fields, exact round trip and the natural order.
#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "btfpack/kernel_release.h"
#include "btfpack/text_util.h"
#include "test_util.h"

using namespace btfpack;

namespace {

struct Case {
  const char *release;
  std::vector<std::uint64_t> version; // empty: opaque
  const char *build;
  const char *flavour;
  const char *arch;
  std::vector<std::string> markers;
};

// Real `uname -r` strings (and archive labels) of the distros btfhub-archive
// carries.
const std::vector<Case> &cases() {
  static const std::vector<Case> c = {
      // ubuntu
      {"5.4.0-1036-aws", {5, 4, 0}, "1036", "aws", "", {}},
      {"5.4.0-99-generic", {5, 4, 0}, "99", "generic", "", {}},
      {"5.4.0-100-generic", {5, 4, 0}, "100", "generic", "", {}},
      {"5.15.0-1019-azure", {5, 15, 0}, "1019", "azure", "", {}},
      {"5.4.0-1065-gke", {5, 4, 0}, "1065", "gke", "", {}},
      {"4.15.0-1084-fips", {4, 15, 0}, "1084", "fips", "", {}},
      {"5.15.0-1034-azure-fips", {5, 15, 0}, "1034", "azure-fips", "", {}},
      {"6.8.0-1008-generic-64k", {6, 8, 0}, "1008", "generic-64k", "", {}},
      {"5.4.0-42-lowlatency", {5, 4, 0}, "42", "lowlatency", "", {}},
      {"4.15.0-1054-aws", {4, 15, 0}, "1054", "aws", "", {}},
      // centos / rhel
      {"3.10.0-1160.el7.x86_64", {3, 10, 0}, "1160.el7", "", "x86_64", {"el7"}},
      {"3.10.0-1160.2.1.el7.x86_64",
       {3, 10, 0},
       "1160.2.1.el7",
       "",
       "x86_64",
       {"el7"}},
      {"4.18.0-372.52.1.el8_6.x86_64",
       {4, 18, 0},
       "372.52.1.el8_6",
       "",
       "x86_64",
       {"el8_6"}},
      {"4.18.0-305.3.1.el8.x86_64",
       {4, 18, 0},
       "305.3.1.el8",
       "",
       "x86_64",
       {"el8"}},
      {"4.18.0-147.5.1.el8_1.aarch64",
       {4, 18, 0},
       "147.5.1.el8_1",
       "",
       "aarch64",
       {"el8_1"}},
      {"5.14.0-284.11.1.el9_2.x86_64",
       {5, 14, 0},
       "284.11.1.el9_2",
       "",
       "x86_64",
       {"el9_2"}},
      {"4.18.0-305.rt7.72.el8.x86_64",
       {4, 18, 0},
       "305.rt7.72.el8",
       "rt",
       "x86_64",
       {"el8"}},
      {"4.18.0-305.el8.x86_64+debug",
       {4, 18, 0},
       "305.el8",
       "debug",
       "x86_64",
       {"el8"}},
      {"5.14.0-284.el9.aarch64+64k",
       {5, 14, 0},
       "284.el9",
       "64k",
       "aarch64",
       {"el9"}},
      // fedora
      {"6.2.9-300.fc38.x86_64", {6, 2, 9}, "300.fc38", "", "x86_64", {"fc38"}},
      {"5.6.6-300.fc32.aarch64",
       {5, 6, 6},
       "300.fc32",
       "",
       "aarch64",
       {"fc32"}},
      // amazon linux
      {"4.14.106-79.86.amzn1.x86_64",
       {4, 14, 106},
       "79.86.amzn1",
       "",
       "x86_64",
       {"amzn1"}},
      {"4.14.101-91.76.amzn2.aarch64",
       {4, 14, 101},
       "91.76.amzn2",
       "",
       "aarch64",
       {"amzn2"}},
      {"5.10.184-175.731.amzn2.x86_64",
       {5, 10, 184},
       "175.731.amzn2",
       "",
       "x86_64",
       {"amzn2"}},
      {"6.1.34-59.116.amzn2023.x86_64",
       {6, 1, 34},
       "59.116.amzn2023",
       "",
       "x86_64",
       {"amzn2023"}},
      // oracle linux UEK
      {"5.4.17-2136.300.7.el8uek.x86_64",
       {5, 4, 17},
       "2136.300.7.el8uek",
       "",
       "x86_64",
       {"el8", "uek"}},
      {"4.14.35-2047.510.5.5.el7uek.x86_64",
       {4, 14, 35},
       "2047.510.5.5.el7uek",
       "",
       "x86_64",
       {"el7", "uek"}},
      // debian
      {"6.12.107+deb12-amd64", {6, 12, 107}, "deb12", "", "amd64", {"deb12"}},
      {"6.12.107+deb12-cloud-amd64",
       {6, 12, 107},
       "deb12",
       "cloud",
       "amd64",
       {"deb12"}},
      {"6.12.115+deb12-rt-arm64",
       {6, 12, 115},
       "deb12",
       "rt",
       "arm64",
       {"deb12"}},
      {"6.1.0-47-cloud-amd64", {6, 1, 0}, "47", "cloud", "amd64", {}},
      {"6.1.0-47-rt-arm64", {6, 1, 0}, "47", "rt", "arm64", {}},
      {"6.1.0-56-arm64", {6, 1, 0}, "56", "", "arm64", {}},
      {"5.10.0-30-amd64", {5, 10, 0}, "30", "", "amd64", {}},
      {"4.19.0-21-amd64", {4, 19, 0}, "21", "", "amd64", {}},
      {"5.10.0-0.bpo.15-amd64", {5, 10, 0}, "0.bpo.15", "", "amd64", {}},
      {"4.19.0-6-686-pae", {4, 19, 0}, "6", "", "686-pae", {}},
      // sles / opensuse
      {"5.3.18-150300.59.87-default",
       {5, 3, 18},
       "150300.59.87",
       "default",
       "",
       {}},
      {"5.14.21-150400.24.46-default",
       {5, 14, 21},
       "150400.24.46",
       "default",
       "",
       {}},
      {"4.12.14-122.37-azure", {4, 12, 14}, "122.37", "azure", "", {}},
      {"5.3.18-lp152.19-default",
       {5, 3, 18},
       "lp152.19",
       "default",
       "",
       {"lp152"}},
      // kylin, openEuler, bclinux, anolis
      {"4.19.90-24.4.v2101.ky10.aarch64",
       {4, 19, 90},
       "24.4.v2101.ky10",
       "",
       "aarch64",
       {"ky10"}},
      {"4.19.90-52.22.v2207.ky10.aarch64",
       {4, 19, 90},
       "52.22.v2207.ky10",
       "",
       "aarch64",
       {"ky10"}},
      {"4.19.90-2107.6.0.0248.35.oe1.bclinux.x86_64",
       {4, 19, 90},
       "2107.6.0.0248.35.oe1.bclinux",
       "",
       "x86_64",
       {"oe1", "bclinux"}},
      {"5.10.0-60.18.0.50.oe2203.x86_64",
       {5, 10, 0},
       "60.18.0.50.oe2203",
       "",
       "x86_64",
       {"oe2203"}},
      {"4.19.91-26.an8.x86_64", {4, 19, 91}, "26.an8", "", "x86_64", {"an8"}},
      // android: archive labels are not uname strings (opaque); a real
      // GKI uname keeps its build with the git hash
      {"a12-5.10-2022-03-arm64", {}, "", "", "", {}},
      {"a13-5.10-lts-arm64", {}, "", "", "", {}},
      {"5.10.107-android13-4-00001-g1c3b5a7e9d2f",
       {5, 10, 107},
       "android13-4-00001-g1c3b5a7e9d2f",
       "",
       "",
       {}},
      // upstream
      {"6.18.0", {6, 18, 0}, "", "", "", {}},
      {"6.18.0-rc3", {6, 18, 0}, "rc3", "", "", {}},
  };
  return c;
}

} // namespace

// The splitter the release parser and os-release's ID_LIKE share.
TEST(SplitAny, KeepsPositionsOrDropsEmptyParts) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(split_any("5.10.0-32-amd64", ".-", EmptyParts::keep),
            (V{"5", "10", "0", "32", "amd64"}));
  EXPECT_EQ(split_any("a..b-", ".-", EmptyParts::keep), (V{"a", "", "b", ""}));
  EXPECT_EQ(split_any("", ".", EmptyParts::keep), (V{""}));
  EXPECT_EQ(split_any("a..b-", ".-", EmptyParts::drop), (V{"a", "b"}));
  EXPECT_EQ(split_any(" rhel\tcentos  fedora\n", " \t\n", EmptyParts::drop),
            (V{"rhel", "centos", "fedora"}));
  EXPECT_TRUE(split_any("", ".", EmptyParts::drop).empty());
}

TEST(KernelRelease, TableHasFortyRealReleases) {
  EXPECT_GE(cases().size(), 40u);
}

TEST(KernelRelease, ParsesFieldsOfRealReleases) {
  for (const auto &c : cases()) {
    SCOPED_TRACE(c.release);
    auto k = KernelRelease::parse(c.release);
    EXPECT_EQ(k.str(), c.release);
    EXPECT_EQ(k.opaque(), c.version.empty());
    EXPECT_EQ(k.version(), c.version);
    EXPECT_EQ(k.build(), c.build);
    EXPECT_EQ(k.flavour(), c.flavour);
    EXPECT_EQ(k.arch(), c.arch);
    EXPECT_EQ(k.distro_markers(), c.markers);
  }
}

TEST(KernelRelease, RoundTripsAnyString) {
  for (std::string s : std::vector<std::string>{
           "", "5", "5.", "5.4.", "..", "-", "5.4.0-", "linux", "5.10abc",
           "99999999999999999999999.1", "5.4.0-1036-aws\n", "rel with space",
           std::string("a\0b", 3), "\xff\xfe"}) {
    auto k = KernelRelease::parse(s);
    EXPECT_EQ(k.str(), s);
    EXPECT_EQ(k, KernelRelease::parse(s));
  }
  EXPECT_TRUE(KernelRelease::parse("5").opaque());
  EXPECT_TRUE(KernelRelease::parse("5.10abc").opaque());
  EXPECT_TRUE(KernelRelease::parse("99999999999999999999999.1").opaque());
  EXPECT_FALSE(KernelRelease::parse("5.4").opaque());
}

TEST(KernelRelease, OrdersNumericallyNotLexically) {
  auto lt = [](const char *a, const char *b) {
    return KernelRelease::parse(a) < KernelRelease::parse(b);
  };
  EXPECT_TRUE(lt("5.4.0-99-generic", "5.4.0-100-generic"));
  EXPECT_TRUE(lt("5.4.0-99", "5.4.0-100"));
  EXPECT_TRUE(lt("4.9.0-19-amd64", "4.14.35-2047.510.5.5.el7uek.x86_64"));
  EXPECT_TRUE(lt("6.1.0-56-amd64", "6.12.107+deb12-amd64"));
  EXPECT_TRUE(lt("3.10.0-1160.el7.x86_64", "3.10.0-1160.2.1.el7.x86_64"));
  EXPECT_TRUE(lt("4.18.0-305.3.1.el8.x86_64", "4.18.0-305.10.2.el8.x86_64"));
  EXPECT_TRUE(lt("6.1.0-47-amd64", "6.1.0-47-cloud-amd64"));
  EXPECT_TRUE(lt("6.1.0-47-cloud-amd64", "6.1.0-50-amd64"));
  EXPECT_TRUE(
      lt("4.14.336-256.559.amzn2.x86_64", "4.14.336-257.562.amzn2.x86_64"));
  EXPECT_TRUE(lt("4.19.90-24.4.v2101.ky10.aarch64",
                 "4.19.90-25.41.v2101.ky10.aarch64"));
  // parsed before opaque; opaque labels among themselves naturally
  EXPECT_TRUE(lt("6.18.0", "a12-5.10-2021-09-arm64"));
  EXPECT_TRUE(lt("a12-5.10-2021-09-arm64", "a12-5.10-2022-03-arm64"));
  EXPECT_TRUE(lt("a12-5.10-2023-04-arm64", "a13-5.10-2022-04-arm64"));
}

TEST(KernelRelease, EqualOnlyWhenIdentical) {
  auto a = KernelRelease::parse("5.4.0-01-generic");
  auto b = KernelRelease::parse("5.4.0-1-generic");
  EXPECT_NE(a, b);
  EXPECT_TRUE((a <=> b) != 0);
  EXPECT_EQ((a <=> b) == std::strong_ordering::less,
            (b <=> a) == std::strong_ordering::greater);
  EXPECT_NE(KernelRelease::parse("a12-5.10-lts-arm64"),
            KernelRelease::parse("a13-5.10-lts-arm64"));
  EXPECT_EQ(KernelRelease::parse("a12-5.10-lts-arm64"),
            KernelRelease::parse("a12-5.10-lts-arm64"));
}

namespace {
std::vector<std::string> corpus_releases() {
  std::vector<std::string> out;
  std::ifstream in(test::corpus_dir() / "INDEX.tsv");
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string f;
    std::vector<std::string> fields;
    while (std::getline(ls, f, '\t'))
      fields.push_back(f);
    if (fields.size() > 4)
      out.push_back(fields[4]);
  }
  return out;
}
} // namespace

TEST(KernelRelease, EveryCorpusReleaseParses) {
  SKIP_UNLESS_CORPUS();
  auto rels = corpus_releases();
  ASSERT_EQ(rels.size(), 105u);
  for (const auto &r : rels) {
    SCOPED_TRACE(r);
    auto k = KernelRelease::parse(r);
    EXPECT_EQ(k.str(), r);
    // Only the Android build labels are not uname strings.
    EXPECT_EQ(k.opaque(), r[0] == 'a');
    if (!k.opaque()) {
      EXPECT_GE(k.version().size(), 3u);
      EXPECT_FALSE(k.build().empty());
    }
    if (r.find("-cloud-") != std::string::npos) {
      EXPECT_EQ(k.flavour(), "cloud");
    }
    if (r.find("-rt-") != std::string::npos) {
      EXPECT_EQ(k.flavour(), "rt");
    }
    if (r.ends_with("amd64") && !k.opaque()) {
      EXPECT_EQ(k.arch(), "amd64");
    }
  }
}

TEST(KernelRelease, OrderIsTotalAndConsistent) {
  std::vector<KernelRelease> ks;
  for (const auto &c : cases())
    ks.push_back(KernelRelease::parse(c.release));
  if (test::has_corpus())
    for (const auto &r : corpus_releases())
      ks.push_back(KernelRelease::parse(r));
  for (const auto &a : ks) {
    EXPECT_TRUE((a <=> a) == 0);
    for (const auto &b : ks) {
      auto ab = a <=> b, ba = b <=> a;
      EXPECT_EQ(ab == 0, a.str() == b.str()) << a.str() << " vs " << b.str();
      EXPECT_EQ(ab<0, ba> 0) << a.str() << " vs " << b.str();
    }
  }
  // Transitivity, checked through sorting: every adjacent pair is ordered
  // and the sorted order is the same from any starting permutation.
  auto sorted = ks;
  std::sort(sorted.begin(), sorted.end());
  auto rev = ks;
  std::reverse(rev.begin(), rev.end());
  std::sort(rev.begin(), rev.end());
  ASSERT_EQ(sorted.size(), rev.size());
  for (std::size_t i = 0; i < sorted.size(); i++)
    EXPECT_EQ(sorted[i].str(), rev[i].str());
  for (std::size_t i = 0; i + 1 < sorted.size(); i++)
    for (std::size_t j = i + 1; j < sorted.size(); j++)
      ASSERT_LE(sorted[i], sorted[j])
          << sorted[i].str() << " / " << sorted[j].str();
}

TEST(KernelRelease, NaturalCompare) {
  EXPECT_TRUE(natural_compare("5.4.0-99", "5.4.0-100") < 0);
  EXPECT_TRUE(natural_compare("20.04", "18.04") > 0);
  EXPECT_TRUE(natural_compare("7", "8") < 0);
  EXPECT_TRUE(natural_compare("V10", "V11") < 0);
  EXPECT_TRUE(natural_compare("V9", "V10") < 0);
  EXPECT_TRUE(natural_compare("01", "1") != 0);
  EXPECT_TRUE(natural_compare("abc", "abc") == 0);
  // digit runs longer than any integer type
  EXPECT_TRUE(natural_compare("99999999999999999999998",
                              "99999999999999999999999") < 0);
}

TEST(KernelRelease, ArchiveArchAndAliases) {
  EXPECT_EQ(archive_arch("aarch64"), "arm64");
  EXPECT_EQ(archive_arch("arm64"), "arm64");
  EXPECT_EQ(archive_arch("x86_64"), "x86_64");
  EXPECT_EQ(archive_arch("amd64"), "x86_64");
  EXPECT_EQ(archive_arch("s390x"), "s390x");
  auto a = arch_aliases("aarch64");
  EXPECT_NE(std::find(a.begin(), a.end(), "arm64"), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "aarch64"), a.end());
  EXPECT_EQ(a.front(), "arm64");
  auto b = arch_aliases("arm64");
  EXPECT_NE(std::find(b.begin(), b.end(), "aarch64"), b.end());
  EXPECT_EQ(arch_aliases("x86_64").front(), "x86_64");
}

// The one distro-marker table holds the union of what the release parser
// and the matcher each knew: ph (photon) from the matcher, lp/al/uel/ctl/tl
// from the parser; both read it, so a marker one finds the other knows.
TEST(DistroMarkers, OneTableIsTheUnionOfParserAndMatcher) {
  auto join = [](const std::vector<std::string> &v) {
    std::string s;
    for (const auto &x : v)
      s += (s.empty() ? "" : " ") + x;
    return s;
  };
  struct M {
    const char *release, *marker, *distros, *version;
  };
  for (const M &m : {
           M{"4.18.0-305.3.1.el8_4.x86_64", "el8_4",
             "rhel centos rocky almalinux ol oracle eurolinux circle "
             "virtuozzo",
             "8"},
           M{"4.14.336-257.562.amzn2.x86_64", "amzn2", "amzn", "2"},
           M{"6.5.6-300.fc39.x86_64", "fc39", "fedora", "39"},
           M{"4.19.0-ky10.aarch64", "ky10", "kylin", ""},
           M{"5.10.0-60.18.0.50.oe2203.x86_64", "oe2203", "openeuler bclinux",
             ""},
           M{"4.19.91-26.an8.x86_64", "an8", "anolis", ""},
           M{"5.10.4-16.ph4", "ph4", "photon", ""},
           M{"5.3.18-lp152.19-default", "lp152", "", ""},
           M{"5.10.134-13.al8.x86_64", "al8", "", ""},
           M{"4.19.90-2102.2.0.0062.uel20.x86_64", "uel20", "", ""},
           M{"5.10.0-136.12.0.86.ctl2.x86_64", "ctl2", "", ""},
           M{"5.4.119-19.0009.tl3.x86_64", "tl3", "", ""},
       }) {
    auto k = KernelRelease::parse(m.release);
    EXPECT_NE(std::find(k.distro_markers().begin(), k.distro_markers().end(),
                        m.marker),
              k.distro_markers().end())
        << m.release;
    ASSERT_NE(find_distro_marker(m.marker), nullptr) << m.marker;
    EXPECT_EQ(join(marker_distros(m.marker)), m.distros) << m.marker;
    EXPECT_EQ(marker_version(m.marker), m.version) << m.marker;
  }
  EXPECT_EQ(marker_distros("uek"), std::vector<std::string>{"ol"});
  EXPECT_EQ(marker_distros("bclinux"), std::vector<std::string>{"bclinux"});
  EXPECT_EQ(marker_distros("amzn"), std::vector<std::string>{"amzn"});
  EXPECT_EQ(find_distro_marker("generic"), nullptr);
  EXPECT_EQ(find_distro_marker("ph"), nullptr); // a prefix needs its digits
  EXPECT_EQ(distro_marker_table().size(), 15u);
}
