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
#include <nlohmann/json.hpp>
#include <set>

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
  // pipeline runs the pipeline; `extra`: more gitlab-ci-local arguments,
  // `predefined`: more predefined variables they set (comma-separated).
  test::CmdResult pipeline(const std::string &extra = "",
                           const std::string &predefined = "") {
    return sh("cd " + q(dir) + " && " + q(gitlab_ci_local()) + " " + extra +
              " --force-shell-executor --shell-isolation "
              "--artifacts-to-source --variable BTFPACK_INSTALL=skip "
              "--variable BTFPACK=" +
              test::cli_path().string() +
              " --variable BTFPACK_SECRET_KEY=" + (t / "release").string() +
              " --ignore-predefined-vars CI_PIPELINE_IID" + predefined +
              " "
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

// The scheduled job (a pipeline of source "schedule"), run three times on
// one repository whose published bundles persist outside it: the first run
// publishes version 1; the second, with the archive unchanged, publishes
// nothing (btfpack diff: no change); after a kernel is added to the
// archive, the third publishes version 2 holding it, and a fourth, in
// supplement mode after one more kernel, publishes a supplement of
// version 2 holding only that kernel.
TEST(GitLabCiLocal, ScheduledJobPublishesOnlyWhenDiffShowsAChange) {
  if (!fs::exists(gitlab_ci_local()))
    GTEST_SKIP() << gitlab_ci_local()
                 << " is not installed: run scripts/install-deps.sh";
  const fs::path corpus = test::source_dir() / "../shared/corpus/archive";
  const fs::path k1 = "debian/11/x86_64/5.10.0-30-cloud-amd64.btf.tar.xz";
  const fs::path k2 = "debian/11/x86_64/5.10.0-32-cloud-amd64.btf.tar.xz";
  if (!fs::exists(corpus / k1) || !fs::exists(corpus / k2))
    GTEST_SKIP() << "no shared corpus at " << corpus;
  Repo repo;
  fs::path pub = repo.t / "published";
  auto scheduled = [&](const std::string &mode) {
    return repo.pipeline("--variable CI_PIPELINE_SOURCE=schedule --variable "
                         "BTFPACK_PUBLISH_DIR=" +
                             pub.string() +
                             " --variable BTFPACK_PUBLISH_MODE=" + mode,
                         ",CI_PIPELINE_SOURCE");
  };
  auto published = [&] {
    std::set<std::string> names;
    for (const auto &e : fs::directory_iterator(pub))
      if (e.path().extension() == ".btfpack")
        names.insert(e.path().filename().string());
    return names;
  };
  auto cli = [&](const std::string &args) {
    return sh(q(test::cli_path()) + " " + args + " 2>&1");
  };
  auto key = " --key " + q(repo.dir / "keys/release.pub");

  auto r1 = scheduled("version");
  ASSERT_EQ(r1.status, 0) << r1.out;
  EXPECT_NE(r1.out.find("PASS  scheduled"), std::string::npos) << r1.out;
  EXPECT_EQ(r1.out.find("gen: ["), std::string::npos)
      << "the release jobs ran on a schedule\n"
      << r1.out;
  EXPECT_EQ(published(), std::set<std::string>{"ci-agent-v1.btfpack"});

  auto r2 = scheduled("version");
  ASSERT_EQ(r2.status, 0) << r2.out;
  EXPECT_NE(r2.out.find("nothing published"), std::string::npos) << r2.out;
  EXPECT_EQ(published(), std::set<std::string>{"ci-agent-v1.btfpack"});

  fs::copy_file(corpus / k1, repo.dir / "archive" / k1);
  repo.commit("a kernel after the release");
  auto r3 = scheduled("version");
  ASSERT_EQ(r3.status, 0) << r3.out;
  EXPECT_EQ(published(), (std::set<std::string>{"ci-agent-v1.btfpack",
                                                "ci-agent-v2.btfpack"}));
  auto d = cli("-j diff" + key + " " + q(pub / "ci-agent-v1.btfpack") + " " +
               q(pub / "ci-agent-v2.btfpack"));
  EXPECT_EQ(d.status, 1) << d.out;
  auto j = nlohmann::json::parse(d.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << d.out;
  ASSERT_EQ(j["added"].size(), 1u) << d.out;
  EXPECT_EQ(j["added"][0]["kernel"]["release"], "5.10.0-30-cloud-amd64");
  EXPECT_EQ(j["new"]["version"], 2);

  fs::copy_file(corpus / k2, repo.dir / "archive" / k2);
  repo.commit("one more kernel");
  auto r4 = scheduled("supplement");
  ASSERT_EQ(r4.status, 0) << r4.out;
  EXPECT_TRUE(published().contains("ci-agent-v3.supplement.btfpack")) << r4.out;
  auto in = cli("-j inspect --entries" + key + " " +
                q(pub / "ci-agent-v3.supplement.btfpack"));
  ASSERT_EQ(in.status, 0) << in.out;
  auto ji = nlohmann::json::parse(in.out, nullptr, false);
  ASSERT_FALSE(ji.is_discarded()) << in.out;
  EXPECT_EQ(ji["format"], "1.1");
  EXPECT_EQ(ji["supplement_of"]["version"], 2);
  ASSERT_EQ(ji["entries"].size(), 1u) << in.out;
  EXPECT_EQ(ji["entries"][0]["release"], "5.10.0-32-cloud-amd64");
  // And once more: no new kernel, no new supplement.
  auto r5 = scheduled("supplement");
  ASSERT_EQ(r5.status, 0) << r5.out;
  EXPECT_NE(r5.out.find("nothing published"), std::string::npos) << r5.out;
  EXPECT_EQ(published().size(), 3u);
}

} // namespace
} // namespace btfpack
