// SPDX-License-Identifier: Apache-2.0
//
// The per-release CI job run locally, step by step, with the script the
// GitHub Actions and GitLab CI workflows call (packaging/ci/local-run.sh):
// `btfpack build` fetches the corpus archive (a local source) into a
// mirror, gens three shards, merges and signs them; a single-machine build
// with its own, cold cache must give the same bundle byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "test_util.h"

namespace btfpack {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::sh;
using test::TempDir;

std::string q(const fs::path &p) {
  return "'" + p.string() + "'";
}

json read_json(const fs::path &p) {
  auto t = read_text_file(p);
  EXPECT_TRUE(t.ok()) << p;
  return t.ok() ? json::parse(t.value(), nullptr, false) : json();
}

TEST(CiLocalRun, ShardsMergeEqualsSingleMachine) {
  SKIP_UNLESS_CORPUS();
  TempDir t;
  // The user's repository: their built BPF objects and btfpack.json.
  fs::create_directories(t / "build/bpf");
  for (const char *o : {"parentchain.bpf.o", "taskstate.bpf.o", "nspid.bpf.o"})
    fs::copy_file(test::bpf_obj_dir() / o, t / "build/bpf" / o);
  json cfg = {{"archive",
               {{"url", test::corpus_archive().string()},
                {"mirror", ".btfpack/mirror"}}},
              {"select", {{"arch", "x86_64"}}},
              {"objects", {"build/bpf/*.bpf.o"}},
              {"signing", {{"key_env", "BTFPACK_SECRET_KEY"}}},
              {"bundle",
               {{"name", "corpus-agent"},
                {"version", 3},
                {"valid_days", 3650},
                {"output", "out/corpus-agent.btfpack"}}},
              {"cache_dir", ".btfpack/cache"}};
  std::ofstream(t / "btfpack.json") << cfg.dump(2);

  std::string env = "cd " + q(t.path()) + " && BTFPACK=" + q(test::cli_path()) +
                    " BTFPACK_CONFIG=btfpack.json OUT=out "
                    "SOURCE_DATE_EPOCH=1760000000 ";
  auto script = test::source_dir() / "packaging/ci/local-run.sh";
  constexpr int kShards = 3;
  for (int k = 1; k <= kShards; k++) {
    auto r = sh(env + q(script) + " shard " + std::to_string(k) + " " +
                std::to_string(kShards) + " 2>&1");
    ASSERT_EQ(r.status, 0) << "shard " << k << ": " << r.out;
  }
  auto r = sh(env + q(script) + " merge 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  // The single machine: cold cache of its own, nothing shared with shards.
  r = sh(env + "BTFPACK_BUILD_ARGS='--cache-dir .btfpack/cache-single' " +
         q(script) + " single 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;

  auto merged = t / "out/release/corpus-agent.btfpack";
  auto single = t / "out/single/corpus-agent.btfpack";
  auto a = read_file(merged), b = read_file(single);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a.value() == b.value())
      << "merged bundle differs from the single-machine bundle";

  // The bundle verifies with the (throwaway) signer and holds every x86_64
  // kernel the single run minimized.
  auto pub = PublicKey::read_file(t / "out/signer.pub");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  std::vector<PublicKey> keys{pub.value()};
  auto bundle = Bundle::open(merged, keys);
  ASSERT_TRUE(bundle.ok()) << bundle.error().message;
  EXPECT_TRUE(bundle->verify_blobs().ok());
  EXPECT_EQ(bundle->meta().name, "corpus-agent");
  EXPECT_EQ(bundle->meta().version, 3u);
  EXPECT_EQ(bundle->meta().created, 1760000000);
  EXPECT_EQ(bundle->meta().expires, 1760000000 + 3650ll * 86400);
  EXPECT_EQ(bundle->meta().objects.size(), 3u);

  // Coverage: the shards partition the kernels, and together they cover
  // what the single run covered.
  auto single_rep = read_json(t / "out/single/coverage.json");
  ASSERT_TRUE(single_rep.is_object());
  std::size_t single_ok = 0, shard_ok = 0, shard_entries = 0;
  for (const auto &e : single_rep["entries"])
    single_ok += e["status"] == "ok";
  for (int k = 1; k <= kShards; k++) {
    auto rep = read_json(t / "out/coverage" /
                         ("shard-" + std::to_string(k) + ".json"));
    ASSERT_TRUE(rep.is_object());
    shard_entries += rep["entries"].size();
    for (const auto &e : rep["entries"])
      shard_ok += e["status"] == "ok";
  }
  EXPECT_EQ(shard_entries, single_rep["entries"].size());
  EXPECT_EQ(shard_ok, single_ok);
  EXPECT_EQ(bundle->entries().size(), single_ok);
  EXPECT_GE(single_ok, 50u); // 62 x86_64 kernels in the corpus
  auto merged_rep = read_json(t / "out/release/coverage.json");
  EXPECT_EQ(merged_rep["shards"].size(), static_cast<std::size_t>(kShards));
  EXPECT_TRUE(fs::exists(t / "out/release/corpus-agent.btfpack.sha256"));
  EXPECT_TRUE(fs::exists(t / "out/release/corpus-agent.contents.json"));
}

// Settings on the command line override the configuration, and a bad
// configuration fails with a message naming the key.
TEST(CiLocalRun, ConfigErrorsNameTheProblem) {
  TempDir t;
  std::ofstream(t / "bad.json") << R"({"bundle": {"name": "x", "verison": 2}})";
  std::string cli = "env -u BTFPACK_SECRET_KEY " + q(test::cli_path());
  auto r = sh(cli + " build " + q(t / "bad.json") + " 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("unknown key 'verison' in bundle"), std::string::npos)
      << r.out;
  std::ofstream(t / "ok.json") << R"({"objects": ["nothing/*.bpf.o"]})";
  r = sh(cli + " build " + q(t / "ok.json") + " --bundle x.btfpack 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("matches no file"), std::string::npos) << r.out;
  r = sh(cli + " build " + q(t / "ok.json") + " --object " +
         q(test::bpf_obj_dir() / "taskstate.bpf.o") +
         " --bundle x.btfpack --archive /nonexistent 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("no signing key"), std::string::npos) << r.out;
}

} // namespace
} // namespace btfpack
