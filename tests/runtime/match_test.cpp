// SPDX-License-Identifier: Apache-2.0
// The matching policy on plain entry lists (keys as the corpus spells
// them); resolve_test.cpp runs the same policy against a real bundle.
#include <gtest/gtest.h>

#include "btfpack/match.h"

using namespace btfpack;

namespace {

Sha256 blob(std::uint8_t n) {
  Sha256 d{};
  d.fill(n);
  return d;
}

BundleEntry e(std::string d, std::string v, std::string a, std::string r,
              std::uint8_t b) {
  return BundleEntry{KernelKey{d, v, a, r}, blob(b)};
}

std::vector<BundleEntry> entries() {
  std::vector<BundleEntry> v = {
      e("amzn", "2", "x86_64", "4.14.256-197.484.amzn2.x86_64", 1),
      e("amzn", "2", "x86_64", "4.14.262-200.489.amzn2.x86_64", 2),
      e("centos", "7", "x86_64", "3.10.0-1160.el7.x86_64", 3),
      e("centos", "8", "aarch64", "4.18.0-147.5.1.el8_1.aarch64", 4),
      e("debian", "12", "x86_64", "6.1.0-47-amd64", 10),
      e("debian", "12", "x86_64", "6.1.0-50-amd64", 10),
      e("debian", "12", "x86_64", "6.1.0-53-amd64", 10),
      e("debian", "12", "x86_64", "6.1.0-54-amd64", 11),
      e("debian", "12", "x86_64", "6.1.0-56-amd64", 12),
      e("debian", "12", "x86_64", "6.1.0-50-cloud-amd64", 13),
      e("debian", "12", "arm64", "6.1.0-47-arm64", 14),
      e("ubuntu", "20.04", "x86_64", "5.4.0-1029-aws", 20),
      e("ubuntu", "20.04", "x86_64", "5.4.0-1055-aws", 21),
      e("ubuntu", "18.04", "x86_64", "5.4.0-1029-aws", 20),
  };
  std::sort(v.begin(), v.end(),
            [](auto &a, auto &b) { return a.kernel < b.kernel; });
  return v;
}

HostFacts host(std::string release, std::string arch, std::string id,
               std::string version, std::string like = "") {
  HostFacts h;
  h.kernel_release = {release, "test"};
  h.machine = {arch, "test"};
  h.arch = {arch, "test"};
  h.os_id = {id, id.empty() ? "missing: test" : "test"};
  h.os_version_id = {version, "test"};
  h.os_id_like = {like, "test"};
  h.native_btf = {"no", "test"};
  return h;
}

MatchDecision m(const HostFacts &h, MatchPolicy p = {}) {
  auto es = entries();
  return match_host(h, es, p);
}

const Candidate *winner(const MatchDecision &d) {
  for (const auto &c : d.candidates)
    if (c.won)
      return &c;
  return nullptr;
}

TEST(Match, Exact) {
  auto d = m(host("6.1.0-50-amd64", "x86_64", "debian", "12"));
  ASSERT_EQ(d.kind, MatchKind::exact) << d.summary;
  EXPECT_EQ(d.chosen->kernel.release, "6.1.0-50-amd64");
  ASSERT_NE(winner(d), nullptr);
  EXPECT_FALSE(d.os_release_overruled);
  EXPECT_FALSE(d.error);
}

TEST(Match, ExactBeatsOtherVersionOfSameDistro) {
  auto d = m(host("5.4.0-1029-aws", "x86_64", "ubuntu", "20.04"));
  ASSERT_EQ(d.kind, MatchKind::exact);
  EXPECT_EQ(d.chosen->kernel.version, "20.04");
  ASSERT_EQ(d.candidates.size(), 2u);
  for (const auto &c : d.candidates) {
    if (!c.won) {
      EXPECT_NE(c.reason.find("same BTF as the winner"), std::string::npos);
    }
  }
}

TEST(Match, VersionNormalisedFromBundleLayout) {
  auto d = m(host("3.10.0-1160.el7.x86_64", "x86_64", "centos", "7.9.2009"));
  ASSERT_EQ(d.kind, MatchKind::version_normalized) << d.summary;
  EXPECT_EQ(d.normalized_version, "7");
  EXPECT_NE(winner(d)->reason.find("7.9.2009 normalised to 7"),
            std::string::npos);
}

TEST(Match, SameReleaseUnderAnotherVersion) {
  auto d = m(host("6.1.0-47-amd64", "x86_64", "debian", "11"));
  ASSERT_EQ(d.kind, MatchKind::other_version) << d.summary;
  EXPECT_EQ(d.chosen->kernel.version, "12");
}

TEST(Match, IdLikeAliasNeedsIdenticalRelease) {
  auto d = m(host("4.18.0-147.5.1.el8_1.aarch64", "aarch64", "rocky", "8.6",
                  "rhel centos fedora"));
  ASSERT_EQ(d.kind, MatchKind::id_like) << d.summary;
  EXPECT_EQ(d.chosen->kernel.distro, "centos");
  EXPECT_NE(winner(d)->reason.find("ID_LIKE names centos"), std::string::npos);
  // Oracle Linux says only ID_LIKE="fedora": the rebuild family still ties
  // it to centos, release identical.
  auto ol =
      m(host("4.18.0-147.5.1.el8_1.aarch64", "arm64", "ol", "8.6", "fedora"));
  ASSERT_EQ(ol.kind, MatchKind::id_like) << ol.summary;
  EXPECT_NE(winner(ol)->reason.find("rebuild family"), std::string::npos);
  // A different release is never taken through an alias.
  auto other = m(host("4.18.0-372.9.1.el8.aarch64", "aarch64", "rocky", "8.6",
                      "rhel centos fedora"));
  EXPECT_EQ(other.kind, MatchKind::none);
  ASSERT_TRUE(other.error);
  EXPECT_EQ(other.error->code, Errc::no_match);
}

TEST(Match, KernelFirstOverrulesWrongOsRelease) {
  // An agent in a debian container on an Amazon Linux 2 host.
  auto d = m(host("4.14.262-200.489.amzn2.x86_64", "x86_64", "debian", "12"));
  ASSERT_EQ(d.kind, MatchKind::kernel_first) << d.summary;
  EXPECT_EQ(d.chosen->kernel.distro, "amzn");
  EXPECT_TRUE(d.os_release_overruled);
  ASSERT_FALSE(d.warnings.empty());
  EXPECT_NE(d.warnings[0].find("os-release says debian 12"), std::string::npos);
  EXPECT_NE(d.warnings[0].find("markers name amzn"), std::string::npos);
}

TEST(Match, KernelFirstWithoutOsRelease) {
  auto d = m(host("4.14.256-197.484.amzn2.x86_64", "x86_64", "", ""));
  ASSERT_EQ(d.kind, MatchKind::kernel_first);
  EXPECT_NE(d.warnings[0].find("os-release gave no ID"), std::string::npos);
}

TEST(Match, KernelFirstAmbiguousAcrossDistrosWithDifferentBlobsIsRefused) {
  auto es = entries();
  es.push_back(e("ubuntu", "22.04", "x86_64", "5.15.0-1-generic", 30));
  es.push_back(e("mint", "21", "x86_64", "5.15.0-1-generic", 31));
  auto d = match_host(host("5.15.0-1-generic", "x86_64", "", ""), es, {});
  EXPECT_EQ(d.kind, MatchKind::none);
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find("ambiguous"), std::string::npos);
  // Same blob under both: no ambiguity.
  es.back().blob = blob(30);
  auto same = match_host(host("5.15.0-1-generic", "x86_64", "", ""), es, {});
  EXPECT_EQ(same.kind, MatchKind::kernel_first);
}

TEST(Match, MarkersContradictingTheEntryAreRefused) {
  std::vector<BundleEntry> es = {
      e("debian", "12", "x86_64", "4.14.262-200.489.amzn2.x86_64", 1)};
  auto d = match_host(host("4.14.262-200.489.amzn2.x86_64", "x86_64", "", ""),
                      es, {});
  EXPECT_EQ(d.kind, MatchKind::none);
  ASSERT_EQ(d.candidates.size(), 1u);
  EXPECT_NE(d.candidates[0].reason.find("do not name debian"),
            std::string::npos);
}

TEST(Match, ArchMustMatch) {
  auto d = m(host("6.1.0-47-amd64", "arm64", "debian", "12"));
  EXPECT_EQ(d.kind, MatchKind::none);
  ASSERT_FALSE(d.candidates.empty());
  EXPECT_NE(d.candidates[0].reason.find("arch x86_64 is not the host's arm64"),
            std::string::npos);
}

TEST(Match, NearestIsRefusedWithoutOptIn) {
  auto d = m(host("6.1.0-52-amd64", "x86_64", "debian", "12"));
  EXPECT_EQ(d.kind, MatchKind::none);
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find("nearest entries"), std::string::npos);
  EXPECT_NE(d.error->message.find("6.1.0-50-amd64"), std::string::npos);
  EXPECT_NE(d.error->message.find("6.1.0-53-amd64"), std::string::npos);
  EXPECT_NE(d.error->message.find("regenerate"), std::string::npos);
}

TEST(Match, NearestSafeWhenNeighboursShareABlob) {
  MatchPolicy p;
  p.allow_nearest = true;
  auto d = m(host("6.1.0-52-amd64", "x86_64", "debian", "12"), p);
  ASSERT_EQ(d.kind, MatchKind::nearest) << (d.error ? d.error->message : "");
  EXPECT_EQ(d.chosen->blob, blob(10));
  EXPECT_FALSE(d.unsafe);
  ASSERT_FALSE(d.warnings.empty());
  EXPECT_NE(d.warnings[0].find("WARNING"), std::string::npos);
  EXPECT_NE(d.distance.find("6.1.0-50-amd64"), std::string::npos);
  EXPECT_NE(d.distance.find("6.1.0-53-amd64"), std::string::npos);
}

TEST(Match, NearestRefusedWhenNeighboursDiffer) {
  MatchPolicy p;
  p.allow_nearest = true;
  auto d = m(host("6.1.0-55-amd64", "x86_64", "debian", "12"), p);
  EXPECT_EQ(d.kind, MatchKind::none);
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find("minimized to different BTFs"),
            std::string::npos);
  // The flavour is part of the scope: a cloud kernel never borrows the
  // generic kernels' BTF.
  auto cloud = m(host("6.1.0-52-cloud-amd64", "x86_64", "debian", "12"), p);
  EXPECT_EQ(cloud.kind, MatchKind::none);
}

TEST(Match, NearestUnsafeOnlyWhenNamedAndReported) {
  MatchPolicy p;
  p.allow_nearest_unsafe = true;
  auto d = m(host("6.1.0-55-amd64", "x86_64", "debian", "12"), p);
  ASSERT_EQ(d.kind, MatchKind::nearest_unsafe);
  EXPECT_TRUE(d.unsafe);
  EXPECT_EQ(d.chosen->kernel.release, "6.1.0-54-amd64");
  EXPECT_NE(d.warnings[0].find("UNSAFE"), std::string::npos);
}

TEST(Match, NativeFirstUnlessPreferBundle) {
  auto h = host("6.1.0-50-amd64", "x86_64", "debian", "12");
  h.native_btf = {"yes", "/sys/kernel/btf/vmlinux"};
  auto d = m(h);
  EXPECT_EQ(d.kind, MatchKind::native);
  EXPECT_FALSE(d.chosen);
  EXPECT_NE(d.summary.find("would give debian/12/x86_64/6.1.0-50-amd64"),
            std::string::npos);
  MatchPolicy p;
  p.prefer_bundle = true;
  EXPECT_EQ(m(h, p).kind, MatchKind::exact);
}

TEST(Match, UnknownArchNamesWhatTheBundleHas) {
  auto d = m(host("6.1.0-50-amd64", "m68k", "debian", "12"));
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find("arch m68k"), std::string::npos);
  EXPECT_NE(d.error->message.find("none for arch m68k"), std::string::npos);
}

// Nearest entries keep to the host's flavour and distro group (#19).
TEST(Match, NearestEntriesOwnFlavourOnly) {
  auto es = entries();
  es.push_back(e("ubuntu", "20.04", "x86_64", "5.4.0-1040-gke", 22));
  auto d =
      match_host(host("5.4.0-1040-aws", "x86_64", "ubuntu", "20.04"), es, {});
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find(
                "nearest entries: ubuntu/20.04/x86_64/5.4.0-1029-aws, "
                "ubuntu/20.04/x86_64/5.4.0-1055-aws;"),
            std::string::npos)
      << d.error->message;
  EXPECT_EQ(d.error->message.find("-gke"), std::string::npos)
      << d.error->message;
}

TEST(Match, NearestEntriesOwnDistroGroupOnly) {
  auto d = m(host("5.10.0-99-generic", "x86_64", "linuxmint", "21", "ubuntu"));
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find("nearest entries: ubuntu/18.04/x86_64, "
                                  "ubuntu/20.04/x86_64;"),
            std::string::npos)
      << d.error->message;
  EXPECT_EQ(d.error->message.find("debian/"), std::string::npos)
      << d.error->message;
  d = m(host("5.10.0-99-generic", "x86_64", "arch", "", ""));
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find("nearest entries: none for arch on x86_64;"),
            std::string::npos)
      << d.error->message;
}

// The hint names an archive path the archive can have: rocky is not a
// btfhub distro, its ID_LIKE centos is.
TEST(Match, HintUsesIdLikeDistroOfTheArchive) {
  auto d = m(host("4.18.0-513.5.1.el8_9.x86_64", "x86_64", "rocky", "8.9",
                  "rhel centos fedora"));
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find(
                "the archive has centos/8/x86_64/4.18.0-513.5.1.el8_9.x86_64"),
            std::string::npos)
      << d.error->message;
  EXPECT_EQ(d.error->message.find("rocky/"), std::string::npos)
      << d.error->message;
}

// The candidate lines and the decision give the same reason.
TEST(Match, OneSidedNeighbourSameReasonEverywhere) {
  MatchPolicy p;
  p.allow_nearest = true;
  auto d = m(host("6.1.0-60-amd64", "x86_64", "debian", "12"), p);
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->message.find("neighbour on one side only"),
            std::string::npos);
  ASSERT_FALSE(d.candidates.empty());
  for (const auto &c : d.candidates) {
    EXPECT_NE(c.reason.find("refused: the release has a neighbour on one "
                            "side only"),
              std::string::npos)
        << c.reason;
    EXPECT_EQ(c.reason.find("do not map to one BTF"), std::string::npos);
  }
}

TEST(Match, Helpers) {
  std::vector<std::string> vs = {"7", "8"};
  EXPECT_EQ(normalize_version("7.9.2009", vs), "7");
  EXPECT_EQ(normalize_version("8", vs), "8");
  EXPECT_EQ(normalize_version("9.1", vs), "");
  EXPECT_EQ(release_distros("4.14.262-200.489.amzn2.x86_64"),
            std::vector<std::string>{"amzn"});
  auto el = release_distros("4.18.0-372.9.1.el8_6.x86_64");
  EXPECT_NE(std::find(el.begin(), el.end(), "rocky"), el.end());
  EXPECT_EQ(release_distros("6.12.107+deb12-amd64"),
            std::vector<std::string>{"debian"});
  EXPECT_TRUE(release_distros("6.1.0-47-amd64").empty());
}

} // namespace
