// SPDX-License-Identifier: Apache-2.0
//
// One bundle for two arches (issue 15): `btfpack gen` over the committed
// tests/data/archive (x86_64 and arm64 Debian kernels) with the bpf/
// objects of both arches minimizes each kernel with its own arch's objects
// only, says so in the report and in `inspect`, and arch confusion (an
// object declared for the wrong arch, the other arch's object or entry at
// resolve time) is refused with a clear error.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "test_util.h"

namespace btfpack {
namespace {

using namespace btfpack::test;
using nlohmann::json;
namespace fs = std::filesystem;

const char *const kProgs[] = {"taskstate", "parentchain", "nspid"};

fs::path x86_obj(const std::string &n) {
  return bpf_obj_dir() / (n + ".bpf.o");
}
fs::path arm_obj(const std::string &n) {
  return bpf_obj_dir() / "arm64" / (n + ".bpf.o");
}

std::string digest(const fs::path &p) {
  auto d = sha256_file(p);
  EXPECT_TRUE(d.ok()) << p;
  return d.ok() ? to_hex(*d) : "";
}

struct TwoArch {
  TempDir dir;
  fs::path key() const { return dir / "key"; }
  fs::path pub() const { return dir / "key.pub"; }
  fs::path bundle() const { return dir / "two.btfpack"; }

  TwoArch() {
    auto k = SecretKey::generate();
    EXPECT_TRUE(k.ok());
    if (k.ok()) {
      EXPECT_TRUE(write_key_pair(*k, key()).ok());
    }
  }

  // gen runs btfpack gen over the sample archive with `objects` (already
  // as --object arguments) and returns its result.
  CmdResult gen(const std::vector<std::string> &objects,
                const std::string &name, bool bundle = true) {
    std::vector<std::string> a = {cli_path().string(),
                                  "gen",
                                  "--archive",
                                  sample_archive().string(),
                                  "--cache",
                                  (dir / "cache").string(),
                                  "--report",
                                  (dir / (name + ".json")).string(),
                                  "-j",
                                  "2"};
    if (bundle) {
      for (const auto &s : {std::string("--bundle"), (dir / name).string(),
                            std::string("--key"), key().string()})
        a.push_back(s);
    }
    a.insert(a.end(), objects.begin(), objects.end());
    return run(a);
  }
  json report(const std::string &name) {
    auto t = read_text_file(dir / (name + ".json"));
    EXPECT_TRUE(t.ok());
    return t.ok() ? json::parse(*t) : json();
  }
};

// Both arches' objects, the arm64 ones declared with the ARCH: prefix.
std::vector<std::string> both_arches() {
  std::vector<std::string> a;
  for (const char *n : kProgs) {
    a.push_back("--object");
    a.push_back(x86_obj(n).string());
    a.push_back("--object");
    a.push_back("arm64:" + arm_obj(n).string());
  }
  return a;
}

std::vector<std::string> one_arch(bool arm) {
  std::vector<std::string> a;
  for (const char *n : kProgs) {
    a.push_back("--object");
    a.push_back((arm ? arm_obj(n) : x86_obj(n)).string());
  }
  return a;
}

TEST(TwoArch, EachArchIsMinimizedWithItsOwnObjectsOnly) {
  TwoArch t;
  auto r = t.gen(both_arches(), "two.btfpack");
  ASSERT_EQ(r.status, 0) << r.err;
  std::set<std::string> x86, arm;
  for (const char *n : kProgs) {
    x86.insert(digest(x86_obj(n)));
    arm.insert(digest(arm_obj(n)));
  }
  // The report: which objects served which entries, by sha256.
  json rep = t.report("two.btfpack");
  std::size_t arm_entries = 0, x86_entries = 0;
  for (const auto &e : rep["entries"]) {
    ASSERT_EQ(e["status"], "ok") << e.dump();
    std::set<std::string> used;
    for (const auto &d : e["object_sha256"])
      used.insert(d.get<std::string>());
    if (e["arch"] == "arm64") {
      arm_entries++;
      EXPECT_EQ(used, arm) << e.dump();
    } else {
      x86_entries++;
      EXPECT_EQ(used, x86) << e.dump();
    }
    EXPECT_EQ(e["skipped_objects"].size(), 3u) << e.dump();
  }
  EXPECT_GE(arm_entries, 1u);
  EXPECT_GE(x86_entries, 1u);
  for (const auto &g : rep["groups"]) {
    ASSERT_EQ(g["objects"].size(), 3u) << g.dump();
    for (const auto &o : g["objects"])
      EXPECT_EQ(o["arch"], g["arch"] == "arm64" ? "arm64" : "x86_64");
  }
  for (const char *s : {"arm64 kernels (", "x86_64 kernels (",
                        "minimized with:", "arm64/taskstate.bpf.o"})
    EXPECT_NE(r.err.find(s), std::string::npos) << s << "\n" << r.err;

  // "Only with that arch's objects": the arm64 kernel's BTF is exactly what
  // a run with the arm64 objects alone gives, the x86_64 ones likewise.
  ASSERT_EQ(t.gen(one_arch(true), "arm.btfpack").status, 0);
  ASSERT_EQ(t.gen(one_arch(false), "x86.btfpack").status, 0);
  auto pub = PublicKey::read_file(t.pub());
  ASSERT_TRUE(pub.ok());
  std::vector<PublicKey> keys{*pub};
  auto two = Bundle::open(t.bundle(), keys);
  auto armb = Bundle::open(t.dir / "arm.btfpack", keys);
  auto x86b = Bundle::open(t.dir / "x86.btfpack", keys);
  ASSERT_TRUE(two.ok() && armb.ok() && x86b.ok());
  EXPECT_EQ(two->entries().size(),
            armb->entries().size() + x86b->entries().size());
  for (const auto &e : two->entries()) {
    const auto &single = e.kernel.arch == "arm64" ? *armb : *x86b;
    const auto *s = single.find(e.kernel);
    ASSERT_NE(s, nullptr) << e.kernel.release;
    EXPECT_EQ(s->blob, e.blob) << e.kernel.release;
  }
  EXPECT_EQ(two->meta().objects.size(), 6u);

  // inspect: per group, the objects that served it.
  auto in = run({cli_path().string(), "-j", "inspect", t.bundle().string(),
                 "--key", t.pub().string(), "--entries"});
  ASSERT_EQ(in.status, 0) << in.err;
  json j = json::parse(in.out);
  for (const auto &g : j["groups"]) {
    ASSERT_EQ(g["objects"].size(), 3u) << g.dump();
    for (const auto &o : g["objects"]) {
      auto d = o["sha256"].get<std::string>();
      EXPECT_TRUE(g["arch"] == "arm64" ? arm.count(d) : x86.count(d))
          << g.dump();
    }
  }
  for (const auto &e : j["entries"])
    EXPECT_EQ(e["objects"].size(), 3u);
  auto text = run({cli_path().string(), "inspect", t.bundle().string(), "--key",
                   t.pub().string()});
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("debian/12/arm64: 1 (objects: nspid.bpf.o arm64"),
            std::string::npos)
      << text.out;
}

TEST(TwoArch, AnObjectDeclaredForTheWrongArchFailsItsKernels) {
  TwoArch t;
  // The x86_64 build declared arm64: its pt_regs layout says otherwise.
  auto r = t.gen({"--object", "arm64:" + x86_obj("taskstate").string()},
                 "bad.btfpack");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_FALSE(fs::exists(t.dir / "bad.btfpack"));
  json rep = t.report("bad.btfpack");
  bool arm_failed = false;
  for (const auto &e : rep["entries"]) {
    if (e["arch"] == "arm64") {
      arm_failed = e["status"] == "failed";
      EXPECT_NE(e["reason"].get<std::string>().find("cannot serve arm64"),
                std::string::npos)
          << e.dump();
    } else {
      EXPECT_EQ(e["status"], "skipped") << e.dump();
    }
  }
  EXPECT_TRUE(arm_failed);
  // Two declarations that disagree are a usage error.
  auto u =
      run({cli_path().string(), "gen", "--archive", sample_archive().string(),
           "--object", "arm64:" + arm_obj("nspid").string(), "--object-arch",
           arm_obj("nspid").string() + "=x86_64"});
  EXPECT_EQ(u.status, 2) << u.err;
  EXPECT_NE(u.err.find("give one"), std::string::npos) << u.err;
}

class TwoArchResolve : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    t_ = new TwoArch;
    auto r = t_->gen(both_arches(), "two.btfpack");
    ASSERT_EQ(r.status, 0) << r.err;
    auto x = t_->gen(one_arch(false), "x86.btfpack");
    ASSERT_EQ(x.status, 0) << x.err;
  }
  static void TearDownTestSuite() {
    delete t_;
    t_ = nullptr;
  }
  CmdResult resolve(const std::string &bundle, const std::string &release,
                    const std::string &arch, const fs::path &object) {
    std::vector<std::string> a = {
        cli_path().string(),
        "resolve",
        "--bundle",
        (t_->dir / bundle).string(),
        "--key",
        t_->pub().string(),
        "--os-release",
        (data_dir() / "os-release" / "debian-12").string(),
        "--kernel-release",
        release,
        "--arch",
        arch,
        "--native-btf",
        "no",
        "--cache-dir",
        (t_->dir / "c").string()};
    if (!object.empty()) {
      a.push_back("--object");
      a.push_back(object.string());
    }
    return run(a);
  }
  static TwoArch *t_;
};
TwoArch *TwoArchResolve::t_ = nullptr;

TEST_F(TwoArchResolve, EachArchsObjectGetsItsArchsEntry) {
  auto a =
      resolve("two.btfpack", "6.1.0-55-arm64", "aarch64", arm_obj("taskstate"));
  EXPECT_EQ(a.status, 0) << a.err;
  EXPECT_NE(a.out.find(".btf"), std::string::npos) << a.out;
  auto x =
      resolve("two.btfpack", "6.1.0-55-amd64", "x86_64", x86_obj("taskstate"));
  EXPECT_EQ(x.status, 0) << x.err;
}

TEST_F(TwoArchResolve, AnArm64ObjectWithAnX86Entry) {
  auto r =
      resolve("two.btfpack", "6.1.0-55-amd64", "x86_64", arm_obj("taskstate"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.out.empty()) << r.out; // no path: nothing to load
  for (const char *s : {"arch mismatch", "is the arm64 build",
                        "debian/12/x86_64/6.1.0-55-amd64", "x86_64 kernel",
                        "load the x86_64 build of taskstate.bpf.o"})
    EXPECT_NE(r.err.find(s), std::string::npos) << s << "\n" << r.err;
}

TEST_F(TwoArchResolve, AnX86ObjectOnAnArm64Host) {
  auto r =
      resolve("two.btfpack", "6.1.0-55-arm64", "aarch64", x86_obj("nspid"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  for (const char *s :
       {"arch mismatch", "is the x86_64 build",
        "debian/12/arm64/6.1.0-55-arm64", "minimized only with arm64 objects",
        "load the arm64 build of nspid.bpf.o"})
    EXPECT_NE(r.err.find(s), std::string::npos) << s << "\n" << r.err;
}

TEST_F(TwoArchResolve, AnX86OnlyBundleOnAnArm64HostSaysWhy) {
  auto r = resolve("x86.btfpack", "6.1.0-55-arm64", "aarch64", {});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  for (const char *s : {"no BTF for this host", "no arm64 kernels at all",
                        "only x86_64", "--object arm64:PATH"})
    EXPECT_NE(r.err.find(s), std::string::npos) << s << "\n" << r.err;
}

} // namespace
} // namespace btfpack
