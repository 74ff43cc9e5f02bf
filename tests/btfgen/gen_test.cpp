// SPDX-License-Identifier: Apache-2.0
//
// `btfpack gen` and `btfpack merge` end to end over the real corpus
// (../shared/corpus/archive, 105 kernels) with the project's bpf/ objects,
// real bpftool and real libbpf; bad inputs and a hanging bpftool injected
// with fake archive entries and a fake bpftool script.
#include <bpf/btf.h>
#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/file.h>
#include <thread>

#include "btfpack/btfgen.h"
#include "btfpack/bundle.h"
#include "btfpack/c_free.h"
#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "btfpack/unique_fd.h"
#include "test_util.h"

namespace btfpack::btfgen {
namespace {

using namespace btfpack::test;
using nlohmann::json;
using BtfPtr = CHandle<struct btf, btf__free>;

fs::path fixture(const std::string &name) {
  return fs::path(BTFGEN_FIXTURE_DIR) / name;
}

std::vector<std::string> object_args() {
  std::vector<std::string> a;
  for (const char *n : {"taskstate", "parentchain", "nspid"}) {
    a.push_back("--object");
    a.push_back((bpf_obj_dir() / (std::string(n) + ".bpf.o")).string());
    a.push_back("--object");
    a.push_back(
        (bpf_obj_dir() / "arm64" / (std::string(n) + ".bpf.o")).string());
  }
  return a;
}

std::vector<std::string> cat(std::vector<std::string> a,
                             const std::vector<std::string> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

json read_json(const fs::path &p) {
  auto t = read_text_file(p);
  EXPECT_TRUE(t.ok()) << p;
  return t.ok() ? json::parse(*t) : json();
}

std::size_t corpus_kernels() {
  std::size_t n = 0;
  for (auto &e : fs::recursive_directory_iterator(corpus_archive()))
    if (e.path().string().ends_with(".btf.tar.xz"))
      n++;
  return n;
}

// The full corpus run is the expensive part. ctest runs each test in its
// own process, so the btfpack cache is shared between them: one directory
// per btfpack binary (a rebuilt binary starts cold), under a lock, so the
// first process minimizes the corpus and the others replay it.
fs::path shared_cache() {
  auto d = sha256_file(cli_path());
  EXPECT_TRUE(d.ok());
  fs::path base = fs::path(BTFGEN_TEST_BINARY_DIR);
  std::string name = "corpus-cache-" + to_hex(*d).substr(0, 16);
  std::error_code ec;
  for (auto &e : fs::directory_iterator(base, ec))
    if (e.path().filename().string().rfind("corpus-cache-", 0) == 0 &&
        e.path().filename() != name)
      fs::remove_all(e.path(), ec);
  return base / name;
}

struct FullRun {
  TempDir dir;
  CmdResult res;
  json report;
  double seconds = 0;
  fs::path cache_dir;
  fs::path out() const { return dir / "out"; }
  fs::path cache() const { return cache_dir; }
  fs::path key() const { return dir / "key"; }
  fs::path bundle() const { return dir / "single.bundle"; }
};

FullRun &full_run() {
  static std::unique_ptr<FullRun> run;
  if (run)
    return *run;
  run = std::make_unique<FullRun>();
  run->cache_dir = shared_cache();
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  fs::create_directories(run->cache_dir);
  UniqueFd lock(::open((run->cache_dir.string() + ".lock").c_str(),
                       O_CREAT | O_RDWR | O_CLOEXEC, 0644));
  EXPECT_TRUE(lock.valid());
  ::flock(lock.get(), LOCK_EX);
  auto key = SecretKey::generate();
  EXPECT_TRUE(key.ok());
  if (key.ok()) {
    EXPECT_TRUE(write_key_pair(*key, run->key()).ok());
  }
  auto t = std::chrono::steady_clock::now();
  run->res = test::run(
      cat({cli_path().string(), "gen", "--archive", corpus_archive().string(),
           "--out", run->out().string(), "--report",
           (run->dir / "r.json").string(), "--cache", run->cache().string(),
           "-j", "2", "--bundle", run->bundle().string(), "--key",
           run->key().string(), "--bundle-version", "7"},
          object_args()));
  run->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
          .count();
  if (fs::exists(run->dir / "r.json"))
    run->report = read_json(run->dir / "r.json");
  return *run;
}

class Gen : public ::testing::Test {
protected:
  void SetUp() override { SKIP_UNLESS_CORPUS(); }
};

TEST_F(Gen, EveryCorpusKernelGenerates) {
  auto &r = full_run();
  ASSERT_EQ(r.res.status, 0) << r.res.err;
  const auto &rep = r.report;
  ASSERT_EQ(rep["entries"].size(), corpus_kernels());
  for (const auto &e : rep["entries"]) {
    EXPECT_EQ(e["status"], "ok") << e.dump();
    EXPECT_TRUE(e["check"]["btf_valid"].get<bool>());
    EXPECT_GT(e["check"]["relocations_compared"].get<int>(), 0);
    EXPECT_TRUE(e["check"]["mismatches"].empty());
    EXPECT_TRUE(fs::is_regular_file(
        r.out() / e["distro"].get<std::string>() /
        e["version"].get<std::string>() / e["arch"].get<std::string>() /
        (e["release"].get<std::string>() + ".btf")));
  }
  EXPECT_EQ(rep["totals"]["ok"], corpus_kernels());
  EXPECT_TRUE(fs::is_regular_file(r.bundle()));
  // The human summary lands on stderr.
  EXPECT_NE(r.res.err.find("kernels:"), std::string::npos);
  std::fprintf(stderr, "full corpus gen: %.1f s (%zu entries from cache)\n",
               r.seconds, rep["totals"]["cached"].get<std::size_t>());
}

TEST_F(Gen, ObjectsAreMatchedToKernelArch) {
  auto &r = full_run();
  for (const auto &e : r.report["entries"]) {
    auto arch = archive_arch(e["arch"].get<std::string>());
    ASSERT_EQ(e["objects"].size(), 3u);
    ASSERT_EQ(e["skipped_objects"].size(), 3u) << e.dump();
    for (const auto &s : e["skipped_objects"])
      EXPECT_NE(s.get<std::string>().find("kernel is " + arch),
                std::string::npos);
  }
}

// Unpack with tar and run bpftool by hand, as btfhub's script does.
TEST_F(Gen, OutputsAreByteIdenticalToBpftoolByHand) {
  auto &r = full_run();
  ASSERT_EQ(r.res.status, 0);
  const char *samples[] = {
      "debian/11/x86_64/5.10.0-30-amd64",
      "amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64", // an ELF-format BTF
      "ubuntu/20.04/x86_64/5.4.0-1029-aws",
      "debian/12/arm64/6.1.0-47-arm64",
      "android/12/arm64/a12-5.10-2022-03-arm64",
  };
  for (const char *s : samples) {
    fs::path tarball = corpus_archive() / (std::string(s) + ".btf.tar.xz");
    if (!fs::exists(tarball)) {
      ADD_FAILURE() << "sample missing from corpus: " << tarball;
      continue;
    }
    TempDir t;
    auto x =
        sh("tar xJf '" + tarball.string() + "' -C '" + t.path().string() + "'");
    ASSERT_EQ(x.status, 0) << x.err;
    fs::path in;
    for (auto &e : fs::directory_iterator(t.path()))
      in = e.path();
    bool arm = std::string(s).find("arm64") != std::string::npos;
    std::vector<std::string> argv = {bpftool_path().string(), "gen",
                                     "min_core_btf", in.string(),
                                     (t / "hand.btf").string()};
    for (const char *n : {"taskstate", "parentchain", "nspid"})
      argv.push_back(((arm ? bpf_obj_dir() / "arm64" : bpf_obj_dir()) /
                      (std::string(n) + ".bpf.o"))
                         .string());
    auto b = run(argv);
    ASSERT_EQ(b.status, 0) << b.err;
    auto hand = read_file(t / "hand.btf");
    auto ours = read_file(r.out() / (std::string(s) + ".btf"));
    ASSERT_TRUE(hand.ok() && ours.ok()) << s;
    EXPECT_EQ(*hand, *ours) << s;
  }
}

bool has_member(const fs::path &btf_file, const char *type,
                const char *member) {
  BtfPtr btf(btf__parse(btf_file.c_str(), nullptr));
  EXPECT_TRUE(btf) << btf_file;
  if (!btf)
    return false;
  int id = btf__find_by_name_kind(btf.get(), type, BTF_KIND_STRUCT);
  EXPECT_GT(id, 0) << type << " in " << btf_file;
  if (id <= 0)
    return false;
  const struct btf_type *t = btf__type_by_id(btf.get(), id);
  const struct btf_member *m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++)
    if (std::string(btf__name_by_offset(btf.get(), m[i].name_off)) == member)
      return true;
  return false;
}

TEST_F(Gen, OldKernelsKeepStateNewOnesKeepDunderState) {
  auto &r = full_run();
  ASSERT_EQ(r.res.status, 0);
  std::size_t old_seen = 0, new_seen = 0;
  for (const auto &e : r.report["entries"]) {
    auto rel = e["release"].get<std::string>();
    fs::path f = r.out() / e["distro"].get<std::string>() /
                 e["version"].get<std::string>() /
                 e["arch"].get<std::string>() / (rel + ".btf");
    if (rel.rfind("5.10.", 0) == 0) {
      old_seen++;
      EXPECT_TRUE(has_member(f, "task_struct", "state")) << rel;
      EXPECT_FALSE(has_member(f, "task_struct", "__state")) << rel;
    } else if (rel.rfind("6.", 0) == 0) {
      new_seen++;
      EXPECT_TRUE(has_member(f, "task_struct", "__state")) << rel;
      EXPECT_FALSE(has_member(f, "task_struct", "state")) << rel;
    }
  }
  EXPECT_GE(old_seen, 6u);
  EXPECT_GE(new_seen, 60u);
}

TEST_F(Gen, IdenticalOutputsAreStoredOnce) {
  auto &r = full_run();
  ASSERT_EQ(r.res.status, 0);
  std::set<std::string> blobs;
  for (const auto &e : r.report["entries"])
    blobs.insert(e["blob"].get<std::string>());
  const auto &t = r.report["totals"];
  EXPECT_EQ(t["unique_blobs"].get<std::size_t>(), blobs.size());
  EXPECT_LT(blobs.size(), r.report["entries"].size());
  EXPECT_GT(t["dedup_ratio"].get<double>(), 1.5);
  // The cache holds each distinct BTF once.
  std::size_t files = 0;
  for (auto &e : fs::recursive_directory_iterator(r.cache() / "v1" / "blobs"))
    files += e.is_regular_file();
  EXPECT_EQ(files, blobs.size());
}

// A bpftool wrapper that logs each call, to prove a warm run minimizes
// nothing.
fs::path logging_bpftool(const TempDir &d) {
  fs::path p = d / "bpftool-log.sh";
  std::string script = "#!/bin/sh\necho \"$*\" >> '" + (d / "calls").string() +
                       "'\nexec '" + bpftool_path().string() + "' \"$@\"\n";
  EXPECT_TRUE(write_file_atomic(p, script, 0755).ok());
  return p;
}

TEST_F(Gen, WarmRerunDoesNoBpftoolWork) {
  auto &r = full_run();
  ASSERT_EQ(r.res.status, 0);
  TempDir d;
  auto wrapper = logging_bpftool(d);
  auto t = std::chrono::steady_clock::now();
  auto res = run(
      cat({cli_path().string(), "gen", "--archive", corpus_archive().string(),
           "--report", (d / "r.json").string(), "--cache", r.cache().string(),
           "--bpftool", wrapper.string(), "--out", (d / "out").string()},
          object_args()));
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
          .count();
  ASSERT_EQ(res.status, 0) << res.err;
  auto rep = read_json(d / "r.json");
  EXPECT_EQ(rep["bpftool_runs"], 0);
  EXPECT_EQ(rep["totals"]["cached"], rep["entries"].size());
  auto calls = read_text_file(d / "calls");
  ASSERT_TRUE(calls.ok());
  EXPECT_EQ(calls->find("min_core_btf "), std::string::npos) << *calls;
  // Same outputs as the cold run.
  for (const auto &e : rep["entries"]) {
    fs::path rel = fs::path(e["distro"].get<std::string>()) /
                   e["version"].get<std::string>() /
                   e["arch"].get<std::string>() /
                   (e["release"].get<std::string>() + ".btf");
    EXPECT_EQ(*read_file(d / "out" / rel), *read_file(r.out() / rel));
  }
  std::fprintf(stderr, "warm re-run: %.2f s\n", secs);
}

TEST_F(Gen, ShardsMergeToTheSingleRunBundle) {
  auto &r = full_run();
  ASSERT_EQ(r.res.status, 0);
  ASSERT_TRUE(fs::exists(r.bundle()));
  TempDir d;
  std::vector<std::string> shard_dirs;
  std::size_t entries = 0;
  for (int k = 1; k <= 3; k++) {
    fs::path out = d / ("shard" + std::to_string(k));
    auto res =
        run(cat({cli_path().string(), "gen", "--archive",
                 corpus_archive().string(), "--out", out.string(), "--cache",
                 r.cache().string(), "--shard", std::to_string(k) + "/3"},
                object_args()));
    ASSERT_EQ(res.status, 0) << res.err;
    entries += read_json(out / "btfpack-report.json")["entries"].size();
    shard_dirs.push_back(out.string());
  }
  EXPECT_EQ(entries, corpus_kernels());
  fs::path merged = d / "merged.bundle";
  auto m = run(cat(cat({cli_path().string(), "merge"}, shard_dirs),
                   {"--bundle", merged.string(), "--key", r.key().string(),
                    "--bundle-version", "7"}));
  ASSERT_EQ(m.status, 0) << m.err;
  EXPECT_EQ(*read_file(merged), *read_file(r.bundle()));
  // A missing shard is refused.
  auto partial =
      run({cli_path().string(), "merge", shard_dirs[0], shard_dirs[1],
           "--bundle", (d / "p.bundle").string(), "--key", r.key().string()});
  EXPECT_NE(partial.status, 0);
  EXPECT_NE(partial.err.find("2 of 3 shards"), std::string::npos)
      << partial.err;
}

// ------------------------------------------------------------ bad inputs

void copy_entry(const std::string &rel, const fs::path &archive) {
  fs::create_directories((archive / rel).parent_path());
  fs::copy_file(corpus_archive() / rel, archive / rel);
}

void write_tar(const fs::path &dst, const std::string &shell_body) {
  fs::create_directories(dst.parent_path());
  auto r = sh("set -e; d=$(mktemp -d); cd \"$d\"; " + shell_body +
              "; tar cJf '" + dst.string() + "' *; rm -rf \"$d\"");
  ASSERT_EQ(r.status, 0) << r.err;
}

TEST_F(Gen, BadInputsFailPerEntryAndTheRunGoesOn) {
  TempDir d;
  fs::path a = d / "archive";
  const std::string good1 = "debian/11/x86_64/5.10.0-30-amd64.btf.tar.xz";
  const std::string good2 = "debian/11/x86_64/5.10.0-32-amd64.btf.tar.xz";
  copy_entry(good1, a);
  copy_entry(good2, a);
  auto full = read_file(corpus_archive() / good1);
  ASSERT_TRUE(full.ok());
  std::vector<std::uint8_t> half(full->begin(),
                                 full->begin() + full->size() / 2);
  fs::create_directories(a / "bad/1/x86_64");
  ASSERT_TRUE(
      write_file_atomic(a / "bad/1/x86_64/truncated.btf.tar.xz", half).ok());
  auto corrupt = *full;
  for (std::size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 32; i++)
    corrupt[i] ^= 0xff;
  ASSERT_TRUE(
      write_file_atomic(a / "bad/1/x86_64/corrupt.btf.tar.xz", corrupt).ok());
  write_tar(a / "bad/1/x86_64/nobtf.btf.tar.xz", "echo hi > README");
  write_tar(a / "bad/1/x86_64/symlink.btf.tar.xz", "ln -s /etc/passwd k.btf");
  write_tar(a / "bad/1/x86_64/two.btf.tar.xz",
            "printf '\\237\\353xx' > a.btf; cp a.btf b.btf");
  write_tar(a / "bad/1/x86_64/notbtf.btf.tar.xz", "echo 'plain text' > k.btf");
  // "../" cannot be made with tar's defaults: build it with -P.
  {
    auto r = sh("set -e; d=$(mktemp -d); mkdir \"$d/x\"; cd \"$d/x\"; "
                "printf '\\237\\353xx' > ../e.btf; tar cJPf '" +
                (a / "bad/1/x86_64/dotdot.btf.tar.xz").string() +
                "' ../e.btf; rm -rf \"$d\"");
    ASSERT_EQ(r.status, 0) << r.err;
  }
  auto res = run(cat({cli_path().string(), "gen", "--archive", a.string(),
                      "--report", (d / "r.json").string(), "--cache",
                      (d / "cache").string(), "--out", (d / "out").string()},
                     object_args()));
  EXPECT_EQ(res.status, 1) << res.err;
  EXPECT_NE(res.err.find("7 kernel(s) failed"), std::string::npos) << res.err;
  auto rep = read_json(d / "r.json");
  std::map<std::string, std::string> why;
  for (const auto &e : rep["entries"])
    why[e["release"].get<std::string>()] =
        e["status"].get<std::string>() + ": " + e.value("reason", "");
  EXPECT_EQ(why["5.10.0-30-amd64"], "ok: ");
  EXPECT_EQ(why["5.10.0-32-amd64"], "ok: ");
  auto expect = [&](const char *rel, const char *text) {
    EXPECT_EQ(why[rel].rfind("failed: ", 0), 0u) << rel << " " << why[rel];
    EXPECT_NE(why[rel].find(text), std::string::npos) << rel << " " << why[rel];
  };
  expect("truncated", "truncated");
  expect("corrupt", "corrupt");
  expect("nobtf", "no .btf member");
  expect("symlink", "links are not allowed");
  expect("two", "more than one .btf");
  expect("notbtf", "neither raw BTF nor an ELF");
  expect("dotdot", "'..'");
  // Good entries still made it out, and nothing was left in the temp dir.
  EXPECT_TRUE(fs::exists(d / "out/debian/11/x86_64/5.10.0-32-amd64.btf"));
  // With --allow-failures the exit status is 0.
  auto allowed =
      run(cat({cli_path().string(), "gen", "--archive", a.string(), "--cache",
               (d / "cache").string(), "--allow-failures"},
              object_args()));
  EXPECT_EQ(allowed.status, 0) << allowed.err;
}

fs::path fake_bpftool(const TempDir &d, const std::string &action) {
  fs::path p = d / "fake-bpftool";
  std::string script = "#!/bin/sh\n"
                       "case \"$1\" in\n"
                       "version) echo \"$0 v7.1.0\"; echo 'using libbpf v1.1';"
                       " exit 0;;\n"
                       "gen) if [ \"$2\" = help ]; then echo 'min_core_btf' "
                       ">&2; exit 0; fi;;\n"
                       "esac\n" +
                       action + "\n";
  EXPECT_TRUE(write_file_atomic(p, script, 0755).ok());
  return p;
}

TEST_F(Gen, HangingBpftoolIsKilledPerEntry) {
  TempDir d;
  auto fake = fake_bpftool(d, "sleep 60");
  auto t = std::chrono::steady_clock::now();
  auto res = run(cat({cli_path().string(),
                      "gen",
                      "--archive",
                      corpus_archive().string(),
                      "--distro",
                      "debian",
                      "--version",
                      "11",
                      "--release",
                      "5.10.0-30-*",
                      "--report",
                      (d / "r.json").string(),
                      "--cache",
                      (d / "cache").string(),
                      "--bpftool",
                      fake.string(),
                      "--timeout",
                      "1",
                      "-j",
                      "2"},
                     object_args()));
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
          .count();
  EXPECT_EQ(res.status, 1);
  auto rep = read_json(d / "r.json");
  ASSERT_EQ(rep["entries"].size(), 3u);
  for (const auto &e : rep["entries"]) {
    EXPECT_EQ(e["status"], "failed");
    EXPECT_NE(e["reason"].get<std::string>().find("timed out"),
              std::string::npos);
  }
  EXPECT_LT(secs, 20.0);
  // A timeout is not cached: nothing to replay.
  EXPECT_FALSE(fs::exists(d / "cache/v1/results"));
}

TEST_F(Gen, CrashingBpftoolIsReported) {
  TempDir d;
  auto fake = fake_bpftool(d, "kill -SEGV $$");
  auto res = run(
      cat({cli_path().string(), "gen", "--archive", corpus_archive().string(),
           "--release", "5.10.0-30-amd64", "--report", (d / "r.json").string(),
           "--cache", (d / "cache").string(), "--bpftool", fake.string()},
          object_args()));
  EXPECT_EQ(res.status, 1);
  auto rep = read_json(d / "r.json");
  ASSERT_EQ(rep["entries"].size(), 1u);
  EXPECT_NE(rep["entries"][0]["reason"].get<std::string>().find("signal 11"),
            std::string::npos)
      << rep["entries"][0].dump();
}

TEST_F(Gen, ObjectWithoutCoreRelocsFailsItsKernels) {
  TempDir d;
  auto res =
      run({cli_path().string(), "gen", "--archive", corpus_archive().string(),
           "--distro", "debian", "--version", "11", "--report",
           (d / "r.json").string(), "--cache", (d / "cache").string(),
           "--object", (bpf_obj_dir() / "taskstate.bpf.o").string(), "--object",
           fixture("noreloc.bpf.o").string(), "--object-arch",
           fixture("noreloc.bpf.o").string() + "=x86_64"});
  EXPECT_EQ(res.status, 1);
  auto rep = read_json(d / "r.json");
  EXPECT_NE(rep["objects"][1]["error"].get<std::string>().find("CO-RE"),
            std::string::npos);
  ASSERT_EQ(rep["entries"].size(), 6u);
  for (const auto &e : rep["entries"]) {
    EXPECT_EQ(e["status"], "failed");
    EXPECT_NE(e["reason"].get<std::string>().find("noreloc.bpf.o"),
              std::string::npos);
  }
}

TEST_F(Gen, TypeIdTargetObjectsAreFlagged) {
  TempDir d;
  auto res =
      run({cli_path().string(), "gen", "--archive", corpus_archive().string(),
           "--release", "5.10.0-30-amd64", "--report", (d / "r.json").string(),
           "--cache", (d / "cache").string(), "--object",
           fixture("typeid.bpf.o").string()});
  EXPECT_EQ(res.status, 0) << res.err;
  auto rep = read_json(d / "r.json");
  ASSERT_EQ(rep["objects"][0]["flags"].size(), 1u);
  EXPECT_NE(
      rep["objects"][0]["flags"][0].get<std::string>().find("target_type_id"),
      std::string::npos);
  EXPECT_NE(res.err.find("flag:"), std::string::npos);
}

TEST_F(Gen, CustomKernelsGoThroughTheSamePipeline) {
  auto &r = full_run();
  ASSERT_EQ(r.res.status, 0);
  TempDir d;
  // An ELF-format BTF (amzn2) and a raw one, laid out as custom kernels.
  const std::string elf_rel = "amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64";
  const std::string raw_rel = "debian/11/x86_64/5.10.0-30-amd64";
  fs::create_directories(d / "custom/acme/1/x86_64");
  fs::create_directories(d / "tmp");
  for (const auto &[rel, name] :
       {std::pair{elf_rel, std::string("vmlinux-4.14-acme")},
        std::pair{raw_rel, std::string("5.10-acme.btf")}}) {
    auto p =
        unpack_btf_tar_xz(corpus_archive() / (rel + ".btf.tar.xz"), d / "tmp");
    ASSERT_TRUE(p.ok()) << p.error().message;
    fs::rename(*p, d / "custom/acme/1/x86_64" / name);
  }
  auto res =
      run(cat({cli_path().string(), "gen", "--custom", (d / "custom").string(),
               "--extra",
               "acme/2/x86_64/again=" +
                   (d / "custom/acme/1/x86_64/5.10-acme.btf").string(),
               "--out", (d / "out").string(), "--cache", r.cache().string()},
              object_args()));
  ASSERT_EQ(res.status, 0) << res.err;
  // Same input BTF, same minimized bytes as the archive's copy.
  EXPECT_EQ(*read_file(d / "out/acme/1/x86_64/4.14-acme.btf"),
            *read_file(r.out() / (elf_rel + ".btf")));
  EXPECT_EQ(*read_file(d / "out/acme/1/x86_64/5.10-acme.btf"),
            *read_file(r.out() / (raw_rel + ".btf")));
  EXPECT_EQ(*read_file(d / "out/acme/2/x86_64/again.btf"),
            *read_file(r.out() / (raw_rel + ".btf")));
}

} // namespace
} // namespace btfpack::btfgen

namespace btfpack::btfgen {
namespace {

// bug: bpftool writes a BTF without types when no relocation resolves; gen
// reported such kernels "ok" and signed them.
TEST_F(Gen, EmptyMinimizedBtfIsAFailure) {
  TempDir d;
  auto res = run({cli_path().string(), "gen", "--archive",
                  sample_archive().string(), "--distro", "debian", "--version",
                  "12", "--arch", "x86_64", "--report", (d / "r.json").string(),
                  "--cache", (d / "cache").string(), "--object",
                  fixture("noresolve.bpf.o").string()});
  EXPECT_NE(res.status, 0) << res.err;
  auto rep = read_json(d / "r.json");
  ASSERT_FALSE(rep["entries"].empty());
  for (const auto &e : rep["entries"]) {
    EXPECT_EQ(e["status"], "failed") << e.dump();
    EXPECT_NE(e.value("reason", "").find("holds no types"), std::string::npos)
        << e.dump();
  }
}

TEST_F(Gen, ModuleTypesAreFlaggedAndReportedPerKernel) {
  TempDir d;
  auto res =
      run({cli_path().string(), "gen", "--archive", corpus_archive().string(),
           "--distro", "debian", "--version", "11", "--report",
           (d / "r.json").string(), "--cache", (d / "cache").string(),
           "--object", fixture("modtype.bpf.o").string()});
  // bpftool exits 0 for an unresolved relocation: the kernels are ok, the
  // relocation is a warning finding on each, and the object is flagged.
  EXPECT_EQ(res.status, 0) << res.err;
  auto rep = read_json(d / "r.json");
  ASSERT_EQ(rep["entries"].size(), 6u);
  for (const auto &e : rep["entries"]) {
    bool seen = false;
    for (const auto &f : e["findings"])
      if (f["spec"].get<std::string>().find("btfpack_test_module_type") !=
          std::string::npos) {
        seen = true;
        EXPECT_EQ(f["severity"], "warning");
        EXPECT_EQ(f["object"], "modtype.bpf.o");
        EXPECT_EQ(f["section"], "tp/syscalls/sys_enter_getppid");
        EXPECT_EQ(f["kind"], "byte_off");
      }
    EXPECT_TRUE(seen) << e.dump();
  }
  ASSERT_EQ(rep["objects"][0]["unresolved_everywhere"].size(), 1u);
  EXPECT_NE(res.err.find("no target on any selected kernel"),
            std::string::npos);
}

TEST_F(Gen, BpftoolRelocationErrorsNameTheRelocation) {
  // bpftool's real failure text for a type-size relocation on a type the
  // kernel only forward-declares, replayed by a fake bpftool.
  TempDir d;
  std::string obj = (bpf_obj_dir() / "taskstate.bpf.o").string();
  auto fake = fake_bpftool(
      d, "echo \"libbpf: prog 'tp/sched/sched_switch': relo #2: <type_size> "
         "[7] struct task_struct\" >&2\n"
         "echo 'Error: error recording relocations for " +
             obj + ": Invalid argument' >&2\nexit 255");
  auto res =
      run({cli_path().string(), "gen", "--archive", corpus_archive().string(),
           "--release", "5.10.0-30-amd64", "--report", (d / "r.json").string(),
           "--cache", (d / "cache").string(), "--bpftool", fake.string(),
           "--object", obj});
  EXPECT_EQ(res.status, 1);
  auto rep = read_json(d / "r.json");
  ASSERT_EQ(rep["entries"].size(), 1u);
  const auto &e = rep["entries"][0];
  EXPECT_EQ(e["status"], "failed");
  EXPECT_EQ(e["bpftool_message"],
            "error recording relocations for " + obj + ": Invalid argument");
  auto reason = e["reason"].get<std::string>();
  EXPECT_NE(reason.find("taskstate.bpf.o section 'tp/sched/sched_switch' "
                        "relo #2 <type_size> struct task_struct"),
            std::string::npos)
      << reason;
  // A deterministic bpftool failure is cached like a success.
  auto again =
      run({cli_path().string(), "gen", "--archive", corpus_archive().string(),
           "--release", "5.10.0-30-amd64", "--report", (d / "r2.json").string(),
           "--cache", (d / "cache").string(), "--bpftool", fake.string(),
           "--object", obj});
  EXPECT_EQ(read_json(d / "r2.json")["bpftool_runs"], 0);
}

} // namespace
} // namespace btfpack::btfgen

namespace btfpack::btfgen {
namespace {

TEST_F(Gen, BundleHoldsEveryKernelAndWhatItWasMadeFrom) {
  auto &r = full_run();
  ASSERT_EQ(r.res.status, 0);
  auto pub = PublicKey::read_file(r.key().string() + ".pub");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  std::vector<PublicKey> keys{*pub};
  OpenOptions oo;
  oo.allow_expired = true;
  auto b = Bundle::open(r.bundle(), keys, oo);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->entries().size(), corpus_kernels());
  EXPECT_EQ(b->meta().version, 7u);
  EXPECT_EQ(b->meta().created, 1700000000);
  EXPECT_EQ(b->meta().bpftool_version, r.report["bpftool"]["version"]);
  EXPECT_EQ(b->meta().archive_snapshot, r.report["archive_snapshot"]);
  ASSERT_EQ(b->meta().objects.size(), 6u);
  std::multiset<std::string> arches;
  for (const auto &o : b->meta().objects)
    arches.insert(o.arch);
  EXPECT_EQ(arches.count("x86_64"), 3u);
  EXPECT_EQ(arches.count("arm64"), 3u);
  // One kernel's blob is the --out file, byte for byte.
  const KernelKey k{"debian", "11", "x86_64", "5.10.0-30-amd64"};
  const auto *e = b->find(k);
  ASSERT_NE(e, nullptr);
  auto blob = b->read_blob(e->blob);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  EXPECT_EQ(*blob,
            *read_file(r.out() / "debian/11/x86_64/5.10.0-30-amd64.btf"));
}

} // namespace
} // namespace btfpack::btfgen

namespace btfpack::btfgen {
namespace {

// Issue 6: the same inputs and key give the same bytes, with no timestamp
// from the clock: two runs a second apart, without SOURCE_DATE_EPOCH.
TEST(GenReproducible, SameInputsSameBytesWithoutSourceDateEpoch) {
  TempDir d;
  auto key = SecretKey::generate();
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(write_key_pair(*key, d / "key").ok());
  auto gen = [&](const std::string &name) {
    return run(cat({"env", "-u", "SOURCE_DATE_EPOCH", cli_path().string(),
                    "gen", "--archive", sample_archive().string(), "--cache",
                    (d / "cache").string(), "--bundle", (d / name).string(),
                    "--key", (d / "key").string()},
                   object_args()));
  };
  auto a = gen("a.btfpack");
  ASSERT_EQ(a.status, 0) << a.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto b = gen("b.btfpack");
  ASSERT_EQ(b.status, 0) << b.err;
  auto ba = read_file(d / "a.btfpack");
  auto bb = read_file(d / "b.btfpack");
  ASSERT_TRUE(ba.ok() && bb.ok());
  EXPECT_EQ(*ba, *bb);
}

// One reproducibility policy: `btfpack build` and `btfpack gen --bundle`
// over the same inputs write the same bytes, with SOURCE_DATE_EPOCH (read
// once by the CLI, recorded as the creation time, the default version) and
// without it (no creation time, version 1: neither reads the clock).
TEST(GenReproducible, BuildAndGenGiveTheSameBytes) {
  TempDir d;
  auto key = SecretKey::generate();
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(write_key_pair(*key, d / "key").ok());
  auto make = [&](const char *cmd, const std::string &sde,
                  const std::string &name) {
    std::vector<std::string> env = {"env", "-u", "SOURCE_DATE_EPOCH"};
    if (!sde.empty())
      env.push_back("SOURCE_DATE_EPOCH=" + sde);
    return run(
        cat(cat(env, {cli_path().string(), cmd, "--archive",
                      sample_archive().string(), "--cache",
                      (d / "cache").string(), "--bundle", (d / name).string(),
                      "--key", (d / "key").string()}),
            object_args()));
  };
  for (const std::string sde : {"1234567890", ""}) {
    auto g = make("gen", sde, "gen-" + sde + ".btfpack");
    ASSERT_EQ(g.status, 0) << g.err;
    auto b = make("build", sde, "build-" + sde + ".btfpack");
    ASSERT_EQ(b.status, 0) << b.err;
    auto bg = read_file(d / ("gen-" + sde + ".btfpack"));
    auto bb = read_file(d / ("build-" + sde + ".btfpack"));
    ASSERT_TRUE(bg.ok() && bb.ok());
    EXPECT_EQ(*bg, *bb) << "SOURCE_DATE_EPOCH=" << sde;
    std::vector<PublicKey> trusted{key->public_key()};
    auto opened = Bundle::open_memory(*bb, "build", trusted);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(opened->meta().created, sde.empty() ? 0 : 1234567890);
    EXPECT_EQ(opened->meta().version, sde.empty() ? 1u : 1234567890u);
  }
  auto bad = make("build", "yesterday", "bad.btfpack");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("SOURCE_DATE_EPOCH='yesterday'"), std::string::npos)
      << bad.err;
  EXPECT_FALSE(fs::exists(d / "bad.btfpack"));
}

} // namespace
} // namespace btfpack::btfgen
