// SPDX-License-Identifier: Apache-2.0
//
// packaging/ci/gitlab-ci.yml run by a CI engine: gitlab-ci-local (pinned in
// tests/packaging/gitlab-ci-local/package-lock.json, installed by
// scripts/install-deps.sh) with its shell executor, each job in its own
// copy of the repository (--shell-isolation), so artifacts and caches move
// between jobs as on a runner. The user's repository is made here: the
// sample archive (tests/data/archive), btfpack.json, a bpf/Makefile that
// provides the built objects, a committed public key. Every stage runs
// (objects, 4 gen shards, merge and sign), and the merged bundle equals a
// single machine's byte for byte; a failing shard fails the pipeline with
// its error in the log. The shell executor ignores `image: debian:12` and
// the job's apt/.deb install is skipped (BTFPACK_INSTALL=skip): btfpack
// comes from this build tree.
#include <gtest/gtest.h>

#include <fstream>

#include "btfpack/file_util.h"
#include "test_util.h"

namespace btfpack {
namespace {

namespace fs = std::filesystem;
using test::sh;

std::string q(const fs::path &p) {
  return "'" + p.string() + "'";
}

fs::path gitlab_ci_local() {
  return test::source_dir() /
         "tests/packaging/gitlab-ci-local/node_modules/.bin/gitlab-ci-local";
}

struct Repo {
  test::TempDir t;
  fs::path dir = t / "repo";

  Repo() {
    fs::create_directories(dir / "ci");
    fs::create_directories(dir / "bpf");
    fs::create_directories(dir / "keys");
    fs::copy(test::sample_archive(), dir / "archive",
             fs::copy_options::recursive);
    fs::copy_file(test::source_dir() / "packaging/ci/local-run.sh",
                  dir / "ci/local-run.sh");
    fs::copy_file(test::source_dir() / "packaging/ci/gitlab-ci.yml",
                  dir / ".gitlab-ci.yml");
    // The user's object build, here: the objects this tree built.
    std::ofstream(dir / "bpf/Makefile")
        << "all:\n\tmkdir -p ../build/bpf && cp "
        << (test::bpf_obj_dir() / "*.bpf.o").string() << " ../build/bpf/\n";
    std::ofstream(dir / "btfpack.json") << R"({
  "archive": {"url": "archive", "mirror": ".btfpack/mirror"},
  "objects": ["build/bpf/*.bpf.o"],
  "signing": {"key_env": "BTFPACK_SECRET_KEY"},
  "bundle": {"name": "ci-agent", "valid_days": 365,
             "output": "out/ci-agent.btfpack"},
  "cache_dir": ".btfpack/cache"
})";
    auto k = sh(q(test::cli_path()) + " keygen --out " + q(t / "release"));
    EXPECT_EQ(k.status, 0) << k.err;
    fs::copy_file(t / "release.pub", dir / "keys/release.pub");
    commit("a release");
  }
  void commit(const std::string &msg) {
    auto r = sh("cd " + q(dir) +
                " && { [ -d .git ] || { git init -q && git remote add origin "
                "https://gitlab.example.com/me/agent.git; }; } && git add -A "
                "&& git -c user.email=ci@example.com -c user.name=ci commit "
                "-qm '" +
                msg + "' 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
  }
  test::CmdResult pipeline() {
    return sh("cd " + q(dir) + " && " + q(gitlab_ci_local()) +
              " --force-shell-executor --shell-isolation "
              "--artifacts-to-source --variable BTFPACK_INSTALL=skip "
              "--variable BTFPACK=" +
              test::cli_path().string() +
              " --variable BTFPACK_SECRET_KEY=" + (t / "release").string() +
              " --ignore-predefined-vars CI_PIPELINE_IID "
              "--variable CI_PIPELINE_IID=7 2>&1");
  }
};

TEST(GitLabCiLocal, EveryStageRunsAndMergedEqualsSingleMachine) {
  if (!fs::exists(gitlab_ci_local()))
    GTEST_SKIP() << gitlab_ci_local()
                 << " is not installed: run scripts/install-deps.sh";
  Repo repo;
  auto r = repo.pipeline();
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char *job :
       {"PASS  objects", "PASS  gen: [1/4]", "PASS  gen: [2/4]",
        "PASS  gen: [3/4]", "PASS  gen: [4/4]", "PASS  bundle"})
    EXPECT_NE(r.out.find(job), std::string::npos) << job << "\n" << r.out;
  EXPECT_EQ(r.out.find("publish"), std::string::npos)
      << "publish without a tag";
  auto merged = repo.dir / "out/release/ci-agent.btfpack";
  ASSERT_TRUE(fs::exists(merged)) << r.out;
  EXPECT_TRUE(fs::exists(repo.dir / "out/release/ci-agent.btfpack.sha256"));

  // One machine, cold cache of its own, the same commit and version.
  auto s = sh("cd " + q(repo.dir) + " && BTFPACK=" + q(test::cli_path()) +
              " BTFPACK_SECRET_KEY=" + q(repo.t / "release") +
              " BTFPACK_PUBLIC_KEY=keys/release.pub "
              "BTFPACK_BUILD_ARGS='--bundle-version 7 --cache-dir "
              ".btfpack/cache-single' bash ci/local-run.sh single 2>&1");
  ASSERT_EQ(s.status, 0) << s.out;
  auto a = read_file(merged);
  auto b = read_file(repo.dir / "out/single/ci-agent.btfpack");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a.value() == b.value())
      << "the pipeline's bundle differs from the single-machine bundle";
  auto v = sh(q(test::cli_path()) + " verify " + q(merged) + " --key " +
              q(repo.dir / "keys/release.pub") + " 2>&1");
  EXPECT_EQ(v.status, 0) << v.out;
}

TEST(GitLabCiLocal, AFailingShardFailsThePipelineWithItsError) {
  if (!fs::exists(gitlab_ci_local()))
    GTEST_SKIP() << gitlab_ci_local()
                 << " is not installed: run scripts/install-deps.sh";
  Repo repo;
  // A kernel file that is not an xz tarball: its shard's gen fails.
  std::ofstream(repo.dir / "archive/debian/12/x86_64/6.1.0-99-amd64.btf.tar.xz")
      << "this is not an xz archive\n";
  repo.commit("a broken kernel");
  auto r = repo.pipeline();
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("FAIL  gen: ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("6.1.0-99-amd64"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("PASS  bundle"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(repo.dir / "out/release/ci-agent.btfpack"));
}

} // namespace
} // namespace btfpack
