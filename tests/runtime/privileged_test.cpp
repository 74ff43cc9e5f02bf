// SPDX-License-Identifier: Apache-2.0
// The whole offline path on this machine: minimize this kernel's BTF
// against the bpf/ objects, enter it in a signed bundle under this host's
// os-release facts, resolve with --prefer-bundle, and load every bpf/
// program through the memfd path, the cache path and the C API, checking
// the CO-RE values against ground truth.
#include <gtest/gtest.h>

#include <bpf/libbpf.h>

#include "btfpack/bpf_demo.h"
#include "btfpack/btfpack.h"
#include "btfpack/file_util.h"
#include "btfpack/runtime.h"
#include "runtime_fixture.h"

using namespace btfpack;
using namespace btfpack::test;

namespace {

class HostBundle : public ::testing::Test {
protected:
  void SetUp() override {
    SKIP_UNLESS_PRIVILEGED();
    auto h = detect_host();
    ASSERT_TRUE(h.ok()) << h.error().message;
    host_ = *h;
    ASSERT_TRUE(host_.os_id.present()) << "this host has no os-release ID";
    std::string arch = host_.arch.value == "x86_64" ? "x86_64" : "arm64";
    objects_ = bpf_objects(arch);
    ASSERT_FALSE(objects_.empty());
    std::string err;
    ASSERT_TRUE(
        minimize("/sys/kernel/btf/vmlinux", dir_ / "min.btf", objects_, &err))
        << err;
    auto key = SecretKey::generate();
    ASSERT_TRUE(key.ok());
    pub_ = dir_ / "k.pub";
    ASSERT_TRUE(write_file_atomic(pub_, key->public_key().to_minisign()).ok());
    BundleMeta meta;
    meta.name = "this-host";
    meta.version = 1;
    for (const auto &o : objects_)
      meta.objects.push_back(
          {o.filename().string(), *sha256_file(o), host_.arch.value});
    BundleWriter w(meta);
    auto blob = read_file(dir_ / "min.btf");
    ASSERT_TRUE(blob.ok());
    digest_ = sha256(*blob);
    ASSERT_TRUE(w.add({host_.os_id.value, host_.os_version_id.value,
                       host_.arch.value, host_.kernel_release.value},
                      *blob)
                    .ok());
    bundle_ = dir_ / "host.btfpack";
    auto rc = w.write(bundle_, *key);
    ASSERT_TRUE(rc.ok()) << rc.error().message;
  }

  ResolveOptions options(HandOff h) {
    ResolveOptions o;
    o.bundle = bundle_;
    o.keys = {pub_};
    o.policy.prefer_bundle = true;
    o.objects = objects_;
    o.handoff = h;
    o.cache_dir = dir_ / "cache";
    return o;
  }

  void run_all(const std::string &btf_path) {
    for (const auto &name : bpf_demo::program_names()) {
      bpf_demo::Options o;
      o.btf_path = btf_path;
      auto rep = bpf_demo::run_program(name, o);
      EXPECT_EQ(rep.outcome, bpf_demo::Outcome::pass)
          << name << " via " << btf_path << ": " << rep.to_json();
      EXPECT_EQ(rep.btf, btf_path);
      for (const auto &c : rep.checks)
        EXPECT_TRUE(c.ok) << name << ": " << c.name << " got " << c.got
                          << " want " << c.want;
    }
  }

  TempDir dir_;
  HostFacts host_;
  std::vector<fs::path> objects_;
  fs::path pub_, bundle_;
  Sha256 digest_{};
};

TEST_F(HostBundle, NativeWinsWithoutPreferBundle) {
  auto o = options(HandOff::memfd);
  o.policy.prefer_bundle = false;
  auto r = resolve(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->native);
  EXPECT_EQ(r->custom_path(), nullptr);
}

TEST_F(HostBundle, EveryProgramLoadsThroughTheMemfd) {
  auto r = resolve(options(HandOff::memfd));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->decision.kind, MatchKind::exact) << r->decision.summary;
  EXPECT_EQ(r->digest, digest_);
  ASSERT_NE(r->custom_path(), nullptr);
  EXPECT_EQ(std::string(r->custom_path()).rfind("/proc/self/fd/", 0), 0u);
  run_all(r->custom_path());
}

TEST_F(HostBundle, EveryProgramLoadsThroughTheCacheFile) {
  auto r = resolve(options(HandOff::cache));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->btf.path(),
            (dir_ / "cache" / (to_hex(digest_) + ".btf")).string());
  run_all(r->btf.path());
  // And through the path `btfpack resolve` prints.
  auto cli =
      run({cli_path().string(), "resolve", "--bundle", bundle_.string(),
           "--key", pub_.string(), "--prefer-bundle", "--cache-dir",
           (dir_ / "cache").string(), "--object", objects_.front().string()});
  ASSERT_EQ(cli.status, 0) << cli.err;
  EXPECT_EQ(cli.out, r->btf.path() + "\n");
}

TEST_F(HostBundle, CApiFillsOpenOptsAndCleansUp) {
  LIBBPF_OPTS(bpf_object_open_opts, opts);
  const char *keys[] = {pub_.c_str(), nullptr};
  btfpack_opts bo{};
  bo.sz = sizeof bo;
  bo.bundle_path = bundle_.c_str();
  bo.key_paths = keys;
  bo.prefer_bundle = 1;
  std::string obj = objects_.front().string();
  bo.object_path = obj.c_str();
  ASSERT_EQ(btfpack_ensure_core_btf_opts(&opts, &bo), 0)
      << btfpack_last_error();
  ASSERT_NE(opts.btf_custom_path, nullptr);
  std::string path = opts.btf_custom_path;
  EXPECT_EQ(path.rfind("/proc/self/fd/", 0), 0u);
  run_all(path);
  btfpack_cleanup_core_btf(&opts);
  EXPECT_EQ(opts.btf_custom_path, nullptr);
  btfpack_cleanup_core_btf(&opts); // twice is fine
}

TEST_F(HostBundle, ExampleLoaderRunsOnAKernelWithoutBtf) {
  // Hide /sys/kernel/btf in a private mount namespace (docs/sharp-edges.md):
  // the example's ensure_core_btf must then take the bundle's BTF.
  // libbpf falls back to these when /sys/kernel/btf/vmlinux is missing.
  for (const std::string &p :
       {"/boot/vmlinux-" + host_.kernel_release.value,
        "/lib/modules/" + host_.kernel_release.value + "/vmlinux-" +
            host_.kernel_release.value,
        "/usr/lib/debug/boot/vmlinux-" + host_.kernel_release.value})
    if (fs::exists(p))
      GTEST_SKIP() << p << " exists: libbpf would find the kernel's BTF";
  fs::path example = fs::path(BTFPACK_CLI).parent_path().parent_path() /
                     "examples" / "taskstate";
  if (!fs::exists(example))
    GTEST_SKIP() << "example not built at " << example;
  fs::create_directories(dir_ / "store/bundles");
  fs::create_directories(dir_ / "keys");
  fs::copy_file(bundle_, dir_ / "store/bundles/host.btfpack");
  fs::create_symlink("bundles/host.btfpack", dir_ / "store/current");
  fs::copy_file(pub_, dir_ / "keys/k.pub");
  std::string cmd =
      "unshare -m --propagation private sh -c 'mount -t tmpfs none "
      "/sys/kernel/btf && BTFPACK_STORE=" +
      (dir_ / "store").string() +
      " BTFPACK_KEYS_DIR=" + (dir_ / "keys").string() + " " + example.string() +
      " -c sh -n 3 -t 10 & sleep 1; for i in 1 2 3 4 5 6; do sh -c \"sleep "
      "0.1\"; done; wait'";
  auto r = sh(cmd);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("core_pid"), std::string::npos) << r.out << r.err;
}

// examples/static_agent: one static executable (libbpf.a, libbtfpack.a,
// static libc) resolves this host's BTF from the bundle (-p: although the
// kernel has its own), loads taskstate with it and checks the CO-RE reads
// against ground truth.
TEST_F(HostBundle, StaticAgentLoadsWithTheBundle) {
#ifdef BTFPACK_STATIC_AGENT
  auto ld = sh(std::string("ldd '") + BTFPACK_STATIC_AGENT + "' 2>&1");
  EXPECT_NE(ld.out.find("not a dynamic executable"), std::string::npos)
      << ld.out;
  auto r = run({BTFPACK_STATIC_AGENT, "-B", bundle_.string(), "-k",
                pub_.string(), "-p", "-t", "10"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("btf /proc/self/fd/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 0 wrong"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("BAD"), std::string::npos) << r.out;
#else
  GTEST_SKIP() << "sanitizer build: ASan/UBSan cannot link a static "
                  "executable, so examples/static_agent is not built";
#endif
}

// libbpf.a in the program, libbtfpack.so beside it: the load goes through
// the program's one libbpf with the BTF btfpack handed over.
TEST_F(HostBundle, StaticLibbpfProgramLoadsThroughLibbtfpackSo) {
#ifdef BTFPACK_ONE_LIBBPF
  auto r = run({BTFPACK_ONE_LIBBPF, bundle_.string(), pub_.string(),
                (bpf_obj_dir() / "taskstate.bpf.o").string()});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("maps: no libbpf.so"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("loaded "), std::string::npos) << r.out;
#else
  GTEST_SKIP() << "one_libbpf not built (static libbpf/libelf/zlib/zstd "
                  "archives not found)";
#endif
}

} // namespace
