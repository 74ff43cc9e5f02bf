// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "btfpack/file_util.h"
#include "btfpack/os_release.h"
#include "test_util.h"

using namespace btfpack;
using btfpack::test::data_dir;

namespace {

OsRelease read(const std::string &name) {
  auto r = read_os_release(data_dir() / "os-release" / name);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : OsRelease{};
}

struct Expect {
  const char *file, *id, *version_id, *id_like, *name;
};

class RealOsRelease : public ::testing::TestWithParam<Expect> {};

TEST_P(RealOsRelease, ParsesIdVersionIdLikeAndName) {
  const auto &e = GetParam();
  auto os = read(e.file);
  EXPECT_EQ(os.id(), e.id);
  EXPECT_EQ(os.version_id(), e.version_id);
  EXPECT_EQ(os.get("ID_LIKE"), e.id_like);
  EXPECT_EQ(os.name(), e.name);
  EXPECT_TRUE(os.skipped.empty()) << os.skipped.front();
}

INSTANTIATE_TEST_SUITE_P(
    Files, RealOsRelease,
    ::testing::Values(
        Expect{"ubuntu-20.04", "ubuntu", "20.04", "debian", "Ubuntu"},
        Expect{"ubuntu-18.04", "ubuntu", "18.04", "debian", "Ubuntu"},
        Expect{"fedora-38", "fedora", "38", "", "Fedora Linux"},
        Expect{"centos-7", "centos", "7", "rhel fedora", "CentOS Linux"},
        Expect{"centos-8", "centos", "8", "rhel fedora", "CentOS Linux"},
        Expect{"rhel-8.1", "rhel", "8.1", "fedora", "Red Hat Enterprise Linux"},
        Expect{"rocky-8.6", "rocky", "8.6", "rhel centos fedora",
               "Rocky Linux"},
        Expect{"almalinux-8.5", "almalinux", "8.5", "rhel centos fedora",
               "AlmaLinux"},
        Expect{"ol-8.6", "ol", "8.6", "fedora", "Oracle Linux Server"},
        Expect{"amzn-2", "amzn", "2", "centos rhel fedora", "Amazon Linux"},
        Expect{"amzn-2018.03", "amzn", "2018.03", "rhel fedora",
               "Amazon Linux AMI"},
        Expect{"debian-12", "debian", "12", "", "Debian GNU/Linux"},
        Expect{"debian-11", "debian", "11", "", "Debian GNU/Linux"},
        Expect{"alpine-3.18", "alpine", "3.18.4", "", "Alpine Linux"},
        Expect{"sles-15.4", "sles", "15.4", "suse", "SLES"},
        Expect{"opensuse-leap-15.5", "opensuse-leap", "15.5", "suse opensuse",
               "openSUSE Leap"},
        Expect{"kylin-v10", "kylin", "V10", "", "Kylin Linux Advanced Server"}),
    [](const auto &p) {
      std::string n = p.param.file;
      for (auto &c : n)
        if (!std::isalnum(static_cast<unsigned char>(c)))
          c = '_';
      return n;
    });

TEST(OsRelease, UnquotedValueFedoraStyle) {
  // libbpf-tools' VERSION_ID="%64s scan misses exactly this.
  auto os = parse_os_release("ID=fedora\nVERSION_ID=40\n", "t");
  ASSERT_TRUE(os.ok());
  EXPECT_EQ(os->version_id(), "40");
}

TEST(OsRelease, QuotingEscapesCommentsAndBadLines) {
  auto os = read("quoting");
  EXPECT_EQ(os.id(), "test-os");
  EXPECT_EQ(os.name(), "Test \"Quoted\" OS $HOME \\ back`tick`");
  EXPECT_EQ(os.get("VERSION"), "single $NOT_EXPANDED \"dq\"");
  EXPECT_EQ(os.version_id(), "1.2");
  EXPECT_EQ(os.get("PRETTY_NAME"), "ABC");
  EXPECT_EQ(os.id_like(),
            (std::vector<std::string>{"rhel", "centos", "fedora"}));
  EXPECT_EQ(os.get("EMPTY"), "");
  EXPECT_EQ(os.fields.count("EMPTY"), 1u);
  EXPECT_EQ(os.fields.count("UNTERMINATED"), 0u);
  EXPECT_EQ(os.fields.count("SPACED"), 0u);
  EXPECT_EQ(os.fields.count("1BAD"), 0u);
  ASSERT_EQ(os.skipped.size(), 4u);
  EXPECT_NE(os.skipped[0].find("no '='"), std::string::npos);
  EXPECT_NE(os.skipped[1].find("invalid key"), std::string::npos);
  EXPECT_NE(os.skipped[2].find("unterminated double quote"), std::string::npos);
  EXPECT_NE(os.skipped[3].find("unquoted whitespace"), std::string::npos);
}

TEST(OsRelease, LastAssignmentWinsAndCrLf) {
  auto os = parse_os_release("ID=a\r\nID=b\r\nVERSION_ID=\"9\"\r\n", "t");
  ASSERT_TRUE(os.ok());
  EXPECT_EQ(os->id(), "b");
  EXPECT_EQ(os->version_id(), "9");
}

TEST(OsRelease, NoIdParsesWithEmptyId) {
  auto os = read("malformed-no-id");
  EXPECT_EQ(os.id(), "");
  EXPECT_EQ(os.version_id(), "1.0");
}

TEST(OsRelease, BinaryGarbageIsRefused) {
  auto os = read_os_release(data_dir() / "os-release" / "binary-garbage");
  ASSERT_FALSE(os.ok());
  EXPECT_EQ(os.error().code, Errc::corrupt);
  EXPECT_NE(os.error().message.find("binary-garbage"), std::string::npos);
  EXPECT_NE(os.error().message.find("NUL"), std::string::npos);
}

TEST(OsRelease, HugeFileIsRefusedWithoutReadingItAll) {
  test::TempDir t;
  std::string big = "ID=x\n" + std::string(10 << 20, '#');
  ASSERT_TRUE(write_file_atomic(t / "os-release", big).ok());
  auto os = read_os_release(t / "os-release");
  ASSERT_FALSE(os.ok());
  EXPECT_EQ(os.error().code, Errc::corrupt);
  EXPECT_NE(os.error().message.find("65536"), std::string::npos)
      << os.error().message;
  auto direct = parse_os_release(big, "big");
  ASSERT_FALSE(direct.ok());
}

TEST(OsRelease, MissingFileIsNotFound) {
  auto os = read_os_release("/nonexistent/os-release");
  ASSERT_FALSE(os.ok());
  EXPECT_EQ(os.error().code, Errc::not_found);
}

} // namespace
