// SPDX-License-Identifier: Apache-2.0
//
// Embedded bundles. EmbedCApi: the C API resolving from bytes in memory
// (btfpack_opts.bundle_data/key_data) with a real bundle for this host:
// the same verification as a file, a truncated buffer refused as a
// truncated file is (EBADMSG, naming the embedded source), a wrong or
// garbage key, and callers built against the struct before these fields.
// EmbedBuild: btfpack_embed_bundle() per arch (tests/embed/probe, aarch64
// under qemu-user), the example agent (examples/embedded_agent), and an
// agent built with find_package(btfpack) against a staged install that
// resolves, and where allowed loads, from the bundle in its own binary.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "btfpack/btfpack.h"
#include "btfpack/file_util.h"
#include "embed_fixture.h"

using namespace btfpack;
using namespace btfpack::test;

namespace {

const char *const kName = "embedded bundle host.btfpack in embed_test";

class EmbedCApi : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!make_host_bundle(dir_.path(), hb_, why))
      GTEST_SKIP() << why;
  }

  // opts: the in-memory bundle and key, nothing on disk (the key dir does
  // not exist: it must not be read).
  btfpack_opts opts(const void *data, std::size_t size,
                    const std::string &key) {
    BTFPACK_OPTS(bo, .keys_dir = "/nonexistent/btfpack-keys",
                 .prefer_bundle = 1);
    bo.bundle_data = data;
    bo.bundle_size = size;
    bo.bundle_data_name = kName;
    bo.key_data = key.data();
    bo.key_size = key.size();
    return bo;
  }

  // expect_fails resolves and checks errno and the message's parts.
  void expect_fails(const btfpack_opts &bo, int err,
                    const std::vector<std::string> &parts) {
    errno = 0;
    EXPECT_EQ(btfpack_resolve(&bo), nullptr);
    EXPECT_EQ(errno, err) << btfpack_last_error();
    for (const auto &p : parts)
      EXPECT_NE(std::string(btfpack_last_error()).find(p), std::string::npos)
          << "missing '" << p << "' in: " << btfpack_last_error();
  }

  TempDir dir_;
  HostBundle hb_;
};

std::string read_path(const char *p) {
  auto r = read_file(p);
  return r.ok() ? std::string(r->begin(), r->end()) : "<unreadable>";
}

TEST_F(EmbedCApi, GoodBundleFromMemoryGivesTheVerifiedBtf) {
  auto bo = opts(hb_.bytes.data(), hb_.bytes.size(), hb_.pub_text);
  btfpack_btf *h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  ASSERT_NE(btfpack_btf__path(h), nullptr);
  EXPECT_EQ(std::string(btfpack_btf__path(h)).rfind("/proc/self/fd/", 0), 0u);
  // The sealed memfd holds exactly the BTF entered for this host.
  EXPECT_EQ(read_path(btfpack_btf__path(h)),
            std::string(hb_.blob.begin(), hb_.blob.end()));
  EXPECT_NE(std::string(btfpack_btf__summary(h)).find("exact match"),
            std::string::npos)
      << btfpack_btf__summary(h);
  btfpack_btf__free(h);

  // The handle does not point into the caller's bytes: they may go away.
  std::vector<std::uint8_t> copy = hb_.bytes;
  bo.bundle_data = copy.data();
  h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  std::fill(copy.begin(), copy.end(), 0);
  copy.clear();
  copy.shrink_to_fit();
  EXPECT_EQ(read_path(btfpack_btf__path(h)),
            std::string(hb_.blob.begin(), hb_.blob.end()));
  btfpack_btf__free(h);
}

// A truncated buffer is refused as a truncated file is: EBADMSG, the same
// reason, naming the embedded source instead of the path.
TEST_F(EmbedCApi, TruncatedBufferFailsLikeATruncatedFile) {
  const char *keys[] = {hb_.pub.c_str(), nullptr};
  for (std::size_t n : {hb_.bytes.size() - 1, hb_.bytes.size() / 2,
                        std::size_t(200), std::size_t(10)}) {
    SCOPED_TRACE("first " + std::to_string(n) + " of " +
                 std::to_string(hb_.bytes.size()) + " bytes");
    auto bo = opts(hb_.bytes.data(), n, hb_.pub_text);
    expect_fails(bo, EBADMSG, {kName});
    std::string mem = btfpack_last_error();

    fs::path cut = dir_ / "cut.btfpack";
    ASSERT_TRUE(write_file_atomic(
                    cut, std::span<const std::uint8_t>(hb_.bytes.data(), n))
                    .ok());
    BTFPACK_OPTS(fo, .bundle_path = cut.c_str(), .key_paths = keys,
                 .prefer_bundle = 1);
    expect_fails(fo, EBADMSG, {cut.string()});
    std::string file = btfpack_last_error();
    // The same words after the source's name ("file ends" is "data ends").
    auto tail = [](std::string s, const std::string &name) {
      for (auto p = s.find(name); p != std::string::npos; p = s.find(name))
        s.replace(p, name.size(), "SOURCE");
      if (auto p = s.find("file ends"); p != std::string::npos)
        s.replace(p, 4, "data");
      return s;
    };
    EXPECT_EQ(tail(mem, kName), tail(file, cut.string()));
    EXPECT_NE(mem.find(n > 100 ? "truncated: data ends inside" : "truncated"),
              std::string::npos)
        << mem;
  }
}

TEST_F(EmbedCApi, WrongKeyIsRejectedNamingTheSource) {
  auto bo = opts(hb_.bytes.data(), hb_.bytes.size(), hb_.other_pub_text);
  expect_fails(bo, EKEYREJECTED, {kName});
}

TEST_F(EmbedCApi, GarbageKeyBytesAreAClearError) {
  std::string garbage = "untrusted comment: not a key\nAAAA!!!!\n";
  auto bo = opts(hb_.bytes.data(), hb_.bytes.size(), garbage);
  errno = 0;
  EXPECT_EQ(btfpack_resolve(&bo), nullptr);
  EXPECT_NE(errno, 0);
  std::string msg = btfpack_last_error();
  EXPECT_NE(msg.find("public key 1 of 1 given as text"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find(kName), std::string::npos) << msg;

  std::string binary(64, '\xff');
  bo = opts(hb_.bytes.data(), hb_.bytes.size(), binary);
  errno = 0;
  EXPECT_EQ(btfpack_resolve(&bo), nullptr);
  EXPECT_NE(errno, 0);
  EXPECT_NE(std::string(btfpack_last_error()).find("public key 1 of 1"),
            std::string::npos)
      << btfpack_last_error();
}

TEST_F(EmbedCApi, DataWithoutSizeIsEinval) {
  auto bo = opts(hb_.bytes.data(), 0, hb_.pub_text);
  expect_fails(bo, EINVAL, {"bundle_data", "bundle_size"});
  bo = opts(hb_.bytes.data(), hb_.bytes.size(), hb_.pub_text);
  bo.key_size = 0;
  expect_fails(bo, EINVAL, {"key_data", "key_size"});
}

// A caller built against the struct before these fields: its sz ends
// earlier, and whatever lies past it is not read.
TEST_F(EmbedCApi, OldSizeStructIgnoresTheNewFields) {
  const char *keys[] = {hb_.pub.c_str(), nullptr};
  std::vector<std::uint8_t> junk(hb_.bytes.size(), 0x5a);
  const std::string not_a_key = "not a key"; // outlives every resolve
  auto bo = opts(junk.data(), junk.size(), not_a_key);
  bo.bundle_path = hb_.bundle.c_str();
  bo.key_paths = keys;
  expect_fails(bo, EBADMSG, {kName}); // full size: the junk is used
  bo.sz = offsetof(btfpack_opts, name);
  btfpack_btf *h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << "old-size struct read past sz: "
                        << btfpack_last_error();
  EXPECT_EQ(read_path(btfpack_btf__path(h)),
            std::string(hb_.blob.begin(), hb_.blob.end()));
  btfpack_btf__free(h);

  // Ending after the bundle fields: the bundle from memory, keys from the
  // files (key_data lies past sz).
  bo = opts(hb_.bytes.data(), hb_.bytes.size(), not_a_key);
  bo.key_paths = keys;
  bo.sz = offsetof(btfpack_opts, key_data);
  h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  btfpack_btf__free(h);
}

// The embedded key alone is trusted: a key in key_paths besides it does
// not stop it, and the key directory is never read.
TEST_F(EmbedCApi, EmbeddedKeyAndKeyPathsBothTrusted) {
  fs::path other = dir_ / "other.pub";
  ASSERT_TRUE(write_file_atomic(other, hb_.other_pub_text).ok());
  const char *keys[] = {other.c_str(), nullptr};
  auto bo = opts(hb_.bytes.data(), hb_.bytes.size(), hb_.pub_text);
  bo.key_paths = keys;
  btfpack_btf *h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  btfpack_btf__free(h);
}

// ---- the build ----

[[maybe_unused]] CmdResult cmake_build(const fs::path &src, const fs::path &bld,
                                       const std::string &args) {
  return sh(
      "cmake -S '" + src.string() + "' -B '" + bld.string() +
      "' -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF " +
      args + " 2>&1 && cmake --build '" + bld.string() + "' 2>&1");
}

// The probe embeds the bundle and writes it back out: identical bytes, on
// this machine and, cross-built, on aarch64 under qemu-user.
void probe_round_trip(const std::string &arch, const std::string &toolchain,
                      const std::string &runner) {
#ifdef BTFPACK_EMBED_DEMO_BUNDLE
  TempDir t;
  auto r = cmake_build(source_dir() / "tests/embed/probe", t / "b",
                       toolchain + " -DBTFPACK_SOURCE_DIR='" +
                           source_dir().string() + "' -DPROBE_BUNDLE='" +
                           BTFPACK_EMBED_DEMO_BUNDLE + "' -DPROBE_KEY='" +
                           BTFPACK_EMBED_DEMO_KEY + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  auto file = sh("file -b '" + (t / "b/embed_probe").string() + "'");
  EXPECT_NE(file.out.find(arch == "aarch64" ? "aarch64" : "x86-64"),
            std::string::npos)
      << file.out;
  EXPECT_NE(file.out.find("statically linked"), std::string::npos) << file.out;
  std::vector<std::string> argv = {(t / "b/embed_probe").string(),
                                   (t / "out.btfpack").string(),
                                   (t / "out.pub").string()};
  if (!runner.empty())
    argv.insert(argv.begin(), runner);
  r = run(argv);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("NUL-terminated"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("opts: set"), std::string::npos) << r.out;
  EXPECT_EQ(*read_file(t / "out.btfpack"),
            *read_file(BTFPACK_EMBED_DEMO_BUNDLE));
  EXPECT_EQ(*read_file(t / "out.pub"), *read_file(BTFPACK_EMBED_DEMO_KEY));
#else
  (void)arch, (void)toolchain, (void)runner;
  GTEST_SKIP() << "examples/embedded_agent is not built here (sanitizer or "
                  "host-only build): no demo bundle";
#endif
}

TEST(EmbedBuild, ProbeEmbedsTheBytesNative) {
  probe_round_trip("native", "-DCMAKE_C_COMPILER='" BTFPACK_CONSUMER_CC "'",
                   "");
}

TEST(EmbedBuild, ProbeEmbedsTheBytesAarch64UnderQemu) {
  if (std::string(BTFPACK_AARCH64_CC).empty() ||
      std::string(BTFPACK_AARCH64_CC).ends_with("NOTFOUND") ||
      std::string(BTFPACK_QEMU_AARCH64).ends_with("NOTFOUND"))
    GTEST_SKIP() << "aarch64-linux-gnu-gcc (crossbuild-essential-arm64) or "
                    "qemu-aarch64-static (qemu-user-static) not installed";
  probe_round_trip(
      "aarch64",
      "-DCMAKE_TOOLCHAIN_FILE='" +
          (source_dir() / "cmake/toolchain-aarch64-linux-gnu.cmake").string() +
          "'",
      BTFPACK_QEMU_AARCH64);
}

// examples/embedded_agent: one static file; it verifies its own demo bundle
// (Debian 11/12 kernels) and, this host not being one of them, says so
// naming the embedded bundle: the verification passed, the match did not.
TEST(EmbedBuild, ExampleAgentIsOneStaticFileVerifyingItsBundle) {
#ifdef BTFPACK_EMBEDDED_AGENT
  auto ld = sh(std::string("ldd '") + BTFPACK_EMBEDDED_AGENT + "' 2>&1");
  EXPECT_NE(ld.out.find("not a dynamic executable"), std::string::npos)
      << ld.out;
  auto r = run({BTFPACK_EMBEDDED_AGENT, "-p", "-t", "1"});
  EXPECT_NE(r.out.find("bundle: embedded bundle demo.btfpack in "
                       "embedded_agent"),
            std::string::npos)
      << r.out;
  auto h = detect_host();
  ASSERT_TRUE(h.ok());
  bool demo_host = h->os_id.value == "debian" &&
                   (h->kernel_release.value == "6.1.0-55-amd64" ||
                    h->kernel_release.value == "5.10.0-32-amd64");
  if (!demo_host) {
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("no BTF for this host (No such file or directory)"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("embedded bundle demo.btfpack in embedded_agent"),
              std::string::npos)
        << r.err;
  }
  r = run({BTFPACK_EMBEDDED_AGENT, "-B", "/x.btfpack"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("embedded"), std::string::npos) << r.err;
#else
  GTEST_SKIP() << "examples/embedded_agent is not built here";
#endif
}

// A third-party agent: find_package(btfpack) against a staged install,
// btfpack_embed_bundle() with a bundle for this host, linked static. It
// resolves from its own binary (no bundle or key on disk) and, where BPF
// may be loaded, loads taskstate and checks the CO-RE reads.
TEST(EmbedBuild, InstalledPackageAgentResolvesFromItsOwnBinary) {
#ifdef BTFPACK_EMBEDDED_AGENT
  TempDir t;
  HostBundle hb;
  std::string why;
  if (!make_host_bundle(t.path(), hb, why))
    GTEST_SKIP() << why;
  auto stage = t / "stage";
  // The library's components (what the -dev package holds), not the
  // programs: the agent needs no btfpack command.
  auto r = sh("for c in runtime dev; do DESTDIR='" + stage.string() +
              "' cmake --install '" + BTFPACK_BUILD_DIR +
              "' --component $c || exit 1; done 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  fs::path prefix = stage / fs::path(BTFPACK_INSTALL_PREFIX).relative_path();
  r = cmake_build(
      source_dir() / "tests/embed/agent", t / "b",
      "-DCMAKE_PREFIX_PATH='" + prefix.string() +
          "' -DCMAKE_C_COMPILER='" BTFPACK_CONSUMER_CC
          "' -DCMAKE_CXX_COMPILER='" BTFPACK_CONSUMER_CXX
          "' -DBTFPACK_SOURCE_DIR='" +
          source_dir().string() +
          "' -DAGENT_SKEL_DIR='" BTFPACK_BPF_OUT "' -DAGENT_BUNDLE='" +
          hb.bundle.string() + "' -DAGENT_KEY='" + hb.pub.string() + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  fs::path agent = t / "b/agent";
  fs::remove(hb.bundle);
  fs::remove(hb.pub);
  // Mounts tracefs when missing; non-empty: BPF cannot be loaded here.
  const std::string no_load = privileged_skip_reason();
  r = run({agent.string(), "-p", "-t", "10"});
  EXPECT_NE(r.out.find("bundle: embedded bundle host.btfpack in agent"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_NE(r.out.find("btf /proc/self/fd/"), std::string::npos)
      << r.out << r.err;
  EXPECT_NE(r.out.find("exact match"), std::string::npos) << r.out;
  if (r.status != 0 && !no_load.empty())
    GTEST_SKIP() << "resolved from the embedded bundle; not loaded: "
                 << no_load;
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" 0 wrong"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("BAD"), std::string::npos) << r.out;
#else
  GTEST_SKIP() << "examples/embedded_agent is not built here (no static "
                  "link in sanitizer builds)";
#endif
}

} // namespace
