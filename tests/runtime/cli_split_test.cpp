// SPDX-License-Identifier: Apache-2.0
//
// The host `btfpack` links the runtime only and hands the build-side
// commands to btfpack-build (cli/build_side.h): what hosts load, that the
// hand-over keeps arguments and global flags, and the error when the build
// side is missing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace btfpack {
namespace {

namespace fs = std::filesystem;
using test::cli_path;
using test::run;
using test::sh;

std::string needed_libs(const fs::path &exe) {
  auto r = sh("readelf -d '" + exe.string() + "' | grep NEEDED");
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out;
}

TEST(CliSplit, HostCommandLinksNoBuildSideLibraries) {
  auto host = needed_libs(cli_path());
  for (const char *lib : {"libcurl", "libarchive", "libicu", "libxml2"})
    EXPECT_EQ(host.find(lib), std::string::npos) << lib << " in\n" << host;
  auto build = needed_libs(cli_path().parent_path() / "btfpack-build");
  EXPECT_NE(build.find("libcurl"), std::string::npos) << build;
  EXPECT_NE(build.find("libarchive"), std::string::npos) << build;
}

TEST(CliSplit, BuildSideCommandRunsWithItsArgumentsAndGlobalFlags) {
  // `-j` before the subcommand is the global JSON flag, kept across exec.
  test::TempDir t;
  fs::copy(test::sample_archive(), t / "archive", fs::copy_options::recursive);
  auto r = run({cli_path(), "-j", "index", t / "archive"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_TRUE(doc.contains("entries")) << r.out;
  EXPECT_EQ(doc["entries"].size(), 4u) << r.out;
  // Help of a build-side command is its own, not the stub's.
  r = run({cli_path(), "gen", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--shard"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("btfpack gen"), std::string::npos) << r.out;
  // And the host help lists every command.
  r = run({cli_path(), "--help"});
  for (const char *cmd : {"index", "fetch", "gen", "merge", "build", "resolve",
                          "explain", "install"})
    EXPECT_NE(r.out.find(std::string("  ") + cmd + " "), std::string::npos)
        << cmd;
}

TEST(CliSplit, MissingBuildSideSaysWhatToInstall) {
  auto r = sh("BTFPACK_BUILD_PROGRAM=/nonexistent/btfpack-build '" +
              cli_path().string() + "' fetch --to /tmp/x 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("`btfpack fetch` is a build-side command"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("/nonexistent/btfpack-build (No such file"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("install the full btfpack package"), std::string::npos)
      << r.out;
  // JSON mode reports it as JSON, with a stable code.
  r = sh("BTFPACK_BUILD_PROGRAM=/nonexistent/btfpack-build '" +
         cli_path().string() + "' --json gen -j 2");
  EXPECT_EQ(r.status, 1);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["code"], "not_found") << r.out;
  // Host commands do not need the build side at all.
  r = sh("BTFPACK_BUILD_PROGRAM=/nonexistent/btfpack-build '" +
         cli_path().string() + "' resolve --help");
  EXPECT_EQ(r.status, 0) << r.err;
}

} // namespace
} // namespace btfpack
