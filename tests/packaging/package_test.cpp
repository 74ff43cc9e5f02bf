// SPDX-License-Identifier: Apache-2.0
//
// The packages as users get them: the .deb built by cpack and installed
// into a throwaway root with dpkg (maintainer scripts included), the .rpm's
// file list and scripts, the offline .tar.gz, and a third-party CMake
// project and a C program built with pkg-config against the *installed*
// package (a DESTDIR staging of `cmake --install`, not the build tree).
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/host.h"
#include "btfpack/keys.h"
#include "test_util.h"

namespace btfpack {
namespace {

namespace fs = std::filesystem;
using test::sh;
using test::TempDir;

const fs::path kBuild = BTFPACK_BUILD_DIR;

// The files every package must hold (paths below the package root; the
// library directory depends on the configured prefix).
// The .rpm library directory (packaging/CMakeLists.txt).
constexpr const char *kRpmLibdir = sizeof(void *) == 8 ? "lib64" : "lib";

std::vector<std::string>
required_files(std::string lib = BTFPACK_INSTALL_LIBDIR) {
  return {"usr/bin/btfpack",
          "usr/libexec/btfpack/btfpack-build",
          "usr/" + lib + "/libbtfpack.so",
          "usr/" + lib + "/libbtfpack.so.0",
          "usr/" + lib + "/pkgconfig/btfpack.pc",
          "usr/" + lib + "/cmake/btfpack/btfpackConfig.cmake",
          "usr/" + lib + "/cmake/btfpack/btfpackConfigVersion.cmake",
          "usr/" + lib + "/cmake/btfpack/btfpackTargets.cmake",
          "usr/" + lib + "/libbtfpack.a",
          "usr/include/btfpack/btfpack.h",
          "usr/include/btfpack/btf_helpers.h",
          "usr/share/man/man1/btfpack.1",
          "usr/share/btfpack/btfpack.json",
          "usr/share/btfpack/ci/local-run.sh",
          "usr/share/btfpack/ci/github-workflow.yml",
          "usr/share/btfpack/ci/gitlab-ci.yml",
          "usr/share/btfpack/bundle-package/CMakeLists.txt",
          "etc/btfpack/keys",
          "var/lib/btfpack/bundles",
          "var/cache/btfpack"};
}

// cpack builds one package kind from the project's build tree.
fs::path cpack(const std::string &gen, const fs::path &out) {
  auto r = sh("cpack --config '" + (kBuild / "CPackConfig.cmake").string() +
              "' -G " + gen + " -B '" + out.string() + "' 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  for (auto &e : fs::directory_iterator(out)) {
    auto n = e.path().filename().string();
    if ((gen == "DEB" && n.ends_with(".deb")) ||
        (gen == "RPM" && n.ends_with(".rpm")) ||
        (gen == "TGZ" && n.ends_with(".tar.gz")))
      return e.path();
  }
  ADD_FAILURE() << "cpack -G " << gen << " wrote no package: " << r.out;
  return {};
}

std::set<std::string> lines(const std::string &text) {
  std::set<std::string> s;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    while (!l.empty() && (l.back() == '/' || l.back() == '\r'))
      l.pop_back();
    if (l.starts_with("./"))
      l = l.substr(2);
    if (l.starts_with("/"))
      l = l.substr(1);
    if (!l.empty())
      s.insert(l);
  }
  return s;
}

TEST(Package, DebInstallsIntoThrowawayRoot) {
  TempDir t;
  auto deb = cpack("DEB", t.path());
  ASSERT_FALSE(deb.empty());

  // Contents (dpkg-deb -c prints "perms owner size date time ./path").
  auto r = sh("dpkg-deb -c '" + deb.string() + "' | awk '{print $6}'");
  ASSERT_EQ(r.status, 0) << r.err;
  auto files = lines(r.out);
  for (const auto &f : required_files())
    EXPECT_TRUE(files.count(f)) << f << " missing from the .deb";

  // Control: name, dependencies found by dpkg-shlibdeps, shlibs, scripts.
  r = sh("dpkg-deb -f '" + deb.string() + "' Package Depends");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Package: btfpack"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("libc6"), std::string::npos) << r.out;
  auto needs_bpf =
      sh("readelf -d '" + (kBuild / "packaging/libbtfpack.so").string() +
         "' | grep -q 'libbpf.so'");
  if (needs_bpf.status == 0) {
    EXPECT_NE(r.out.find("libbpf1"), std::string::npos) << r.out;
  }
  r = sh("dpkg-deb -I '" + deb.string() + "' shlibs postinst");
  EXPECT_NE(r.out.find("libbtfpack 0 btfpack"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ldconfig"), std::string::npos) << r.out;

  // Install into an empty root with dpkg itself; maintainer scripts run
  // (chrootless: the root holds no shell).
  auto root = t / "root";
  for (auto d : {"var/lib/dpkg/info", "var/lib/dpkg/updates"})
    fs::create_directories(root / d);
  std::ofstream(root / "var/lib/dpkg/status").close();
  r = sh("dpkg --root='" + root.string() +
         "' --force-not-root --force-depends --force-script-chrootless "
         "--log=/dev/null -i '" +
         deb.string() + "' 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  r = sh("dpkg --root='" + root.string() + "' -s btfpack");
  EXPECT_NE(r.out.find("Status: install ok installed"), std::string::npos)
      << r.out;
  for (const auto &f : required_files())
    EXPECT_TRUE(fs::exists(root / f)) << f;
  EXPECT_TRUE(fs::is_directory(root / "etc/btfpack/keys"));
  EXPECT_TRUE(fs::is_directory(root / "var/lib/btfpack/bundles"));
  r = sh("'" + (root / "usr/bin/btfpack").string() + "' --version");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("btfpack 0."), std::string::npos) << r.out;
  r = sh("'" + (root / "usr/bin/btfpack").string() + "' install --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--allow-downgrade"), std::string::npos);
  // A build-side command runs the installed libexec/btfpack/btfpack-build.
  r = sh("'" + (root / "usr/bin/btfpack").string() + "' gen --help");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("--shard"), std::string::npos) << r.out;
  // And removed again, cleanly.
  r = sh("dpkg --root='" + root.string() +
         "' --force-not-root --force-script-chrootless --log=/dev/null -r "
         "btfpack 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(fs::exists(root / "usr/bin/btfpack"));
}

TEST(Package, RpmFileListAndScripts) {
  TempDir t;
  auto rpm = cpack("RPM", t.path());
  ASSERT_FALSE(rpm.empty());
  auto r = sh("rpm -qlp '" + rpm.string() + "' 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.err;
  auto files = lines(r.out);
  for (const auto &f : required_files(kRpmLibdir))
    EXPECT_TRUE(files.count(f)) << f << " missing from the .rpm";
  // The package owns its own directories, not the system's.
  EXPECT_FALSE(files.count("etc"));
  EXPECT_FALSE(files.count("usr/include"));
  r = sh("rpm -qp --scripts '" + rpm.string() + "' 2>/dev/null");
  EXPECT_NE(r.out.find("ldconfig"), std::string::npos) << r.out;
  r = sh("rpm -qp --provides '" + rpm.string() + "' 2>/dev/null");
  EXPECT_NE(r.out.find("libbtfpack.so.0()(64bit)"), std::string::npos) << r.out;
  r = sh("rpm -qp --qf '%{NAME} %{VERSION} %{LICENSE}' '" + rpm.string() +
         "' 2>/dev/null");
  EXPECT_EQ(r.out, std::string("btfpack ") + BTFPACK_VERSION + " Apache-2.0");
  // Our description, not CPack's placeholder; a payload rpm < 4.14 (CentOS
  // 7, Amazon Linux 2) can read.
  r = sh("rpm -qp --qf '%{DESCRIPTION}|%{PAYLOADCOMPRESSOR}' '" + rpm.string() +
         "' 2>/dev/null");
  EXPECT_NE(r.out.find("signed bundle of minimized BTFs"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("no package description"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("|gzip"), std::string::npos) << r.out;
  r = sh("rpm -qpR '" + rpm.string() + "' 2>/dev/null");
  EXPECT_EQ(r.out.find("PayloadIsZstd"), std::string::npos) << r.out;
}

// The .rpm's library directory is /usr/lib64 (RHEL-family loaders never
// search Debian's multiarch dir), its pkg-config and CMake files with it,
// and both still relocatable: unpacked anywhere, they find the library.
TEST(Package, RpmLibdirIsLib64AndRelocatable) {
  TempDir t;
  auto rpm = cpack("RPM", t.path());
  ASSERT_FALSE(rpm.empty());
  auto r = sh("rpm -qpl '" + rpm.string() + "' 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.err;
  auto files = lines(r.out);
  const std::string lib = std::string("usr/") + kRpmLibdir;
  for (const char *f :
       {"/libbtfpack.so.0", "/libbtfpack.so", "/libbtfpack.so." BTFPACK_VERSION,
        "/libbtfpack.a", "/pkgconfig/btfpack.pc",
        "/cmake/btfpack/btfpackConfig.cmake",
        "/cmake/btfpack/btfpackTargets.cmake"})
    EXPECT_TRUE(files.count(lib + f)) << lib + f << " missing: " << r.out;
  for (const auto &f : files)
    EXPECT_TRUE(f.find("x86_64-linux-gnu") == std::string::npos &&
                f.find("aarch64-linux-gnu") == std::string::npos)
        << f << " is a Debian multiarch path in the .rpm";
  // The .deb keeps the configured (Debian) library directory.
  auto deb = cpack("DEB", t / "deb");
  ASSERT_FALSE(deb.empty());
  r = sh("dpkg-deb -c '" + deb.string() + "' | awk '{print $6}'");
  EXPECT_NE(r.out.find(std::string("usr/") + BTFPACK_INSTALL_LIBDIR +
                       "/libbtfpack.so.0"),
            std::string::npos)
      << r.out;

  // Unpacked into a throwaway root: pkg-config and find_package resolve to
  // the lib64 library from the files' own place. (btfpack_DIR: CMake on a
  // Debian host does not search lib64 below a prefix; RHEL's does.)
  auto root = t / "root";
  fs::create_directories(root);
  r = sh("cd '" + root.string() + "' && rpm2cpio '" + rpm.string() +
         "' | cpio -idm --quiet 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  r = sh("PKG_CONFIG_PATH='" + (root / lib / "pkgconfig").string() +
         "' pkg-config --variable=libdir btfpack");
  ASSERT_EQ(r.status, 0) << r.err;
  std::string pc_libdir = r.out.substr(0, r.out.find_last_not_of("\n") + 1);
  EXPECT_TRUE(fs::exists(fs::path(pc_libdir) / "libbtfpack.so.0")) << pc_libdir;
  EXPECT_EQ(fs::weakly_canonical(pc_libdir), fs::weakly_canonical(root / lib));
  auto probe = t / "probe";
  fs::create_directories(probe);
  {
    std::ofstream o(probe / "CMakeLists.txt");
    o << "cmake_minimum_required(VERSION 3.20)\nproject(probe LANGUAGES "
         "NONE)\nfind_package(btfpack REQUIRED)\nget_target_property(l "
         "btfpack::runtime LOCATION)\nmessage(STATUS \"btfpack-lib=${l}\")\n";
  }
  r = sh("cmake -S '" + probe.string() + "' -B '" + (probe / "b").string() +
         "' -Dbtfpack_DIR='" + (root / lib / "cmake/btfpack").string() +
         "' -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("btfpack-lib=" + (root / lib).string() +
                       "/libbtfpack.so." BTFPACK_VERSION),
            std::string::npos)
      << r.out;
}

TEST(Package, TarballUnpacksAtRoot) {
  TempDir t;
  auto tgz = cpack("TGZ", t.path());
  ASSERT_FALSE(tgz.empty());
  auto r = sh("tar -tzf '" + tgz.string() + "'");
  ASSERT_EQ(r.status, 0);
  auto files = lines(r.out);
  for (const auto &f : required_files())
    EXPECT_TRUE(files.count(f)) << f << " missing from the .tar.gz";
}

// A third-party CMake project (find_package) and a C program (pkg-config)
// built and run against a staged install of the package.
TEST(Package, ThirdPartyBuildsAgainstInstalledPackage) {
  TempDir t;
  auto stage = t / "stage";
  auto r = sh("DESTDIR='" + stage.string() + "' cmake --install '" +
              kBuild.string() + "' 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  fs::path prefix = stage / fs::path(BTFPACK_INSTALL_PREFIX).relative_path();
  fs::path libdir = prefix / BTFPACK_INSTALL_LIBDIR;
  ASSERT_TRUE(fs::exists(libdir / "libbtfpack.so.0"));
  // Absolute host directories land inside DESTDIR, never on this machine.
  EXPECT_TRUE(fs::is_directory(stage / "etc/btfpack/keys"));
  EXPECT_TRUE(fs::is_directory(stage / "var/lib/btfpack/bundles"));

  // Real BTF input: the .BTF section of one of the project's BPF objects.
  auto btf = t / "input.btf";
  r = sh("llvm-objcopy --dump-section .BTF='" + btf.string() + "' '" +
         (test::bpf_obj_dir() / "taskstate.bpf.o").string() + "' '" +
         (t / "scratch.o").string() + "'");
  ASSERT_EQ(r.status, 0) << r.err;

  // Public headers only: the C API and the libbpf-tools drop-in.
  std::set<std::string> headers;
  for (const auto &e : fs::directory_iterator(prefix / "include/btfpack"))
    headers.insert(e.path().filename().string());
  EXPECT_EQ(headers, (std::set<std::string>{"btfpack.h", "btf_helpers.h"}));
  ASSERT_TRUE(fs::exists(libdir / "libbtfpack.a"));

  // A bundle for this host holding that BTF, signed with a fresh key.
  auto host = detect_host();
  ASSERT_TRUE(host.ok()) << host.error().message;
  ASSERT_TRUE(host->os_id.present());
  auto blob = read_file(btf);
  auto key = SecretKey::generate();
  ASSERT_TRUE(blob.ok() && key.ok());
  auto pub = t / "k.pub";
  ASSERT_TRUE(write_file_atomic(pub, key->public_key().to_minisign()).ok());
  BundleMeta meta;
  meta.name = "consumer";
  meta.version = 7;
  BundleWriter w(meta);
  ASSERT_TRUE(w.add({host->os_id.value, host->os_version_id.value,
                     host->arch.value, host->kernel_release.value},
                    *blob)
                  .ok());
  auto bundle = t / "c.btfpack";
  ASSERT_TRUE(w.write(bundle, *key).ok());
  const std::string args = " '" + bundle.string() + "' '" + pub.string() +
                           "' '" + btf.string() + "'";

  // CMake: find_package(btfpack) -> btfpack::runtime and, outside sanitizer
  // builds (ASan cannot link static executables), btfpack::runtime_static.
  auto src = test::source_dir() / "tests/packaging/consumer";
  auto bld = t / "consumer-build";
  // Same compilers as this build; in sanitizer builds also the same
  // sanitizers, since the installed library is instrumented.
  const std::string flags = BTFPACK_CONSUMER_FLAGS;
  const bool can_static = flags.empty();
  r = sh("cmake -S '" + src.string() + "' -B '" + bld.string() +
         "' -DCMAKE_PREFIX_PATH='" + prefix.string() +
         "' -DCMAKE_CXX_COMPILER='" BTFPACK_CONSUMER_CXX
         "' -DCMAKE_CXX_FLAGS='" +
         flags + "' -DCMAKE_EXE_LINKER_FLAGS='" + flags +
         "' -DCONSUMER_STATIC=" + (can_static ? "ON" : "OFF") +
         " -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF 2>&1 && cmake --build '" +
         bld.string() + "' 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  r = sh("LD_LIBRARY_PATH='" + libdir.string() + "' '" +
         (bld / "consumer").string() + "'" + args);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok consumer exact match"), std::string::npos) << r.out;
  // It really runs on the staged libbtfpack.so.
  r = sh("LD_LIBRARY_PATH='" + libdir.string() + "' ldd '" +
         (bld / "consumer").string() + "'");
  EXPECT_NE(r.out.find((libdir / "libbtfpack.so.0").string()),
            std::string::npos)
      << r.out;
  if (can_static) {
    r = sh("ldd '" + (bld / "consumer_static").string() + "' 2>&1");
    EXPECT_NE(r.out.find("not a dynamic executable"), std::string::npos)
        << r.out;
    r = sh("'" + (bld / "consumer_static").string() + "'" + args);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("ok consumer exact match"), std::string::npos)
        << r.out;
  }

  // pkg-config: flags from the staged btfpack.pc (relocatable prefix).
  std::string pc = "PKG_CONFIG_PATH='" + (libdir / "pkgconfig").string() + "' ";
  r = sh(pc + "pkg-config --cflags --libs btfpack");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("-lbtfpack"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-lbpf"), std::string::npos) << r.out;
  auto inc = r.out.substr(r.out.find("-I") + 2);
  inc = inc.substr(0, inc.find(' '));
  EXPECT_EQ(fs::canonical(inc), fs::canonical(prefix / "include")) << r.out;
  r = sh(pc + "pkg-config --variable=keysdir btfpack");
  EXPECT_EQ(r.out, "/etc/btfpack/keys\n");

  // The C example loader (examples/taskstate), built like a C project
  // would: cc + pkg-config, the skeleton from bpf/.
  auto csrc = test::source_dir() / "examples/taskstate/taskstate.c";
  ASSERT_TRUE(fs::exists(csrc)) << csrc;
  auto cbin = t / "taskstate";
  r = sh("'" BTFPACK_CONSUMER_CC "' " BTFPACK_CONSUMER_CFLAGS
         " -std=gnu11 -Wall -Werror -o '" +
         cbin.string() + "' '" + csrc.string() + "' -I'" +
         (test::source_dir() / "bpf").string() + "' -I'" +
         test::bpf_obj_dir().string() + "' $(" + pc +
         "pkg-config --cflags --libs btfpack) 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  r = sh("LD_LIBRARY_PATH='" + libdir.string() + "' ldd '" + cbin.string() +
         "'");
  EXPECT_NE(r.out.find((libdir / "libbtfpack.so.0").string()),
            std::string::npos)
      << r.out;
  r = sh("LD_LIBRARY_PATH='" + libdir.string() + "' '" + cbin.string() +
         "' --help 2>&1");
  EXPECT_NE(r.out.find("usage"), std::string::npos) << r.out;

  // The same loader as one static executable, from pkg-config --static
  // alone (libbtfpack.a, libbpf.a, libelf.a, libz.a, libcrypto.a, ...).
  if (can_static) {
    r = sh(pc + "pkg-config --static --libs btfpack");
    EXPECT_NE(r.out.find("-lelf"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("-lcrypto"), std::string::npos) << r.out;
    auto sbin = t / "taskstate-static";
    r = sh("'" BTFPACK_CONSUMER_CC "' -static -std=gnu11 -Wall -Werror -o '" +
           sbin.string() + "' '" + csrc.string() + "' -I'" +
           (test::source_dir() / "bpf").string() + "' -I'" +
           test::bpf_obj_dir().string() + "' $(" + pc +
           "pkg-config --static --cflags --libs btfpack) 2>&1");
    ASSERT_EQ(r.status, 0) << r.out;
    r = sh("ldd '" + sbin.string() + "' 2>&1");
    EXPECT_NE(r.out.find("not a dynamic executable"), std::string::npos)
        << r.out;
    r = sh("'" + sbin.string() + "' --help 2>&1");
    EXPECT_NE(r.out.find("usage"), std::string::npos) << r.out;
  }
}

// bundle_package configures packaging/bundle-package for `bundle` and
// builds its packages; returns the cmake/cpack status and output.
test::CmdResult bundle_package(const fs::path &bundle, const fs::path &pub,
                               const fs::path &dir) {
  return sh("cmake -S '" +
            (test::source_dir() / "packaging/bundle-package").string() +
            "' -B '" + dir.string() + "' -DBUNDLE='" + bundle.string() +
            "' -DBUNDLE_KEY='" + pub.string() + "' -DBTFPACK='" +
            test::cli_path().string() + "' 2>&1 && cmake --build '" +
            dir.string() + "' --target package 2>&1");
}

// A signed bundle wrapped in its own .deb/.rpm: installing the .deb into a
// throwaway root runs `btfpack install` (postinst) into that root's store;
// a lower bundle version is refused there too; a bundle that does not
// verify cannot even be packaged.
TEST(Package, BundlePackageInstallsThroughBtfpackInstall) {
  TempDir t;
  auto key = SecretKey::generate().value();
  ASSERT_TRUE(write_key_pair(key, t / "release").ok());
  auto pub = t / "release.pub";
  auto btf = t / "input.btf";
  auto r = sh("llvm-objcopy --dump-section .BTF='" + btf.string() + "' '" +
              (test::bpf_obj_dir() / "nspid.bpf.o").string() + "' '" +
              (t / "scratch.o").string() + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  auto make = [&](std::uint64_t version, const std::string &release) {
    BundleMeta meta;
    meta.name = "fleet";
    meta.version = version;
    BundleWriter w(meta);
    EXPECT_TRUE(
        w.add({"debian", "12", "x86_64", release}, read_file(btf).value())
            .ok());
    auto p = t / ("fleet-" + std::to_string(version) + ".btfpack");
    EXPECT_TRUE(w.write(p, key).ok());
    return p;
  };
  auto v5 = make(5, "6.1.0-5"), v4 = make(4, "6.1.0-4");

  r = bundle_package(v5, pub, t / "pkg5");
  ASSERT_EQ(r.status, 0) << r.out;
  auto deb = t / "pkg5/btfpack-bundle-fleet_5-1_all.deb";
  auto rpm = t / "pkg5/btfpack-bundle-fleet-5-1.noarch.rpm";
  ASSERT_TRUE(fs::exists(deb)) << r.out;
  ASSERT_TRUE(fs::exists(rpm)) << r.out;
  r = sh("dpkg-deb -f '" + deb.string() + "' Package Version Depends");
  EXPECT_EQ(r.out, "Package: btfpack-bundle-fleet\nVersion: 5-1\n"
                   "Depends: btfpack (>= 0.1)\n");
  r = sh("dpkg-deb -c '" + deb.string() + "' | awk '{print $6}'");
  auto files = lines(r.out);
  EXPECT_TRUE(
      files.count("usr/share/btfpack/bundles/btfpack-bundle-fleet.btfpack"));
  EXPECT_TRUE(files.count("etc/btfpack/keys/btfpack-bundle-fleet.pub"));
  // Nothing outside the bundle and key: no empty /usr/local (CPack stages
  // the default install prefix unless told otherwise).
  for (const auto &f : files)
    EXPECT_EQ(f.rfind("usr/local", 0), std::string::npos) << f;
  r = sh("rpm -qlp '" + rpm.string() + "' 2>/dev/null");
  files = lines(r.out);
  EXPECT_TRUE(
      files.count("usr/share/btfpack/bundles/btfpack-bundle-fleet.btfpack"));
  EXPECT_TRUE(files.count("etc/btfpack/keys/btfpack-bundle-fleet.pub"));
  r = sh("rpm -qp --scripts --requires '" + rpm.string() + "' 2>/dev/null");
  EXPECT_NE(r.out.find("exec btfpack install"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("btfpack >= 0.1"), std::string::npos) << r.out;

  // Install into a throwaway root; postinst runs (chrootless) with
  // DPKG_ROOT set and the built btfpack first on PATH.
  auto root = t / "root";
  for (auto d : {"var/lib/dpkg/info", "var/lib/dpkg/updates"})
    fs::create_directories(root / d);
  std::ofstream(root / "var/lib/dpkg/status").close();
  std::string dpkg = "PATH='" + test::cli_path().parent_path().string() +
                     "':$PATH dpkg --root='" + root.string() +
                     "' --force-not-root --force-depends "
                     "--force-script-chrootless --log=/dev/null ";
  r = sh(dpkg + "-i '" + deb.string() + "' 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("installed fleet version 5"), std::string::npos)
      << r.out;
  std::vector<PublicKey> trusted{PublicKey::read_file(pub).value()};
  auto current = root / "var/lib/btfpack/current";
  auto b = Bundle::open(current, trusted);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->meta().version, 5u);

  // A package carrying a lower version: its postinst refuses, dpkg fails,
  // the store keeps version 5.
  r = bundle_package(v4, pub, t / "pkg4");
  ASSERT_EQ(r.status, 0) << r.out;
  r = sh(dpkg + "-i '" +
         (t / "pkg4/btfpack-bundle-fleet_4-1_all.deb").string() + "' 2>&1");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("--allow-downgrade"), std::string::npos) << r.out;
  b = Bundle::open(current, trusted);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->meta().version, 5u);

  // Signed by another key than BUNDLE_KEY: configure fails.
  auto other = SecretKey::generate().value();
  ASSERT_TRUE(write_key_pair(other, t / "other").ok());
  r = bundle_package(v5, t / "other.pub", t / "pkgbad");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("does not verify"), std::string::npos) << r.out;
}

} // namespace
} // namespace btfpack
