// SPDX-License-Identifier: Apache-2.0
// Host fixtures (os-release files and unames) against a real bundle built
// from corpus kernels, through the C++ API, the C API and the CLI.
#include <gtest/gtest.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <fcntl.h>
#include <future>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <thread>

#include "btfpack/btfpack.h"
#include "btfpack/file_util.h"
#include "btfpack/runtime.h"
#include "runtime_fixture.h"

using namespace btfpack;
using namespace btfpack::test;

namespace {

fs::path osr(const std::string &name) {
  return data_dir() / "os-release" / name;
}

ResolveOptions base_options(const TestBundle &b) {
  ResolveOptions o;
  o.bundle = b.bundle;
  o.keys = {b.other_pubkey, b.pubkey};
  o.host.native_btf = false;
  o.handoff = HandOff::none;
  return o;
}

struct Fixture {
  const char *name;
  const char *os_release; // file in tests/data/os-release, or "" for none
  const char *release;
  const char *machine;
  bool container_without_host = false; // os-release is the container's
  bool allow_nearest = false;
  const char *expect_entry; // distro/version/arch/release, or nullptr
  MatchKind expect_kind = MatchKind::none;
  Errc expect_error = Errc::no_match;
  const char *expect_message = "";
};

// Test names say what a fixture is; gtest prints this instead of bytes.
[[maybe_unused]] void PrintTo(const Fixture &f, std::ostream *os) {
  *os << f.name;
}

std::string key_str(const KernelKey &k) {
  return k.distro + "/" + k.version + "/" + k.arch + "/" + k.release;
}

// check_fixture resolves a host described by `f` against the bundle.
void check_fixture(const Fixture &f) {
  const auto &b = corpus_bundle();
  TempDir root;
  ResolveOptions o = base_options(b);
  o.host.kernel_release = f.release;
  o.host.machine = f.machine;
  o.policy.allow_nearest = f.allow_nearest;
  if (*f.os_release) {
    // A host root as an agent container sees it: /host/etc/os-release a
    // relative symlink to ../usr/lib/os-release, as on real systems.
    fs::create_directories(root / "usr/lib");
    fs::create_directories(root / "etc");
    fs::copy_file(osr(f.os_release), root / "usr/lib/os-release");
    fs::create_symlink("../usr/lib/os-release", root / "etc/os-release");
    if (f.container_without_host)
      o.host.os_release_file = root / "etc/os-release";
    else
      o.host.host_root = root.path();
  } else {
    o.host.host_root = root.path(); // an empty host root: no os-release
  }
  auto r = resolve(o);
  if (f.expect_entry) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(r->decision.chosen);
    EXPECT_EQ(key_str(r->decision.chosen->kernel), f.expect_entry);
    EXPECT_EQ(r->decision.kind, f.expect_kind)
        << match_kind_name(r->decision.kind) << ": " << r->decision.summary;
    EXPECT_EQ(r->digest, b.digests.at(r->decision.chosen->kernel));
    EXPECT_GT(r->btf_types, 0u);
  } else {
    ASSERT_FALSE(r.ok()) << "matched " << key_str(r->decision.chosen->kernel);
    EXPECT_EQ(r.error().code, f.expect_error);
    EXPECT_NE(r.error().message.find(f.expect_message), std::string::npos)
        << r.error().message;
    // Every no-match error names the host facts and what to do.
    if (f.expect_error == Errc::no_match &&
        r.error().message.find("ambiguous") == std::string::npos) {
      EXPECT_NE(r.error().message.find(f.release), std::string::npos);
      EXPECT_NE(r.error().message.find("regenerate"), std::string::npos);
    }
  }
}

class HostFixtures : public ::testing::TestWithParam<Fixture> {
protected:
  void SetUp() override { SKIP_UNLESS_CORPUS(); }
};

TEST_P(HostFixtures, ResolvesToTheExpectedEntryOrError) {
  check_fixture(GetParam());
}

// SampleHostFixtures run instead of HostFixtures on a clone without
// ../shared: the bundle is then made of the committed sample's kernels.
class SampleHostFixtures : public ::testing::TestWithParam<Fixture> {
protected:
  void SetUp() override {
    if (has_corpus())
      GTEST_SKIP() << "../shared/corpus is there: HostFixtures run instead";
  }
};

TEST_P(SampleHostFixtures, ResolvesToTheExpectedEntryOrError) {
  check_fixture(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Sample, SampleHostFixtures,
    ::testing::Values(
        Fixture{"debian12_exact", "debian-12", "6.1.0-55-amd64", "x86_64",
                false, false, "debian/12/x86_64/6.1.0-55-amd64",
                MatchKind::exact},
        Fixture{"debian12_cloud_exact", "debian-12", "6.1.0-55-cloud-amd64",
                "x86_64", false, false, "debian/12/x86_64/6.1.0-55-cloud-amd64",
                MatchKind::exact},
        Fixture{"debian11_exact", "debian-11", "5.10.0-32-amd64", "x86_64",
                false, false, "debian/11/x86_64/5.10.0-32-amd64",
                MatchKind::exact},
        Fixture{"debian12_arm64_exact", "debian-12", "6.1.0-55-arm64",
                "aarch64", false, false, "debian/12/arm64/6.1.0-55-arm64",
                MatchKind::exact},
        Fixture{"missing_release_refused", "debian-12", "6.1.0-99-amd64",
                "x86_64", false, false, nullptr, MatchKind::none,
                Errc::no_match, ""}),
    [](const auto &p) { return std::string(p.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Corpus, HostFixtures,
    ::testing::Values(
        Fixture{"ubuntu2004_exact", "ubuntu-20.04", "5.4.0-1029-aws", "x86_64",
                false, false, "ubuntu/20.04/x86_64/5.4.0-1029-aws",
                MatchKind::exact},
        Fixture{"ubuntu1804_exact", "ubuntu-18.04", "4.15.0-1054-aws", "x86_64",
                false, false, "ubuntu/18.04/x86_64/4.15.0-1054-aws",
                MatchKind::exact},
        Fixture{"debian12_exact", "debian-12", "6.1.0-47-amd64", "x86_64",
                false, false, "debian/12/x86_64/6.1.0-47-amd64",
                MatchKind::exact},
        Fixture{"debian12_backports", "debian-12", "6.12.107+deb12-amd64",
                "x86_64", false, false, "debian/12/x86_64/6.12.107+deb12-amd64",
                MatchKind::exact},
        Fixture{"debian11_with_debian12_kernel", "debian-11", "6.1.0-47-amd64",
                "x86_64", false, false, "debian/12/x86_64/6.1.0-47-amd64",
                MatchKind::other_version},
        Fixture{"amzn2_exact", "amzn-2", "4.14.262-200.489.amzn2.x86_64",
                "x86_64", false, false,
                "amzn/2/x86_64/4.14.262-200.489.amzn2.x86_64",
                MatchKind::exact},
        Fixture{"amzn1_version_2018_03", "amzn-2018.03",
                "4.14.106-79.86.amzn1.x86_64", "x86_64", false, false,
                "amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64",
                MatchKind::other_version},
        Fixture{"centos8_aarch64_exact", "centos-8",
                "4.18.0-147.5.1.el8_1.aarch64", "aarch64", false, false,
                "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64",
                MatchKind::exact},
        Fixture{"rocky_id_like", "rocky-8.6", "4.18.0-147.5.1.el8_1.aarch64",
                "aarch64", false, false,
                "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64",
                MatchKind::id_like},
        Fixture{"almalinux_id_like", "almalinux-8.5",
                "4.18.0-147.5.1.el8_1.aarch64", "aarch64", false, false,
                "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64",
                MatchKind::id_like},
        Fixture{"rhel_family", "rhel-8.1", "4.18.0-147.5.1.el8_1.aarch64",
                "aarch64", false, false,
                "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64",
                MatchKind::id_like},
        Fixture{"ol_family", "ol-8.6", "4.18.0-147.5.1.el8_1.aarch64",
                "aarch64", false, false,
                "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64",
                MatchKind::id_like},
        Fixture{"rocky_other_release_refused", "rocky-8.6",
                "4.18.0-372.9.1.el8_6.aarch64", "aarch64", false, false,
                nullptr, MatchKind::none, Errc::no_match,
                "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64"},
        Fixture{"kylin_exact", "kylin-v10", "4.19.90-24.4.v2101.ky10.aarch64",
                "aarch64", false, false,
                "kylin/V10/aarch64/4.19.90-24.4.v2101.ky10.aarch64",
                MatchKind::exact},
        Fixture{"fedora_not_in_bundle", "fedora-38", "6.5.6-300.fc38.x86_64",
                "x86_64", false, false, nullptr, MatchKind::none,
                Errc::no_match, "os fedora 38"},
        Fixture{"sles_not_in_bundle", "sles-15.4",
                "5.14.21-150400.24.46-default", "x86_64", false, false, nullptr,
                MatchKind::none, Errc::no_match, "os sles 15.4"},
        Fixture{"opensuse_not_in_bundle", "opensuse-leap-15.5",
                "5.14.21-150500.55.19-default", "x86_64", false, false, nullptr,
                MatchKind::none, Errc::no_match, "os opensuse-leap 15.5"},
        Fixture{"container_debian_on_amzn2", "debian-12",
                "4.14.256-197.484.amzn2.x86_64", "x86_64", true, false,
                "amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64",
                MatchKind::kernel_first},
        Fixture{"container_alpine_on_ubuntu", "alpine-3.18", "5.4.0-1055-aws",
                "x86_64", true, false, "ubuntu/20.04/x86_64/5.4.0-1055-aws",
                MatchKind::kernel_first},
        Fixture{"no_os_release", "", "4.14.106-79.86.amzn1.x86_64", "x86_64",
                false, false, "amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64",
                MatchKind::kernel_first},
        Fixture{"os_release_without_id", "malformed-no-id",
                "6.1.0-50-cloud-amd64", "x86_64", false, false,
                "debian/12/x86_64/6.1.0-50-cloud-amd64",
                MatchKind::kernel_first},
        Fixture{"os_release_binary", "binary-garbage", "5.10.0-30-amd64",
                "x86_64", false, false, "debian/11/x86_64/5.10.0-30-amd64",
                MatchKind::kernel_first},
        Fixture{"unknown_arch", "debian-12", "6.1.0-47-amd64", "sparc64", false,
                false, nullptr, MatchKind::none, Errc::no_match,
                "none for arch sparc64"},
        Fixture{"missing_release_refused", "debian-12", "6.1.0-55-amd64",
                "x86_64", false, false, nullptr, MatchKind::none,
                Errc::no_match, "debian/12/x86_64/6.1.0-53-amd64"},
        Fixture{"android_label", "", "a12-5.10-2022-03-arm64", "aarch64", false,
                false, "android/12/arm64/a12-5.10-2022-03-arm64",
                MatchKind::kernel_first}),
    [](const auto &p) { return std::string(p.param.name); });

class Runtime : public ::testing::Test {
protected:
  void SetUp() override { SKIP_UNLESS_CORPUS(); }
};

TEST_F(Runtime, NearestUsesNeighboursOnlyWhenTheyShareABlob) {
  const auto &b = corpus_bundle();
  auto d = [&](const char *r) {
    return b.digests.at(KernelKey{"debian", "12", "x86_64", r});
  };
  ResolveOptions o = base_options(b);
  o.host.os_release_file = osr("debian-12");
  o.host.machine = "x86_64";
  o.policy.allow_nearest = true;
  // 6.1.0-52 lies between -50 and -53; -55 between -53 and -56.
  for (const char *rel : {"6.1.0-52-amd64", "6.1.0-55-amd64"}) {
    o.host.kernel_release = rel;
    bool same = std::string(rel) == "6.1.0-52-amd64"
                    ? d("6.1.0-50-amd64") == d("6.1.0-53-amd64")
                    : d("6.1.0-53-amd64") == d("6.1.0-56-amd64");
    auto r = resolve(o);
    if (same) {
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->decision.kind, MatchKind::nearest);
      EXPECT_NE(r->decision.warnings.at(0).find("WARNING"), std::string::npos);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.error().message.find("different BTFs"), std::string::npos)
          << r.error().message;
    }
    RecordProperty(rel, same ? "neighbours share a blob" : "neighbours differ");
  }
}

TEST_F(Runtime, BundleFailingVerificationIsRefusedBeforeMatching) {
  const auto &b = corpus_bundle();
  ResolveOptions o = base_options(b);
  o.keys = {b.other_pubkey};
  o.host.kernel_release = "6.1.0-47-amd64";
  auto x = explain(o);
  ASSERT_TRUE(x.error);
  EXPECT_EQ(x.error->code, Errc::bad_signature) << x.error->message;
  EXPECT_EQ(x.stage, "bundle");
  EXPECT_FALSE(x.r.bundle.opened);
  EXPECT_TRUE(x.r.decision.candidates.empty());
  EXPECT_EQ(x.r.decision.entries_scanned, 0u);

  // One flipped byte anywhere in the file.
  TempDir t;
  auto data = read_file(b.bundle);
  ASSERT_TRUE(data.ok());
  (*data)[data->size() / 2] ^= 0x01;
  ASSERT_TRUE(write_file_atomic(t / "flipped.btfpack", *data).ok());
  o.keys = {b.pubkey};
  o.bundle = t / "flipped.btfpack";
  auto r = resolve(o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().code == Errc::bad_signature ||
              r.error().code == Errc::corrupt)
      << r.error().message;
  EXPECT_NE(r.error().message.find("flipped.btfpack"), std::string::npos);
}

TEST_F(Runtime, StaleBundleIsRefusedNamingBoth) {
  const auto &b = corpus_bundle();
  ResolveOptions o = base_options(b);
  o.host.kernel_release = "6.1.0-47-amd64";
  o.host.os_release_file = osr("debian-12");
  o.objects = b.objects;
  auto good = resolve(o);
  ASSERT_TRUE(good.ok()) << good.error().message;
  TempDir t;
  ASSERT_TRUE(write_file_atomic(t / "new.bpf.o", "a newer build").ok());
  o.objects = {t / "new.bpf.o"};
  auto r = resolve(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::stale);
  EXPECT_NE(r.error().message.find("new.bpf.o"), std::string::npos);
  EXPECT_NE(r.error().message.find(b.objects[0].filename().string()),
            std::string::npos)
      << r.error().message;
}

TEST_F(Runtime, MemfdHandOffIsSealedAndHoldsTheBlob) {
  const auto &b = corpus_bundle();
  ResolveOptions o = base_options(b);
  o.host.kernel_release = "5.4.0-1029-aws";
  o.host.os_release_file = osr("ubuntu-20.04");
  o.handoff = HandOff::memfd;
  auto r = resolve(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->btf.is_memfd());
  std::string path = r->custom_path();
  EXPECT_EQ(path, "/proc/self/fd/" + std::to_string(r->btf.fd()));
  auto data = read_file(path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(sha256(*data), r->digest);
  int seals = ::fcntl(r->btf.fd(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
            F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  UniqueFd w(::open(path.c_str(), O_WRONLY));
  if (w) {
    EXPECT_LT(::write(w.get(), "x", 1), 0);
  }
  // libbpf reads it as BTF.
  struct btf *parsed = btf__parse(path.c_str(), nullptr);
  ASSERT_NE(parsed, nullptr);
  btf__free(parsed);
  // Moving the owner keeps the fd; resetting it closes.
  CustomBtf moved = std::move(r->btf);
  EXPECT_EQ(moved.path(), path);
  moved.reset();
  EXPECT_FALSE(fs::exists(path) && read_file(path).ok() &&
               sha256(*read_file(path)) == r->digest);
}

TEST_F(Runtime, CacheFileIsAtomicVerifiedAndTamperingIsReplaced) {
  const auto &b = corpus_bundle();
  TempDir t;
  ResolveOptions o = base_options(b);
  o.host.kernel_release = "4.14.262-200.489.amzn2.x86_64";
  o.host.os_release_file = osr("amzn-2");
  o.handoff = HandOff::cache;
  o.cache_dir = t / "cache";
  auto r = resolve(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  fs::path p = r->btf.path();
  EXPECT_EQ(p, o.cache_dir / (to_hex(r->digest) + ".btf"));
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(::stat(o.cache_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(r->notes.back(), "cache file written");

  auto again = resolve(o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->notes.back(), "cache file reused, digest verified");

  // Tampered: same size, one byte changed.
  auto data = read_file(p);
  ASSERT_TRUE(data.ok());
  (*data)[data->size() - 40] ^= 0xff;
  {
    UniqueFd f(::open(p.c_str(), O_WRONLY | O_TRUNC));
    ASSERT_TRUE(f);
    ASSERT_EQ(::write(f.get(), data->data(), data->size()),
              ssize_t(data->size()));
  }
  auto fixed = resolve(o);
  ASSERT_TRUE(fixed.ok()) << fixed.error().message;
  EXPECT_NE(fixed->notes.back().find("replaced"), std::string::npos)
      << fixed->notes.back();
  EXPECT_EQ(sha256(*read_file(p)), r->digest);

  // A symlink planted in its place is replaced, not followed.
  fs::remove(p);
  fs::create_symlink("/etc/passwd", p);
  auto unlinked = resolve(o);
  ASSERT_TRUE(unlinked.ok()) << unlinked.error().message;
  EXPECT_FALSE(fs::is_symlink(p));
  EXPECT_EQ(sha256(*read_file(p)), r->digest);

  // No temporary files left behind.
  int files = 0;
  for (const auto &f : fs::directory_iterator(o.cache_dir)) {
    (void)f;
    files++;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(Runtime, CacheDirectoryWritableByOthersIsRefused) {
  const auto &b = corpus_bundle();
  TempDir t;
  fs::create_directories(t / "open");
  fs::permissions(t / "open", fs::perms::all);
  ResolveOptions o = base_options(b);
  o.host.kernel_release = "6.1.0-47-amd64";
  o.host.os_release_file = osr("debian-12");
  o.handoff = HandOff::cache;
  o.cache_dir = t / "open";
  auto r = resolve(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("writable by group/others"),
            std::string::npos);
  fs::create_directory_symlink(t / "open", t / "link");
  o.cache_dir = t / "link";
  EXPECT_FALSE(resolve(o).ok());
}

TEST_F(Runtime, ConcurrentResolversGetTheSameCompleteFile) {
  const auto &b = corpus_bundle();
  TempDir t;
  ResolveOptions o = base_options(b);
  o.host.kernel_release = "6.12.107+deb12-amd64";
  o.host.os_release_file = osr("debian-12");
  o.handoff = HandOff::cache;
  o.cache_dir = t / "cache";
  // Threads in this process...
  std::vector<std::future<Result<Resolution>>> fs_;
  for (int i = 0; i < 8; i++)
    fs_.push_back(std::async(std::launch::async, [&] { return resolve(o); }));
  std::set<std::string> paths;
  for (auto &f : fs_) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    paths.insert(r->btf.path());
  }
  ASSERT_EQ(paths.size(), 1u);
  auto want = b.digests.at({"debian", "12", "x86_64", "6.12.107+deb12-amd64"});
  EXPECT_EQ(sha256(*read_file(*paths.begin())), want);
  // ...and processes, on a fresh directory.
  std::string cmd;
  for (int i = 0; i < 6; i++)
    cmd += cli_path().string() + " resolve --bundle " + b.bundle.string() +
           " --key " + b.pubkey.string() +
           " --kernel-release 6.12.107+deb12-amd64 --arch x86_64"
           " --native-btf no --os-release " +
           osr("debian-12").string() + " --cache-dir " +
           (t / "cache2").string() + " > " + (t / "out").string() +
           std::to_string(i) + " 2>&1 & ";
  cmd += "wait";
  auto run_all = sh(cmd);
  ASSERT_EQ(run_all.status, 0) << run_all.err;
  for (int i = 0; i < 6; i++) {
    auto out = read_text_file(t / ("out" + std::to_string(i)));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, (t / "cache2" / (to_hex(want) + ".btf")).string() + "\n");
  }
  EXPECT_EQ(sha256(*read_file(t / "cache2" / (to_hex(want) + ".btf"))), want);
}

TEST_F(Runtime, CliResolvePrintsPathOrNativeAsLastLine) {
  const auto &b = corpus_bundle();
  TempDir t;
  std::vector<std::string> base = {cli_path().string(),
                                   "resolve",
                                   "--bundle",
                                   b.bundle.string(),
                                   "--key",
                                   b.pubkey.string(),
                                   "--cache-dir",
                                   (t / "c").string(),
                                   "--os-release",
                                   osr("centos-8").string()};
  auto args = base;
  for (auto s : {"--kernel-release", "4.18.0-147.5.1.el8_1.aarch64", "--arch",
                 "aarch64", "--native-btf", "no"})
    args.push_back(s);
  auto r = run(args);
  ASSERT_EQ(r.status, 0) << r.err;
  auto want =
      b.digests.at({"centos", "8", "aarch64", "4.18.0-147.5.1.el8_1.aarch64"});
  EXPECT_EQ(r.out, (t / "c" / (to_hex(want) + ".btf")).string() + "\n");

  auto native = base;
  for (auto s : {"--native-btf", "yes"})
    native.push_back(s);
  auto n = run(native);
  ASSERT_EQ(n.status, 0) << n.err;
  EXPECT_EQ(n.out, "native\n");

  auto j = args;
  j.insert(j.begin() + 1, "--json");
  auto jr = run(j);
  ASSERT_EQ(jr.status, 0) << jr.err;
  auto doc = nlohmann::json::parse(jr.out);
  EXPECT_EQ(doc["match"], "exact");
  EXPECT_EQ(doc["digest"], to_hex(want));
  EXPECT_EQ(doc["entry"]["distro"], "centos");

  auto miss = base;
  for (auto s : {"--kernel-release", "4.18.0-999.el8.x86_64", "--arch",
                 "x86_64", "--native-btf", "no"})
    miss.push_back(s);
  auto m = run(miss);
  EXPECT_EQ(m.status, 1);
  EXPECT_NE(m.err.find("no BTF for this host"), std::string::npos) << m.err;
  EXPECT_TRUE(m.out.empty());
}

TEST_F(Runtime, CliExplainShowsEverythingOnOneScreen) {
  const auto &b = corpus_bundle();
  std::vector<std::string> args = {cli_path().string(),
                                   "explain",
                                   "--bundle",
                                   b.bundle.string(),
                                   "--key",
                                   b.pubkey.string(),
                                   "--os-release",
                                   osr("debian-12").string(),
                                   "--kernel-release",
                                   "4.14.256-197.484.amzn2.x86_64",
                                   "--arch",
                                   "x86_64",
                                   "--native-btf",
                                   "no"};
  auto r = run(args);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char *s :
       {"host", "kernel release", "4.14.256-197.484.amzn2.x86_64",
        "--kernel-release", "os id", "debian", "bundle", "signer",
        "signature ok", "version         7 (runtime-test)", "candidates",
        "WON ", "amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64", "decision",
        "kernel_first", "overruled", "digest", "handed over"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  int lines = 0;
  for (char c : r.out)
    lines += c == '\n';
  EXPECT_LT(lines, 40) << r.out;

  args.insert(args.begin() + 1, "--json");
  auto j = run(args);
  ASSERT_EQ(j.status, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["decision"]["match"], "kernel_first");
  EXPECT_EQ(doc["decision"]["os_release_overruled"], true);
  EXPECT_EQ(doc["host"]["kernel_release"]["source"], "--kernel-release");
  EXPECT_EQ(doc["bundle"]["version"], 7);
  EXPECT_FALSE(doc["candidates"].empty());

  // A failing explain still shows what it learned and exits 1.
  auto bad = args;
  bad[std::find(bad.begin(), bad.end(), b.pubkey.string()) - bad.begin()] =
      b.other_pubkey.string();
  auto f = run(bad);
  EXPECT_EQ(f.status, 1);
  auto fdoc = nlohmann::json::parse(f.out);
  EXPECT_EQ(fdoc["error"]["code"], "bad_signature");
  EXPECT_EQ(fdoc["error"]["stage"], "bundle");
  EXPECT_EQ(fdoc["host"]["kernel_release"]["value"],
            "4.14.256-197.484.amzn2.x86_64");
}

TEST_F(Runtime, CApiReportsNoMatchForThisHostWithErrno) {
  const auto &b = corpus_bundle();
  LIBBPF_OPTS(bpf_object_open_opts, opts);
  const char *keys[] = {b.pubkey.c_str(), nullptr};
  btfpack_opts bo{};
  bo.sz = sizeof bo;
  bo.bundle_path = b.bundle.c_str();
  bo.key_paths = keys;
  bo.prefer_bundle = 1; // this host's kernel is not in the corpus bundle
  int rc = btfpack_ensure_core_btf_opts(&opts, &bo);
  EXPECT_EQ(rc, -ENOENT);
  EXPECT_EQ(opts.btf_custom_path, nullptr);
  EXPECT_NE(std::string(btfpack_last_error()).find("no BTF for this host"),
            std::string::npos)
      << btfpack_last_error();
  btfpack_cleanup_core_btf(&opts);

  const char *wrong[] = {b.other_pubkey.c_str(), nullptr};
  bo.key_paths = wrong;
  EXPECT_EQ(btfpack_ensure_core_btf_opts(&opts, &bo), -EKEYREJECTED);
}

TEST(RuntimeDefaults, InstalledStoreAndKeysDirAreUsedFromEnvironment) {
  SKIP_UNLESS_CORPUS();
  const auto &b = corpus_bundle();
  TempDir t;
  fs::create_directories(t / "store/bundles");
  fs::create_directories(t / "keys");
  fs::copy_file(b.bundle, t / "store/bundles/x.btfpack");
  fs::create_symlink("bundles/x.btfpack", t / "store/current");
  fs::copy_file(b.pubkey, t / "keys/test.pub");
  auto r =
      run({"env", "BTFPACK_STORE=" + (t / "store").string(),
           "BTFPACK_KEYS_DIR=" + (t / "keys").string(),
           "BTFPACK_CACHE_DIR=" + (t / "cache").string(), cli_path().string(),
           "resolve", "--kernel-release", "5.4.0-1055-aws", "--arch", "x86_64",
           "--native-btf", "no", "--os-release", osr("ubuntu-20.04").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind((t / "cache").string(), 0), 0u) << r.out;
  // No key installed: a clear error.
  fs::remove(t / "keys/test.pub");
  auto nk = run({"env", "BTFPACK_STORE=" + (t / "store").string(),
                 "BTFPACK_KEYS_DIR=" + (t / "keys").string(),
                 cli_path().string(), "resolve", "--native-btf", "no"});
  EXPECT_EQ(nk.status, 1);
  EXPECT_NE(nk.err.find("no trusted keys"), std::string::npos) << nk.err;
}

} // namespace
