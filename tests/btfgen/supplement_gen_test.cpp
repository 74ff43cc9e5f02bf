// SPDX-License-Identifier: Apache-2.0
//
// Kernels after the release, end to end with the CLI: `btfpack gen
// --supplement-of BASE` on the sample archive (tests/data/archive) plus a
// shared-corpus kernel added after the base was made, real bpftool, real
// keys; `btfpack diff` (text, --json, exit codes) on the bundles it made;
// resolve/explain --supplement finding the late kernel.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace btfpack {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run;

const fs::path LATE = "debian/11/x86_64/5.10.0-30-cloud-amd64.btf.tar.xz";

class SupplementGen : public ::testing::Test {
protected:
  void SetUp() override {
    corpus_ = test::source_dir() / "../shared/corpus/archive";
    if (!fs::exists(corpus_ / LATE))
      GTEST_SKIP() << "no shared corpus at " << corpus_;
    fs::copy(test::sample_archive(), tmp_ / "archive",
             fs::copy_options::recursive);
    for (const char *k : {"k", "other"})
      ASSERT_EQ(btfpack({"keygen", "--out", (tmp_ / k).string()}).status, 0);
    auto b = gen({"--bundle", path("base"), "--bundle-version", "5"});
    ASSERT_EQ(b.status, 0) << b.err;
  }
  test::CmdResult btfpack(std::vector<std::string> args) {
    args.insert(args.begin(), test::cli_path().string());
    return run(args);
  }
  // gen runs gen on the archive (x86_64 kernels, the x86 objects).
  test::CmdResult
  gen(std::vector<std::string> extra,
      std::vector<std::string> objects = {"taskstate", "parentchain", "nspid"},
      const std::string &key = "k") {
    std::vector<std::string> a = {
        "gen",    "--archive",   (tmp_ / "archive").string(), "--arch",
        "x86_64", "--cache-dir", (tmp_ / "cache").string(),   "--bundle-name",
        "agent",  "--key",       (tmp_ / key).string()};
    for (const auto &o : objects) {
      a.push_back("--object");
      a.push_back((test::bpf_obj_dir() / (o + ".bpf.o")).string());
    }
    a.insert(a.end(), extra.begin(), extra.end());
    return btfpack(a);
  }
  std::string path(const std::string &name) {
    return (tmp_ / (name + ".btfpack")).string();
  }
  std::string pub() { return (tmp_ / "k.pub").string(); }
  void add_late_kernel() {
    fs::copy_file(corpus_ / LATE, tmp_ / "archive" / LATE);
  }
  json inspect(const std::string &bundle) {
    auto r = btfpack({"-j", "inspect", "--entries", "--key", pub(), bundle});
    EXPECT_EQ(r.status, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }

  test::TempDir tmp_;
  fs::path corpus_;
};

TEST_F(SupplementGen, HoldsOnlyTheKernelsMissingFromTheBase) {
  // Nothing new yet: refused, and no file is written.
  auto none = gen({"--bundle", path("none"), "--supplement-of", path("base")});
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("no supplement written: all 3 kernel(s) are in base"),
            std::string::npos)
      << none.err;
  EXPECT_FALSE(fs::exists(path("none")));

  add_late_kernel();
  auto s = gen({"--bundle", path("supp"), "--supplement-of", path("base")});
  ASSERT_EQ(s.status, 0) << s.err;
  auto base = inspect(path("base")), supp = inspect(path("supp"));
  EXPECT_EQ(base["format"], "1.0");
  EXPECT_TRUE(base["supplement_of"].is_null());
  EXPECT_EQ(supp["format"], "1.1");
  EXPECT_EQ(supp["name"], "agent");
  EXPECT_EQ(supp["version"], 6); // the base's + 1
  EXPECT_EQ(supp["supplement_of"]["name"], "agent");
  EXPECT_EQ(supp["supplement_of"]["version"], 5);
  EXPECT_EQ(supp["supplement_of"]["manifest_sha256"], base["manifest_sha256"]);
  EXPECT_EQ(supp["objects"], base["objects"]);
  // The three unchanged kernels are left out.
  ASSERT_EQ(supp["entries"].size(), 1u) << supp.dump(1);
  EXPECT_EQ(supp["entries"][0]["release"], "5.10.0-30-cloud-amd64");
  auto text = btfpack({"inspect", "--key", pub(), path("supp")});
  EXPECT_NE(text.out.find("supplement: of \"agent\" version 5 (base manifest "
                          "sha256 " +
                          base["manifest_sha256"].get<std::string>() + ")"),
            std::string::npos)
      << text.out;

  // resolve/explain find the late kernel in the supplement.
  std::vector<std::string> host = {"--bundle",
                                   path("base"),
                                   "--supplement",
                                   path("supp"),
                                   "--key",
                                   pub(),
                                   "--kernel-release",
                                   "5.10.0-30-cloud-amd64",
                                   "--arch",
                                   "x86_64",
                                   "--os-id",
                                   "debian",
                                   "--os-version-id",
                                   "11",
                                   "--native-btf",
                                   "no",
                                   "--cache-dir",
                                   (tmp_ / "btfcache").string()};
  std::vector<std::string> ra = {"resolve"};
  ra.insert(ra.end(), host.begin(), host.end());
  auto r = btfpack(ra);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(r.out.substr(0, r.out.find('\n')))) << r.out;
  std::vector<std::string> ea = {"explain"};
  ea.insert(ea.end(), host.begin(), host.end());
  auto x = btfpack(ea);
  ASSERT_EQ(x.status, 0) << x.err;
  EXPECT_NE(x.out.find("from        supplement \"agent\" version 6 (" +
                       path("supp") + ")"),
            std::string::npos)
      << x.out;
  EXPECT_NE(x.out.find("  + supplement \"agent\" version 6"), std::string::npos)
      << x.out;
  // Without the supplement the kernel is missing.
  ra.erase(ra.begin() + 3, ra.begin() + 5);
  EXPECT_NE(btfpack(ra).status, 0);
}

TEST_F(SupplementGen, RefusesOtherObjectsAnotherKeyAndAnOlderVersion) {
  add_late_kernel();
  auto objs = gen({"--bundle", path("s"), "--supplement-of", path("base")},
                  {"taskstate", "nspid"});
  EXPECT_EQ(objs.status, 1);
  EXPECT_NE(objs.err.find("objects differ: base " + path("base")),
            std::string::npos)
      << objs.err;
  EXPECT_NE(objs.err.find("parentchain.bpf.o"), std::string::npos) << objs.err;
  EXPECT_NE(objs.err.find("supplement " + path("s")), std::string::npos);

  auto key = gen({"--bundle", path("s"), "--supplement-of", path("base")},
                 {"taskstate", "parentchain", "nspid"}, "other");
  EXPECT_NE(key.status, 0);
  EXPECT_NE(key.err.find("--supplement-of " + path("base") +
                         ": the base must verify with the key"),
            std::string::npos)
      << key.err;

  auto old = gen({"--bundle", path("s"), "--supplement-of", path("base"),
                  "--bundle-version", "5"});
  EXPECT_NE(old.status, 0);
  EXPECT_NE(old.err.find("must be newer than base"), std::string::npos)
      << old.err;
  EXPECT_FALSE(fs::exists(path("s")));
}

TEST_F(SupplementGen, DiffListsAddedRemovedChangedWithExitCodes) {
  add_late_kernel();
  auto n = gen({"--bundle", path("next"), "--bundle-version", "6"});
  ASSERT_EQ(n.status, 0) << n.err;
  // Same: exit 0.
  auto same = btfpack({"diff", "--key", pub(), path("base"), path("base")});
  EXPECT_EQ(same.status, 0) << same.err;
  EXPECT_NE(same.out.find("0 added, 0 removed, 0 changed, 3 unchanged"),
            std::string::npos)
      << same.out;
  // Different: exit 1, one line per kernel.
  auto d = btfpack({"diff", "--key", pub(), path("base"), path("next")});
  EXPECT_EQ(d.status, 1) << d.err;
  EXPECT_NE(d.out.find("+ debian/11/x86_64/5.10.0-30-cloud-amd64 "),
            std::string::npos)
      << d.out;
  EXPECT_NE(d.out.find("1 added, 0 removed, 0 changed, 3 unchanged"),
            std::string::npos)
      << d.out;
  auto back = btfpack({"diff", "--key", pub(), path("next"), path("base")});
  EXPECT_EQ(back.status, 1);
  EXPECT_NE(back.out.find("- debian/11/x86_64/5.10.0-30-cloud-amd64 "),
            std::string::npos)
      << back.out;
  auto j = btfpack({"-j", "diff", "--key", pub(), path("base"), path("next")});
  EXPECT_EQ(j.status, 1);
  auto doc = json::parse(j.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << j.out;
  EXPECT_EQ(doc["identical"], false);
  EXPECT_EQ(doc["same_objects"], true);
  EXPECT_EQ(doc["old"]["version"], 5);
  EXPECT_EQ(doc["new"]["version"], 6);
  EXPECT_EQ(doc["new"]["verified"], true);
  ASSERT_EQ(doc["added"].size(), 1u);
  EXPECT_EQ(doc["added"][0]["kernel"]["release"], "5.10.0-30-cloud-amd64");
  EXPECT_EQ(doc["added"][0]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(doc["removed"].size(), 0u);
  EXPECT_EQ(doc["changed"].size(), 0u);
  EXPECT_EQ(doc["unchanged"], 3);
  // Other objects: every kernel changes, and diff says why.
  auto o =
      gen({"--bundle", path("fewer"), "--bundle-version", "7"}, {"taskstate"});
  ASSERT_EQ(o.status, 0) << o.err;
  auto c = btfpack({"diff", "--key", pub(), path("next"), path("fewer")});
  EXPECT_EQ(c.status, 1);
  EXPECT_NE(c.out.find("objects differ"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("~ debian/"), std::string::npos) << c.out;
  // Trouble: exit 2, naming the file.
  auto t = btfpack({"diff", "--key", pub(), path("base"), path("missing")});
  EXPECT_EQ(t.status, 2);
  EXPECT_NE(t.err.find(path("missing")), std::string::npos) << t.err;
  auto k = btfpack({"diff", "--key", (tmp_ / "other.pub").string(),
                    path("base"), path("next")});
  EXPECT_EQ(k.status, 2) << k.err;
  // Without --key: read UNVERIFIED, and said so.
  auto u = btfpack({"diff", path("base"), path("next")});
  EXPECT_EQ(u.status, 1);
  EXPECT_NE(u.out.find("UNVERIFIED"), std::string::npos) << u.out;
}

} // namespace
} // namespace btfpack
