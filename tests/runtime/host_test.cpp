// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <sys/utsname.h>

#include "btfpack/file_util.h"
#include "btfpack/host.h"
#include "test_util.h"

using namespace btfpack;
namespace fs = std::filesystem;
using btfpack::test::data_dir;
using btfpack::test::TempDir;

namespace {

TEST(Host, DetectsThisMachine) {
  auto h = detect_host();
  ASSERT_TRUE(h.ok()) << h.error().message;
  struct utsname u {};
  ASSERT_EQ(::uname(&u), 0);
  EXPECT_EQ(h->kernel_release.value, u.release);
  EXPECT_EQ(h->kernel_release.source, "uname(2)");
  EXPECT_EQ(h->machine.value, u.machine);
  EXPECT_EQ(h->native_btf.value,
            fs::exists("/sys/kernel/btf/vmlinux") ? "yes" : "no");
  if (fs::exists("/etc/os-release")) {
    EXPECT_TRUE(h->os_id.present());
    EXPECT_EQ(h->os_id.source, "/etc/os-release");
  }
  EXPECT_TRUE(h->proc_version.value.rfind("Linux version", 0) == 0)
      << h->proc_version.value;
}

TEST(Host, OverridesWinAndAreRecorded) {
  HostOptions o;
  o.kernel_release = "4.18.0-147.5.1.el8_1.aarch64";
  o.machine = "aarch64";
  o.os_release_file = data_dir() / "os-release" / "rocky-8.6";
  o.native_btf = false;
  o.os_version_id = "8.1";
  auto h = detect_host(o);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->kernel_release.source, "--kernel-release");
  EXPECT_EQ(h->machine.value, "aarch64");
  EXPECT_EQ(h->arch.value, "arm64");
  EXPECT_NE(h->arch.source.find("named arm64"), std::string::npos);
  EXPECT_EQ(h->os_id.value, "rocky");
  EXPECT_EQ(h->os_id.source, o.os_release_file->string());
  EXPECT_EQ(h->os_version_id.value, "8.1");
  EXPECT_EQ(h->os_version_id.source, "override (os version id)");
  EXPECT_EQ(h->id_like(),
            (std::vector<std::string>{"rhel", "centos", "fedora"}));
  EXPECT_FALSE(h->has_native_btf());
}

TEST(Host, HostRootFollowsAbsoluteSymlinksInsideTheRoot) {
  // /host/etc/os-release -> /usr/lib/os-release must mean
  // /host/usr/lib/os-release, not the container's own file.
  TempDir t;
  fs::create_directories(t / "etc");
  fs::create_directories(t / "usr/lib");
  fs::copy_file(data_dir() / "os-release" / "amzn-2", t / "usr/lib/os-release");
  fs::create_symlink("/usr/lib/os-release", t / "etc/os-release");
  fs::create_directories(t / "sys/kernel/btf");
  HostOptions o;
  o.host_root = t.path();
  auto h = detect_host(o);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->os_id.value, "amzn");
  EXPECT_EQ(h->os_version_id.value, "2");
  EXPECT_EQ(h->os_release_file.value, (t / "usr/lib/os-release").string());
  // The host root has /sys/kernel but no btf/vmlinux in it.
  EXPECT_EQ(h->native_btf.value, "no");
  EXPECT_EQ(h->native_btf.source, (t / "sys/kernel/btf/vmlinux").string());
}

TEST(Host, HostRootFallsBackToUsrLibOsRelease) {
  TempDir t;
  fs::create_directories(t / "usr/lib");
  fs::copy_file(data_dir() / "os-release" / "fedora-38",
                t / "usr/lib/os-release");
  HostOptions o;
  o.host_root = t.path();
  auto h = detect_host(o);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->os_id.value, "fedora");
  EXPECT_EQ(h->os_version_id.value, "38");
}

TEST(Host, MissingOsReleaseIsAWarningNotAFailure) {
  TempDir t;
  HostOptions o;
  o.host_root = t.path();
  o.kernel_release = "5.4.0-1029-aws";
  auto h = detect_host(o);
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->os_id.present());
  EXPECT_NE(h->os_id.source.find("missing"), std::string::npos);
  ASSERT_FALSE(h->warnings.empty());
  EXPECT_NE(h->warnings.front().find("kernel release alone"),
            std::string::npos);
}

TEST(Host, BinaryOsReleaseIsAWarning) {
  HostOptions o;
  o.os_release_file = data_dir() / "os-release" / "binary-garbage";
  auto h = detect_host(o);
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->os_id.present());
  ASSERT_FALSE(h->warnings.empty());
  EXPECT_NE(h->warnings.front().find("NUL"), std::string::npos);
}

TEST(Host, UnknownArchIsFlagged) {
  HostOptions o;
  o.machine = "m68k";
  auto h = detect_host(o);
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(known_arch(h->arch.value));
  bool flagged = false;
  for (const auto &w : h->warnings)
    flagged = flagged || w.find("m68k") != std::string::npos;
  EXPECT_TRUE(flagged);
}

TEST(Host, EmptyOverrideIsRefused) {
  HostOptions o;
  o.kernel_release = "";
  auto h = detect_host(o);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, Errc::invalid_argument);
}

} // namespace
