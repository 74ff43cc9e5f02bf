// SPDX-License-Identifier: Apache-2.0
//
// libbtfpack as it ships: libbtfpack.so exports the C API only, each name
// at version BTFPACK_0.1 (packaging/libbtfpack.map); it names no libbpf in
// its DT_NEEDED, taking libbpf from the program; neither the .so nor the
// .a holds the test hooks; and a program linking libbpf.a statically plus
// libbtfpack.so has exactly one libbpf (none mapped from a libbpf.so) and
// resolves through it.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/host.h"
#include "btfpack/keys.h"
#include "test_util.h"

using namespace btfpack;
using namespace btfpack::test;

namespace {

std::string slurp(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The names the version script makes global.
std::set<std::string> script_globals() {
  std::string s = slurp(BTFPACK_VERSION_SCRIPT);
  auto a = s.find("global:"), b = s.find("local:");
  EXPECT_NE(a, std::string::npos);
  EXPECT_NE(b, std::string::npos);
  std::set<std::string> out;
  std::regex name("([A-Za-z_][A-Za-z0-9_]*);");
  std::string part = s.substr(a, b - a);
  for (std::sregex_iterator it(part.begin(), part.end(), name), end; it != end;
       ++it)
    out.insert((*it)[1]);
  return out;
}

TEST(Library, ExportsOnlyTheCApiAtBtfpack01) {
  auto want = script_globals();
  ASSERT_GE(want.size(), 8u);
  auto r = sh(std::string("nm -D --defined-only '") + BTFPACK_SHARED_LIB + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  std::set<std::string> got;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::string sym = line.substr(line.rfind(' ') + 1);
    if (sym == "BTFPACK_0.1")
      continue; // the version node itself
    auto at = sym.find("@@");
    EXPECT_NE(at, std::string::npos) << sym << " has no version";
    if (at != std::string::npos) {
      EXPECT_EQ(sym.substr(at), "@@BTFPACK_0.1") << sym;
      sym = sym.substr(0, at);
    }
    got.insert(sym);
  }
  EXPECT_EQ(got, want) << r.out;
  // Each exported name is declared in the public header.
  std::string h = slurp(source_dir() / "runtime/include/btfpack/btfpack.h");
  for (const auto &s : want)
    EXPECT_NE(h.find(s + "("), std::string::npos) << s;
  // readelf agrees: nothing else GLOBAL and defined in the dynamic table.
  r = sh(std::string("readelf -W --dyn-syms '") + BTFPACK_SHARED_LIB +
         "' | awk '$5 != \"LOCAL\" && $7 != \"UND\" && NR > 3 {print $8}'");
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream in2(r.out);
  while (std::getline(in2, line)) {
    if (line.empty() || line == "BTFPACK_0.1")
      continue;
    std::string base = line.substr(0, line.find('@'));
    EXPECT_TRUE(want.count(base)) << "exported: " << line;
  }
}

TEST(Library, TakesLibbpfFromTheProgram) {
  auto r = sh(std::string("readelf -d '") + BTFPACK_SHARED_LIB + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("libcrypto"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("libbpf"), std::string::npos) << "libbpf in DT_NEEDED:\n"
                                                     << r.out;
  r = sh(std::string("nm -D --undefined-only '") + BTFPACK_SHARED_LIB + "'");
  EXPECT_NE(r.out.find("libbpf_set_print"), std::string::npos) << r.out;
}

TEST(Library, HoldsNoTestHooks) {
  for (const char *lib : {BTFPACK_SHARED_LIB, BTFPACK_STATIC_LIB}) {
    std::string s = slurp(lib);
    ASSERT_GT(s.size(), 0u) << lib;
    EXPECT_EQ(s.find("BTFPACK_TEST_CRASH_AT"), std::string::npos) << lib;
  }
  std::string cli = slurp(cli_path());
  if (!BTFPACK_TEST_HOOKS)
    EXPECT_EQ(cli.find("BTFPACK_TEST_CRASH_AT"), std::string::npos)
        << "a build without BTFPACK_TEST_HOOKS has the crash points";
  else
    EXPECT_NE(cli.find("BTFPACK_TEST_CRASH_AT"), std::string::npos)
        << "the test build's btfpack lacks its crash points";
}

TEST(Library, OneLibbpfWithAStaticLibbpf) {
#ifndef BTFPACK_ONE_LIBBPF
  GTEST_SKIP() << "libbpf.a, libelf.a, libz.a or libzstd.a not found "
                  "(apt-get install libbpf-dev libelf-dev zlib1g-dev "
                  "libzstd-dev)";
#else
  auto ld = sh(std::string("ldd '") + BTFPACK_ONE_LIBBPF + "'");
  ASSERT_EQ(ld.status, 0) << ld.err;
  EXPECT_NE(ld.out.find("libbtfpack.so"), std::string::npos) << ld.out;
  EXPECT_EQ(ld.out.find("libbpf"), std::string::npos) << ld.out;

  // A bundle for this host holding a one-type BTF, signed with a fresh key.
  auto host = detect_host();
  ASSERT_TRUE(host.ok()) << host.error().message;
  ASSERT_TRUE(host->os_id.present());
  std::vector<std::uint8_t> btf = {
      0x9f, 0xeb, 1, 0, 24, 0, 0,  0, 0, 0, 0, 0,   16,  0,   0,
      0,    16,   0, 0, 0,  5, 0,  0, 0, 1, 0, 0,   0,   0,   0,
      0,    1,    4, 0, 0,  0, 32, 0, 0, 1, 0, 'i', 'n', 't', 0};
  TempDir t;
  auto key = SecretKey::generate();
  ASSERT_TRUE(key.ok());
  fs::path pub = t / "k.pub";
  ASSERT_TRUE(write_file_atomic(pub, key->public_key().to_minisign()).ok());
  BundleMeta meta;
  meta.name = "lib";
  meta.version = 1;
  BundleWriter w(meta);
  ASSERT_TRUE(w.add({host->os_id.value, host->os_version_id.value,
                     host->arch.value, host->kernel_release.value},
                    btf)
                  .ok());
  ASSERT_TRUE(w.write(t / "b.btfpack", *key).ok());
  auto r = run({BTFPACK_ONE_LIBBPF, (t / "b.btfpack").string(), pub.string()});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("maps: no libbpf.so"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("btf /proc/self/fd/"), std::string::npos)
      << r.out << r.err;
#endif
}

} // namespace
