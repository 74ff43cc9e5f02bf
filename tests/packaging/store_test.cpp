// SPDX-License-Identifier: Apache-2.0
//
// The bundle store: install/list/rollback through the real `btfpack`
// command, rollback protection, refusing tampered or untrusted bundles,
// serialized concurrent installs, and crash consistency: the install is
// killed (SIGKILL) at every numbered step (BTFPACK_TEST_CRASH_AT) and at
// random moments, and after each kill the store must hold either the old
// or the new bundle as current, complete and verified.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "btfpack/btfpack.h"
#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "btfpack/sha256.h"
#include "btfpack/store.h"
#include "test_util.h"

namespace btfpack {
namespace {

namespace fs = std::filesystem;
using test::run;
using test::TempDir;

// Real BTF: the .BTF sections of the project's own BPF objects.
std::vector<std::uint8_t> object_btf(const std::string &obj,
                                     const fs::path &dir) {
  auto out = dir / (obj + ".btf");
  auto r =
      run({"llvm-objcopy", "--dump-section", ".BTF=" + out.string(),
           (test::bpf_obj_dir() / obj).string(), (dir / "scratch.o").string()});
  EXPECT_EQ(r.status, 0) << r.err;
  auto bytes = read_file(out);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? bytes.value() : std::vector<std::uint8_t>{};
}

class StoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto k = SecretKey::generate();
    ASSERT_TRUE(k.ok()) << k.error().message;
    key_ = std::make_unique<SecretKey>(std::move(k.value()));
    ASSERT_TRUE(write_key_pair(*key_, dir_ / "signer").ok());
    pub_ = dir_ / "signer.pub";
    auto pk = PublicKey::read_file(pub_);
    ASSERT_TRUE(pk.ok());
    trusted_.push_back(pk.value());
    for (const char *o :
         {"parentchain.bpf.o", "taskstate.bpf.o", "nspid.bpf.o"})
      btfs_.push_back(object_btf(o, dir_.path()));
    store_ = dir_ / "store";
  }

  // make_bundle writes bundle `version` holding one kernel per BTF given.
  fs::path make_bundle(std::uint64_t version, std::vector<int> which,
                       const std::string &name = "agent",
                       const SecretKey *key = nullptr) {
    BundleMeta meta;
    meta.name = name;
    meta.version = version;
    meta.created = 1700000000;
    BundleWriter w(meta);
    for (int i : which) {
      KernelKey k{"debian", "12", "x86_64", "6.1.0-" + std::to_string(i)};
      EXPECT_TRUE(w.add(k, btfs_.at(i)).ok());
    }
    return write_bundle(w, name, version, key);
  }
  fs::path write_bundle(const BundleWriter &w, const std::string &name,
                        std::uint64_t version, const SecretKey *key) {
    auto p = dir_ / ("b" + std::to_string(made_++) + "-v" +
                     std::to_string(version) + ".btfpack");
    auto r = w.write(p, key ? *key : *key_);
    EXPECT_TRUE(r.ok()) << name << ": " << r.error().message;
    return p;
  }

  std::string sha_of(const fs::path &bundle) {
    auto b = Bundle::open(bundle, trusted_);
    EXPECT_TRUE(b.ok()) << b.error().message;
    return b.ok() ? b->manifest_sha256() : "";
  }

  test::CmdResult cli(std::vector<std::string> args,
                      const std::string &env = "") {
    std::string cmd = env;
    cmd += " '" + test::cli_path().string() + "'";
    for (auto &a : args)
      cmd += " '" + a + "'";
    return test::sh(cmd);
  }
  test::CmdResult install(const fs::path &b,
                          std::vector<std::string> extra = {},
                          const std::string &env = "") {
    std::vector<std::string> a = {"install",     b.string(), "--key",
                                  pub_.string(), "--store",  store_.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return cli(a, env);
  }

  // current_sha opens `current` as resolve would and checks every blob.
  std::string current_sha() {
    auto link = store_ / "current";
    if (!fs::exists(fs::symlink_status(link)))
      return "";
    auto b = Bundle::open(link, trusted_);
    EXPECT_TRUE(b.ok()) << "current does not verify: " << b.error().message;
    if (!b.ok())
      return "broken";
    auto v = b->verify_blobs();
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? b->manifest_sha256() : "broken";
  }
  std::size_t bundle_files() {
    std::size_t n = 0;
    for (auto &e : fs::directory_iterator(store_ / "bundles"))
      n += e.path().extension() == ".btfpack";
    return n;
  }
  bool has_temps() {
    for (auto d : {store_, store_ / "bundles"})
      for (auto &e : fs::directory_iterator(d))
        if (e.path().filename().string().starts_with(".tmp-"))
          return true;
    return false;
  }

  TempDir dir_;
  std::unique_ptr<SecretKey> key_;
  fs::path pub_, store_;
  std::vector<PublicKey> trusted_;
  std::vector<std::vector<std::uint8_t>> btfs_;
  int made_ = 0;
};

TEST_F(StoreTest, InstallListRollback) {
  auto v1 = make_bundle(1, {0});
  auto v2 = make_bundle(2, {0, 1});
  auto r = install(v1);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(current_sha(), sha_of(v1));
  r = install(v2, {}, "");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("previous: agent version 1"), std::string::npos)
      << r.out;
  EXPECT_EQ(current_sha(), sha_of(v2));
  EXPECT_EQ(bundle_files(), 2u);

  // Re-installing the current bundle is a no-op (postinst may run twice).
  r = install(v2);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("already current"), std::string::npos) << r.out;

  r = cli({"-j", "list", "--key", pub_.string(), "--store", store_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["bundles"].size(), 2u);
  EXPECT_TRUE(j["bundles"][0]["current"].get<bool>());
  EXPECT_EQ(j["bundles"][0]["version"], 2);
  EXPECT_EQ(j["bundles"][0]["entries"], 2);
  EXPECT_TRUE(j["bundles"][0]["verified"].get<bool>());
  EXPECT_EQ(j["bundles"][0]["manifest_sha256"], sha_of(v2));
  EXPECT_TRUE(j["bundles"][1]["previous"].get<bool>());
  EXPECT_EQ(j["bundles"][1]["version"], 1);

  // Keys from $BTFPACK_KEYS_DIR and the store from $BTFPACK_STORE.
  fs::create_directories(dir_ / "keys");
  fs::copy_file(pub_, dir_ / "keys" / "release.pub");
  r = cli({"rollback"}, "BTFPACK_KEYS_DIR='" + (dir_ / "keys").string() +
                            "' BTFPACK_STORE='" + store_.string() + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(current_sha(), sha_of(v1));
  // previous is now v2, the bundle the rollback left: a second rollback
  // would only undo the first, so it is refused (issue #19) and says how
  // to return to v2 on purpose.
  r = cli({"rollback", "--key", pub_.string(), "--store", store_.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("a second rollback would undo the first"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("btfpack install"), std::string::npos) << r.err;
  EXPECT_EQ(current_sha(), sha_of(v1));
  r = install(v2);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(current_sha(), sha_of(v2));
}

TEST_F(StoreTest, RefusesDowngradeUnlessAsked) {
  auto v1 = make_bundle(1, {0});
  auto v2 = make_bundle(2, {1});
  auto v2b = make_bundle(2, {2}, "agent");
  ASSERT_EQ(install(v2).status, 0);
  auto r = cli({"-j", "install", v1.string(), "--key", pub_.string(), "--store",
                store_.string()});
  EXPECT_EQ(r.status, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["code"], "downgrade");
  EXPECT_NE(j["error"].get<std::string>().find("--allow-downgrade"),
            std::string::npos);
  EXPECT_EQ(current_sha(), sha_of(v2));
  // Same version, other content: refused too.
  r = install(v2b);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("already installed with different content"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(current_sha(), sha_of(v2));
  r = install(v1, {"--allow-downgrade"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(current_sha(), sha_of(v1));
}

// The high-water mark: after a rollback from v5 to v3, v4 is still older
// than a bundle this host has trusted, and stays refused unless asked.
TEST_F(StoreTest, RollbackKeepsTheHighWaterMark) {
  auto v3 = make_bundle(3, {0});
  auto v4 = make_bundle(4, {1});
  auto v5 = make_bundle(5, {2});
  auto v6 = make_bundle(6, {0, 1});
  ASSERT_EQ(install(v3).status, 0);
  ASSERT_EQ(install(v5).status, 0);
  EXPECT_EQ(read_text_file(store_ / "names/agent/highest-version").value(),
            "5\n");
  auto r =
      cli({"rollback", "--key", pub_.string(), "--store", store_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(current_sha(), sha_of(v3));
  r = cli({"-j", "install", v4.string(), "--key", pub_.string(), "--store",
           store_.string()});
  EXPECT_EQ(r.status, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["code"], "downgrade");
  auto msg = j["error"].get<std::string>();
  EXPECT_NE(msg.find("has installed version 5 before"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find((store_ / "names/agent/highest-version").string()),
            std::string::npos)
      << msg;
  EXPECT_EQ(current_sha(), sha_of(v3));
  // On purpose: allowed, and the mark stays at 5.
  r = install(v4, {"--allow-downgrade"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(current_sha(), sha_of(v4));
  EXPECT_EQ(read_text_file(store_ / "names/agent/highest-version").value(),
            "5\n");
  // A newer bundle raises it.
  ASSERT_EQ(install(v6).status, 0);
  EXPECT_EQ(read_text_file(store_ / "names/agent/highest-version").value(),
            "6\n");
  // A damaged mark is an error that names the file, not a silent reset.
  ASSERT_TRUE(
      write_file_atomic(store_ / "names/agent/highest-version", "six\n").ok());
  r = install(make_bundle(7, {2}));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("highest-version does not hold a version number"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(current_sha(), sha_of(v6));
}

// --key takes a directory of *.pub too, as verify does.
TEST_F(StoreTest, KeyDirectoryIsAccepted) {
  auto keys = dir_ / "keys.d";
  fs::create_directories(keys);
  fs::copy_file(pub_, keys / "release.pub");
  auto v1 = make_bundle(1, {0});
  auto r = cli({"install", v1.string(), "--key", keys.string(), "--store",
                store_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(current_sha(), sha_of(v1));
}

TEST_F(StoreTest, RefusesTamperedAndUntrustedBundles) {
  auto v1 = make_bundle(1, {0});
  auto v2 = make_bundle(2, {0, 1, 2});
  ASSERT_EQ(install(v1).status, 0);

  // One flipped byte near the end (blob data): refused, store unchanged.
  auto bytes = read_file(v2).value();
  bytes[bytes.size() - 10] ^= 0x01;
  auto bad = dir_ / "tampered.btfpack";
  ASSERT_TRUE(write_file_atomic(bad, bytes).ok());
  auto r = install(bad);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(current_sha(), sha_of(v1));

  // Signed by a key the host does not trust.
  auto other = SecretKey::generate().value();
  ASSERT_TRUE(write_key_pair(other, dir_ / "other").ok());
  r = cli({"install", v2.string(), "--key", (dir_ / "other.pub").string(),
           "--store", store_.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(current_sha(), sha_of(v1));
  EXPECT_FALSE(has_temps());
  EXPECT_EQ(bundle_files(), 1u);

  // No trusted key at all: a clear error naming the directory.
  r = cli({"install", v2.string(), "--store", store_.string()},
          "BTFPACK_KEYS_DIR='" + (dir_ / "nokeys").string() + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no trusted key"), std::string::npos) << r.err;
}

TEST_F(StoreTest, RollbackWithoutPreviousFails) {
  auto v1 = make_bundle(1, {0});
  ASSERT_EQ(install(v1).status, 0);
  auto r =
      cli({"rollback", "--key", pub_.string(), "--store", store_.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nothing to roll back to"), std::string::npos) << r.err;
}

// Kill the install at every step; the store must stay usable and verified.
TEST_F(StoreTest, CrashAtEveryStepLeavesOldOrNew) {
  if (!BTFPACK_TEST_HOOKS)
    GTEST_SKIP() << "btfpack built without its test hooks: configure with "
                    "-DBTFPACK_TEST_HOOKS=ON (scripts/test.sh does)";
  auto v1 = make_bundle(1, {0});
  auto v2 = make_bundle(2, {0, 1, 2});
  auto s1 = sha_of(v1), s2 = sha_of(v2);
  constexpr int kSteps = 13; // crash points of Store::install
  for (int step = 1; step <= kSteps; step++) {
    SCOPED_TRACE("crash at step " + std::to_string(step));
    fs::remove_all(store_);
    ASSERT_EQ(install(v1).status, 0);
    auto r = install(v2, {}, "BTFPACK_TEST_CRASH_AT=" + std::to_string(step));
    // 12 only fires when there is an unreferenced bundle to remove.
    if (step != 12) {
      EXPECT_EQ(r.status, 128 + SIGKILL) << r.out << r.err;
    }
    auto cur = current_sha();
    EXPECT_TRUE(cur == s1 || cur == s2) << cur;
    // The swap of `current` is step 10: from there on the new bundle.
    EXPECT_EQ(cur, step >= 10 ? s2 : s1);
    // The next install repairs whatever was left and completes.
    r = install(v2);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(current_sha(), s2);
    EXPECT_FALSE(has_temps());
    EXPECT_EQ(bundle_files(), 2u);
    r = cli({"rollback", "--key", pub_.string(), "--store", store_.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(current_sha(), s1);
  }
  // First install into an empty store: nothing or the new bundle.
  for (int step : {2, 5, 7, 10, 11}) {
    fs::remove_all(store_);
    auto r = install(v1, {}, "BTFPACK_TEST_CRASH_AT=" + std::to_string(step));
    EXPECT_EQ(r.status, 128 + SIGKILL);
    auto cur = current_sha();
    EXPECT_TRUE(cur.empty() || cur == s1) << "step " << step << ": " << cur;
  }
}

// Real SIGKILLs at random moments of real installs.
TEST_F(StoreTest, RandomKillsLeaveOldOrNew) {
  std::vector<fs::path> versions;
  std::vector<std::string> shas;
  for (int v = 1; v <= 4; v++) {
    versions.push_back(make_bundle(v, {0, v % 3}));
    shas.push_back(sha_of(versions.back()));
  }
  // Kill at uniformly random moments over the length of a whole install
  // (startup, verify, copy, swaps), measured here, over three times its
  // length so that some installs complete and some are cut short.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(install(versions[0]).status, 0);
  auto span_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count() *
                 3;
  std::mt19937 rng(42);
  int killed = 0, completed = 0;
  std::size_t cur_idx = 0;
  for (int i = 0; i < 40; i++) {
    std::size_t next = (cur_idx + 1) % versions.size();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execl(test::cli_path().c_str(), "btfpack", "install",
              versions[next].c_str(), "--key", pub_.c_str(), "--store",
              store_.c_str(), "--allow-downgrade", (char *)nullptr);
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(
        rng() % static_cast<std::uint64_t>(span_us + 1)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
      killed++;
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      completed++;
    auto cur = current_sha();
    ASSERT_TRUE(cur == shas[cur_idx] || cur == shas[next])
        << "iteration " << i << ": current is " << cur;
    if (cur == shas[next])
      cur_idx = next;
  }
  // Both outcomes happened, or the test proved nothing.
  EXPECT_GT(killed, 0);
  EXPECT_GT(completed, 0);
  RecordProperty("killed", killed);
  RecordProperty("completed", completed);
  auto r =
      install(versions[(cur_idx + 1) % versions.size()], {"--allow-downgrade"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(has_temps());
  EXPECT_LE(bundle_files(), 2u);
}

// Concurrent installs are serialized by the lock: every one finishes, and
// the store ends consistent with the highest version current.
TEST_F(StoreTest, ConcurrentInstallsAreSerialized) {
  std::vector<fs::path> versions;
  for (int v = 1; v <= 6; v++)
    versions.push_back(make_bundle(v, {v % 3}));
  std::vector<std::thread> threads;
  std::vector<int> status(versions.size());
  for (std::size_t i = 0; i < versions.size(); i++)
    threads.emplace_back([&, i] { status[i] = install(versions[i]).status; });
  for (auto &t : threads)
    t.join();
  // Each install either succeeded or was refused as a downgrade.
  for (int s : status)
    EXPECT_TRUE(s == 0 || s == 1);
  EXPECT_EQ(status.back(), 0);
  EXPECT_EQ(current_sha(), sha_of(versions.back()));
  EXPECT_FALSE(has_temps());
  EXPECT_LE(bundle_files(), 2u);
}

// Two vendors on one host (issue #17): vendor A's key is bound to agent-a,
// vendor B's to agent-b, in a trust policy directory as
// /etc/btfpack/keys/<name>/*.pub.
class NamedStoreTest : public StoreTest {
protected:
  void SetUp() override {
    StoreTest::SetUp();
    for (auto *k : {&key_a_, &key_b_}) {
      auto g = SecretKey::generate();
      ASSERT_TRUE(g.ok());
      *k = std::make_unique<SecretKey>(std::move(g.value()));
    }
    policy_ = dir_ / "keys";
    for (auto [k, n] : {std::pair(key_a_.get(), "agent-a"),
                        std::pair(key_b_.get(), "agent-b")}) {
      fs::create_directories(policy_ / n);
      ASSERT_TRUE(write_key_pair(*k, dir_ / (std::string(n) + "-key")).ok());
      fs::copy_file(dir_ / (std::string(n) + "-key.pub"),
                    policy_ / n / "vendor.pub");
    }
  }
  test::CmdResult pinstall(const fs::path &b,
                           std::vector<std::string> extra = {},
                           const std::string &env = "") {
    std::vector<std::string> a = {"install", b.string(),
                                  "--key",   policy_.string(),
                                  "--store", store_.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return cli(a, env);
  }
  test::CmdResult pcli(std::vector<std::string> args) {
    args.insert(args.end(), {"--store", store_.string()});
    return cli(args);
  }
  // sha_at opens names/<name>/current (or `link`) with every vendor key and
  // checks every blob; "" when the link is missing.
  std::string sha_at(const std::string &name, const char *link = "current") {
    auto p = store_ / "names" / name / link;
    if (!fs::exists(fs::symlink_status(p)))
      return "";
    std::vector<PublicKey> keys = {key_a_->public_key(), key_b_->public_key(),
                                   key_->public_key()};
    auto b = Bundle::open(p, keys);
    EXPECT_TRUE(b.ok()) << p << ": " << b.error().message;
    if (!b.ok())
      return "broken";
    auto v = b->verify_blobs();
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? b->manifest_sha256() : "broken";
  }
  std::string sha_any(const fs::path &bundle) {
    std::vector<PublicKey> keys = {key_a_->public_key(), key_b_->public_key(),
                                   key_->public_key()};
    auto b = Bundle::open(bundle, keys);
    EXPECT_TRUE(b.ok()) << b.error().message;
    return b.ok() ? b->manifest_sha256() : "";
  }
  fs::path bundle_a(std::uint64_t v, std::vector<int> which = {0}) {
    return make_bundle(v, which, "agent-a", key_a_.get());
  }
  fs::path bundle_b(std::uint64_t v, std::vector<int> which = {1}) {
    return make_bundle(v, which, "agent-b", key_b_.get());
  }
  nlohmann::json list_json() {
    auto r = pcli({"-j", "list", "--key", policy_.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }

  std::unique_ptr<SecretKey> key_a_, key_b_;
  fs::path policy_;
};

TEST_F(NamedStoreTest, TwoVendorsNeitherDisplacesTheOther) {
  auto a5 = bundle_a(5), b1 = bundle_b(1), b2 = bundle_b(2, {1, 2});
  auto a4 = bundle_a(4);
  ASSERT_EQ(pinstall(a5).status, 0);
  // The second vendor's version 1 is no downgrade of agent-a's version 5.
  auto r = pinstall(b1);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sha_at("agent-a"), sha_any(a5));
  EXPECT_EQ(sha_at("agent-b"), sha_any(b1));
  // Two names: no top-level `current` that would pick one of them.
  EXPECT_FALSE(fs::exists(fs::symlink_status(store_ / "current")));
  ASSERT_EQ(pinstall(b2).status, 0);
  EXPECT_EQ(sha_at("agent-a"), sha_any(a5));
  EXPECT_EQ(sha_at("agent-b"), sha_any(b2));
  EXPECT_EQ(read_text_file(store_ / "names/agent-a/highest-version").value(),
            "5\n");
  EXPECT_EQ(read_text_file(store_ / "names/agent-b/highest-version").value(),
            "2\n");

  auto j = list_json();
  ASSERT_EQ(j["names"].size(), 2u) << j.dump();
  EXPECT_EQ(j["names"][0]["name"], "agent-a");
  EXPECT_EQ(j["names"][0]["current"]["version"], 5);
  EXPECT_EQ(j["names"][0]["current"]["manifest_sha256"], sha_any(a5));
  EXPECT_TRUE(j["names"][0]["current"]["verified"].get<bool>());
  EXPECT_EQ(j["names"][1]["name"], "agent-b");
  EXPECT_EQ(j["names"][1]["current"]["version"], 2);
  EXPECT_EQ(j["names"][1]["previous"]["version"], 1);
  for (const auto &b : j["bundles"])
    EXPECT_EQ(b["manifest_sha256"].get<std::string>().size(), 64u) << b;
  // Without keys too, the digest is the whole one.
  r = pcli({"-j", "list"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto keyless = nlohmann::json::parse(r.out); // outlives the loop
  for (const auto &b : keyless["bundles"])
    EXPECT_EQ(b["manifest_sha256"].get<std::string>().size(), 64u) << b;

  // rollback without a name does not guess.
  r = pcli({"rollback", "--key", policy_.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("agent-a, agent-b"), std::string::npos) << r.err;
  r = pcli({"rollback", "agent-b", "--key", policy_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sha_at("agent-b"), sha_any(b1));
  EXPECT_EQ(sha_at("agent-a"), sha_any(a5));

  // remove agent-a: agent-b untouched and the only name again (top-level
  // current back for older scripts); agent-a's mark stays.
  r = pcli({"remove", "agent-a"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sha_at("agent-a"), "");
  EXPECT_EQ(sha_at("agent-b"), sha_any(b1));
  EXPECT_EQ(fs::read_symlink(store_ / "current").filename(),
            fs::read_symlink(store_ / "names/agent-b/current").filename());
  r = pcli({"list", "--key", policy_.string()});
  EXPECT_NE(r.out.find("removed  agent-a (highest version 5 kept"),
            std::string::npos)
      << r.out;
  r = pinstall(a4);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("(agent-a version 4): this store has installed "
                       "version 5 before"),
            std::string::npos)
      << r.err;
  ASSERT_EQ(pinstall(a5).status, 0);
  EXPECT_EQ(sha_at("agent-a"), sha_any(a5));
  EXPECT_EQ(sha_at("agent-b"), sha_any(b1));
}

TEST_F(NamedStoreTest, KeyBoundToANameCannotRollBackAnother) {
  auto b1 = bundle_b(1), b2 = bundle_b(2, {2});
  ASSERT_EQ(pinstall(b1).status, 0);
  ASSERT_EQ(pinstall(b2).status, 0);
  // Vendor A signs a bundle named agent-b: refused, naming the bundle, the
  // signer's key id and the policy.
  auto forged = make_bundle(9, {0}, "agent-b", key_a_.get());
  auto r = pinstall(forged);
  EXPECT_EQ(r.status, 1);
  for (const std::string &want :
       {std::string("bundle 'agent-b'"), key_id_hex(key_a_->id()),
        policy_.string(), std::string("trusts only for agent-a")})
    EXPECT_NE(r.err.find(want), std::string::npos) << want << "\n" << r.err;
  EXPECT_EQ(sha_at("agent-b"), sha_any(b2));
  // A key the policy does not hold at all: the refusal names it and the
  // policy too.
  auto stranger = SecretKey::generate().value();
  r = pinstall(make_bundle(9, {0}, "agent-b", &stranger));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(key_id_hex(stranger.id())), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("trust policy: " + policy_.string()), std::string::npos)
      << r.err;
  EXPECT_EQ(sha_at("agent-b"), sha_any(b2));
  // A policy holding only vendor A's key cannot roll agent-b back.
  auto only_a = dir_ / "only-a";
  fs::create_directories(only_a / "agent-a");
  fs::copy_file(policy_ / "agent-a/vendor.pub", only_a / "agent-a/a.pub");
  r = pcli({"rollback", "agent-b", "--key", only_a.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("refusing to roll back agent-b"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(key_id_hex(key_b_->id())), std::string::npos) << r.err;
  EXPECT_EQ(sha_at("agent-b"), sha_any(b2));
  // Vendor A's key copied into agent-b/ would be trusted for it: the
  // refusal is the binding, not the key.
  r = pcli({"rollback", "agent-b", "--key", policy_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sha_at("agent-b"), sha_any(b1));
  // A key directly in the policy directory is trusted for every name.
  fs::copy_file(pub_, policy_ / "site.pub");
  r = pinstall(make_bundle(1, {0}, "agent-c"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(sha_at("agent-c"), "");
}

TEST_F(NamedStoreTest, NameWithPathCharactersIsRefused) {
  fs::copy_file(pub_, policy_ / "site.pub");
  for (const char *bad : {"../evil", "a/b", "..", ".hidden", "a b"}) {
    SCOPED_TRACE(bad);
    auto r = pinstall(make_bundle(1, {0}, bad));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("is not a usable bundle name"), std::string::npos)
        << r.err;
  }
  EXPECT_FALSE(fs::exists(dir_ / "evil"));
  EXPECT_FALSE(fs::exists(store_ / "names"));
  EXPECT_FALSE(has_temps());
  EXPECT_EQ(bundle_files(), 0u);
  for (auto verb : {"rollback", "remove"}) {
    auto r = pcli({verb, "../x", "--key", policy_.string()});
    if (std::string(verb) == "remove")
      r = pcli({verb, "../x"});
    EXPECT_EQ(r.status, 1) << verb;
    EXPECT_NE(r.err.find("'../x' is not a usable bundle name"),
              std::string::npos)
        << r.err;
  }
}

// A trust policy that cannot be read or does not parse is refused, naming
// what is wrong, and nothing is installed.
TEST_F(NamedStoreTest, BadPolicyIsRefusedClearly) {
  auto a1 = bundle_a(1);
  // The key directory is a file.
  auto notdir = dir_ / "keys-file";
  ASSERT_TRUE(write_file_atomic(notdir, "x").ok());
  auto r = pcli({"install", a1.string(), "--key", (notdir / "").string()});
  EXPECT_EQ(r.status, 1);
  r = cli({"install", a1.string(), "--store", store_.string()},
          "BTFPACK_KEYS_DIR='" + notdir.string() + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot read key directory " + notdir.string()),
            std::string::npos)
      << r.err;
  // A key that does not parse.
  ASSERT_TRUE(write_file_atomic(policy_ / "agent-a" / "broken.pub",
                                "untrusted comment: x\nnot base64\n")
                  .ok());
  r = pinstall(a1);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find((policy_ / "agent-a" / "broken.pub").string()),
            std::string::npos)
      << r.err;
  fs::remove(policy_ / "agent-a" / "broken.pub");
  // A name directory that is not a bundle name.
  fs::create_directories(policy_ / "bad name");
  r = pinstall(a1);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("key directory 'bad name' is not a usable bundle name"),
            std::string::npos)
      << r.err;
  fs::remove(policy_ / "bad name");
  // An empty policy: no trusted keys, saying where it looked.
  auto empty = dir_ / "empty-keys";
  fs::create_directories(empty / "agent-a");
  r = pcli({"install", a1.string(), "--key", empty.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no trusted keys: no *.pub in " + empty.string()),
            std::string::npos)
      << r.err;
  EXPECT_EQ(sha_at("agent-a"), "");
  ASSERT_EQ(pinstall(a1).status, 0);
}

// Kill the install of a second name at every step: the first name stays
// as it was, the second is old or new, both verified.
TEST_F(NamedStoreTest, CrashAtEveryStepOfASecondName) {
  if (!BTFPACK_TEST_HOOKS)
    GTEST_SKIP() << "btfpack built without its test hooks: configure with "
                    "-DBTFPACK_TEST_HOOKS=ON (scripts/test.sh does)";
  auto a1 = bundle_a(1), b1 = bundle_b(1), b2 = bundle_b(2, {1, 2});
  auto sa = sha_any(a1), s1 = sha_any(b1), s2 = sha_any(b2);
  for (bool first : {true, false}) {
    for (int step = 1; step <= 13; step++) {
      SCOPED_TRACE((first ? "first install of agent-b, step " : "step ") +
                   std::to_string(step));
      fs::remove_all(store_);
      ASSERT_EQ(pinstall(a1).status, 0);
      if (!first) {
        ASSERT_EQ(pinstall(b1).status, 0);
      }
      auto r = pinstall(first ? b1 : b2, {},
                        "BTFPACK_TEST_CRASH_AT=" + std::to_string(step));
      if (step != 12 && !(first && step == 9)) {
        EXPECT_EQ(r.status, 128 + SIGKILL) << r.out << r.err;
      }
      EXPECT_EQ(sha_at("agent-a"), sa);
      auto cur = sha_at("agent-b");
      if (first) {
        EXPECT_EQ(cur, step >= 9 ? s1 : ""); // no step 9 without a current
      } else {
        EXPECT_EQ(cur, step >= 10 ? s2 : s1);
      }
      // The next install repairs whatever was left and completes.
      ASSERT_EQ(pinstall(b2).status, 0);
      EXPECT_EQ(sha_at("agent-a"), sa);
      EXPECT_EQ(sha_at("agent-b"), s2);
      EXPECT_FALSE(has_temps());
      auto j = list_json();
      for (const auto &b : j["bundles"])
        EXPECT_TRUE(b["verified"].get<bool>()) << b;
    }
  }
}

// Installs of two names at once: serialized by the one store lock, each
// name ends at its highest version, neither lost.
TEST_F(NamedStoreTest, RacingInstallsOfTwoNames) {
  std::vector<fs::path> as, bs;
  for (int v = 1; v <= 4; v++) {
    as.push_back(bundle_a(v, {v % 3}));
    bs.push_back(bundle_b(v, {(v + 1) % 3}));
  }
  std::vector<std::thread> threads;
  std::vector<int> status(8);
  for (std::size_t i = 0; i < 4; i++) {
    threads.emplace_back([&, i] { status[2 * i] = pinstall(as[i]).status; });
    threads.emplace_back(
        [&, i] { status[2 * i + 1] = pinstall(bs[i]).status; });
  }
  for (auto &t : threads)
    t.join();
  for (int st : status)
    EXPECT_TRUE(st == 0 || st == 1) << st;
  EXPECT_EQ(status[6], 0);
  EXPECT_EQ(status[7], 0);
  EXPECT_EQ(sha_at("agent-a"), sha_any(as.back()));
  EXPECT_EQ(sha_at("agent-b"), sha_any(bs.back()));
  EXPECT_FALSE(has_temps());
  EXPECT_LE(bundle_files(), 4u);
}

// A store written before names: read as it is, migrated by the next write
// with its current, previous and high-water mark.
TEST_F(NamedStoreTest, OldLayoutIsReadAndMigrated) {
  fs::copy_file(pub_, policy_ / "site.pub");
  auto v1 = make_bundle(1, {0}), v2 = make_bundle(3, {1});
  auto v2b = make_bundle(2, {2});
  fs::create_directories(store_ / "bundles");
  std::string f1 = "agent-1-" + sha_of(v1).substr(0, 16) + ".btfpack";
  std::string f2 = "agent-3-" + sha_of(v2).substr(0, 16) + ".btfpack";
  fs::copy_file(v1, store_ / "bundles" / f1);
  fs::copy_file(v2, store_ / "bundles" / f2);
  fs::create_symlink("bundles/" + f2, store_ / "current");
  fs::create_symlink("bundles/" + f1, store_ / "previous");
  ASSERT_TRUE(write_file_atomic(store_ / "highest-version", "3\n").ok());

  auto j = list_json();
  ASSERT_EQ(j["names"].size(), 1u) << j.dump();
  EXPECT_EQ(j["names"][0]["name"], "agent");
  EXPECT_EQ(j["names"][0]["current"]["version"], 3);
  EXPECT_EQ(j["names"][0]["previous"]["version"], 1);
  EXPECT_EQ(j["names"][0]["highest_version"], 3);
  EXPECT_FALSE(fs::exists(store_ / "names")) << "list must not write";
  auto r = cli({"resolve", "--store", store_.string(), "--key",
                policy_.string(), "--native-btf", "no", "--os-id", "debian",
                "--os-version-id", "12", "--arch", "x86_64", "--kernel-release",
                "6.1.0-1", "--cache-dir", (dir_ / "cache").string()});
  EXPECT_EQ(r.status, 0) << r.err;

  // A second name migrates the first.
  ASSERT_EQ(pinstall(bundle_b(1)).status, 0);
  EXPECT_EQ(sha_at("agent"), sha_of(v2));
  EXPECT_EQ(sha_at("agent", "previous"), sha_of(v1));
  EXPECT_EQ(read_text_file(store_ / "names/agent/highest-version").value(),
            "3\n");
  for (const char *gone : {"previous", "highest-version", "current"})
    EXPECT_FALSE(fs::exists(fs::symlink_status(store_ / gone))) << gone;
  r = pcli({"rollback", "agent", "--key", policy_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(sha_at("agent"), sha_of(v1));
  // The mark survived the migration: version 2, between the rolled-back
  // current (1) and the highest ever installed (3), is still refused.
  r = pinstall(v2b);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("has installed version 3 before"), std::string::npos)
      << r.err;
  EXPECT_EQ(sha_at("agent"), sha_of(v1));
  EXPECT_NE(sha_at("agent-b"), "");
}

// A real kernel's BTF from the committed sample archive (tests/data/archive).
std::vector<std::uint8_t> archive_btf(const std::string &rel,
                                      const fs::path &dir) {
  auto out = dir / "archive-btf";
  fs::create_directories(out);
  auto r = run({"tar", "-xJf", (test::sample_archive() / rel).string(), "-C",
                out.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  auto name = fs::path(rel).filename().string();
  name.resize(name.size() - std::string(".tar.xz").size());
  auto bytes = read_file(out / name);
  EXPECT_TRUE(bytes.ok()) << (out / name);
  fs::remove(out / name);
  return bytes.ok() ? bytes.value() : std::vector<std::uint8_t>{};
}

class StoreResolveTest : public NamedStoreTest {
protected:
  void SetUp() override {
    NamedStoreTest::SetUp();
    fs::copy_file(pub_, policy_ / "site.pub");
    deb12_ =
        archive_btf("debian/12/x86_64/6.1.0-55-amd64.btf.tar.xz", dir_.path());
    deb11_ =
        archive_btf("debian/11/x86_64/5.10.0-32-amd64.btf.tar.xz", dir_.path());
  }
  // archive_bundle: made for `objs` (bpf/ objects), holding the debian 12
  // kernel (the simulated host's) and/or the debian 11 one.
  fs::path archive_bundle(const std::string &name, std::int64_t created,
                          std::vector<std::string> objs, bool host_kernel,
                          const SecretKey *key) {
    BundleMeta meta;
    meta.name = name;
    meta.version = 1;
    meta.created = created;
    for (const auto &o : objs) {
      auto d = sha256_file(test::bpf_obj_dir() / o);
      EXPECT_TRUE(d.ok());
      meta.objects.push_back({o, d.value(), "x86_64"});
    }
    BundleWriter w(meta);
    if (host_kernel) {
      EXPECT_TRUE(
          w.add({"debian", "12", "x86_64", "6.1.0-55-amd64"}, deb12_).ok());
    }
    EXPECT_TRUE(
        w.add({"debian", "11", "x86_64", "5.10.0-32-amd64"}, deb11_).ok());
    return write_bundle(w, name, 1, key);
  }
  std::vector<std::string> host_args() {
    return {"--store",
            store_.string(),
            "--key",
            policy_.string(),
            "--native-btf",
            "no",
            "--os-id",
            "debian",
            "--os-version-id",
            "12",
            "--arch",
            "x86_64",
            "--kernel-release",
            "6.1.0-55-amd64",
            "--cache-dir",
            (dir_ / "cache").string()};
  }
  test::CmdResult resolve(std::vector<std::string> extra,
                          const char *verb = "resolve") {
    std::vector<std::string> a = {verb};
    auto h = host_args();
    a.insert(a.end(), h.begin(), h.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return cli(a);
  }
  std::string obj(const char *o) { return (test::bpf_obj_dir() / o).string(); }

  std::vector<std::uint8_t> deb12_, deb11_;
};

TEST_F(StoreResolveTest, ResolveNeverPicksSilently) {
  ASSERT_EQ(pinstall(archive_bundle("agent-a", 1000, {"taskstate.bpf.o"}, true,
                                    key_a_.get()))
                .status,
            0);
  // One name: resolve takes it (and <store>/current is there for scripts).
  auto r = resolve({});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(store_ / "current"));
  ASSERT_EQ(pinstall(archive_bundle("agent-b", 2000, {"nspid.bpf.o"}, true,
                                    key_b_.get()))
                .status,
            0);
  r = resolve({});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("never picks one silently"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(agent-a, agent-b)"), std::string::npos) << r.err;
  r = resolve({"-j"}, "explain");
  EXPECT_EQ(r.status, 1);
  r = resolve({"--name", "agent-b"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = resolve({"--name", "agent-c"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no bundle named 'agent-c'"), std::string::npos)
      << r.err;
  // The C API: btfpack_opts.name, and without it the same refusal.
  const char *keys[] = {policy_.c_str(), nullptr};
  btfpack_opts bo{};
  bo.sz = sizeof bo;
  bo.key_paths = keys;
  bo.prefer_bundle = 1;
  bo.allow_nearest = 1;
  ::setenv("BTFPACK_STORE", store_.c_str(), 1);
  bo.use_env = 1;
  btfpack_btf *h = btfpack_resolve(&bo);
  EXPECT_EQ(h, nullptr);
  EXPECT_NE(std::string(btfpack_last_error()).find("never picks one silently"),
            std::string::npos)
      << btfpack_last_error();
  bo.name = "agent-a";
  h = btfpack_resolve(&bo);
  // This machine's kernel is not in the bundle: the name was taken, the
  // match is what fails (or succeeds on a debian 12 6.1.0-55 host).
  if (!h) {
    EXPECT_EQ(std::string(btfpack_last_error()).find("never picks"),
              std::string::npos)
        << btfpack_last_error();
  }
  btfpack_btf__free(h);
  // An old caller's smaller struct (up to use_env) has no name: refused.
  bo.sz = offsetof(btfpack_opts, name);
  EXPECT_EQ(btfpack_resolve(&bo), nullptr);
  EXPECT_NE(std::string(btfpack_last_error()).find("never picks one silently"),
            std::string::npos)
      << btfpack_last_error();
  ::unsetenv("BTFPACK_STORE");
}

TEST_F(StoreResolveTest, ResolvePicksTheBundleMadeForTheObjects) {
  auto a =
      archive_bundle("agent-a", 1000, {"taskstate.bpf.o"}, true, key_a_.get());
  auto b = archive_bundle("agent-b", 3000, {"nspid.bpf.o"}, true, key_b_.get());
  // Newer than agent-a and made for the same object, but without the
  // host's kernel.
  auto c = archive_bundle("agent-c", 2000, {"taskstate.bpf.o"}, false, nullptr);
  for (const auto &p : {a, b, c})
    ASSERT_EQ(pinstall(p).status, 0);
  auto r = resolve({"-j", "--object", obj("taskstate.bpf.o")}, "explain");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["bundles_considered"].size(), 3u) << j.dump(1);
  std::map<std::string, nlohmann::json> by;
  for (const auto &c0 : j["bundles_considered"])
    by[c0["name"]] = c0;
  EXPECT_TRUE(by["agent-a"]["won"].get<bool>()) << by["agent-a"];
  EXPECT_FALSE(by["agent-b"]["won"].get<bool>());
  EXPECT_NE(by["agent-b"]["why"].get<std::string>().find("not made for"),
            std::string::npos)
      << by["agent-b"];
  EXPECT_FALSE(by["agent-c"]["won"].get<bool>());
  EXPECT_NE(
      by["agent-c"]["why"].get<std::string>().find("lacks this host's kernel"),
      std::string::npos)
      << by["agent-c"];
  EXPECT_EQ(j["bundle"]["name"], "agent-a");
  EXPECT_EQ(j["decision"]["match"], "exact") << j["decision"];
  // The text form says the same.
  r = resolve({"--object", obj("taskstate.bpf.o")}, "explain");
  EXPECT_NE(r.out.find("bundles considered"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("WON  agent-a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lost agent-c"), std::string::npos) << r.out;

  r = resolve({"-j", "--object", obj("nspid.bpf.o")}, "explain");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["bundle"]["name"], "agent-b");

  // A newer bundle with the host's kernel, made for both objects, wins.
  auto d = archive_bundle(
      "agent-d", 4000, {"taskstate.bpf.o", "parentchain.bpf.o"}, true, nullptr);
  ASSERT_EQ(pinstall(d).status, 0);
  r = resolve({"-j", "--object", obj("taskstate.bpf.o")}, "explain");
  ASSERT_EQ(r.status, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["bundle"]["name"], "agent-d");
  for (const auto &c0 : j["bundles_considered"]) {
    if (c0["name"] == "agent-a") {
      EXPECT_NE(c0["why"].get<std::string>().find("agent-d is newer"),
                std::string::npos)
          << c0;
    }
  }
  // resolve hands over the chosen bundle's BTF.
  r = resolve({"--object", obj("taskstate.bpf.o")});
  ASSERT_EQ(r.status, 0) << r.err;
  // Objects no bundle was made for: refused, each bundle's reason given.
  auto other = dir_ / "other.bpf.o";
  ASSERT_TRUE(write_file_atomic(other, "not an object of any bundle").ok());
  r = resolve({"--object", other.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("was made for the objects given"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("agent-c: not made for"), std::string::npos) << r.err;
}

} // namespace
} // namespace btfpack
