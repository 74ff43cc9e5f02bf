// SPDX-License-Identifier: Apache-2.0
//
// End to end on this machine, with the real bpftool and real libbpf loads:
// minimize a BTF with `bpftool gen min_core_btf` against a bpf/ object, load
// the program with btf_custom_path pointing at it (btfpack-bpf-demo), let it
// trigger its event and compare what CO-RE read with ground truth.
//  - this host's /sys/kernel/btf/vmlinux minimized: every value right;
//  - the same through a memfd seen as /proc/self/fd/N;
//  - another kernel's BTF (Debian 5.10 and 6.1 from tests/data/archive):
//    the failure btfpack exists to prevent. Measured with libbpf 1.1.2 on
//    6.18: every program loads, attaches and silently reads wrong values
//    (outcome wrong_values, exit 1); a load failure would also be safe.
#include "test_util.h"

#include "btfpack/bpf_demo.h"

#include <gtest/gtest.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <sys/utsname.h>

namespace btfpack::test {
namespace {

const std::vector<std::string> kPrograms = {"parentchain", "taskstate",
                                            "nspid"};
// Other kernels, from the committed sample (no ../shared needed).
const std::vector<std::string> kOtherKernels = {
    "debian/11/x86_64/5.10.0-32-amd64", "debian/12/x86_64/6.1.0-55-amd64"};

fs::path demo_path() {
  return bpf_obj_dir() / "btfpack-bpf-demo";
}
fs::path object(const std::string &prog) {
  return bpf_obj_dir() / (prog + ".bpf.o");
}

struct DemoRun {
  int status = -1;
  std::vector<nlohmann::json> reports; // one per program run
  std::string err;
};

DemoRun run_demo(const std::string &prog, std::vector<std::string> args) {
  std::vector<std::string> argv = {demo_path().string(), prog, "--timeout-ms",
                                   "5000"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  DemoRun d;
  d.status = r.status;
  d.err = r.err;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty())
      d.reports.push_back(nlohmann::json::parse(line, nullptr, false));
  return d;
}

std::string failed_checks(const nlohmann::json &rep) {
  std::string s;
  if (!rep.contains("checks"))
    return s;
  for (const auto &c : rep["checks"])
    if (!c.value("ok", false))
      s += "  " + c.value("name", "") + ": got " + c.value("got", "") +
           ", want " + c.value("want", "") + "\n";
  return s;
}

// minimize runs the real bpftool gen min_core_btf.
void minimize(const fs::path &btf, const fs::path &out,
              const std::vector<std::string> &progs) {
  std::vector<std::string> argv = {bpftool_path().string(), "gen",
                                   "min_core_btf", btf.string(), out.string()};
  for (const auto &p : progs)
    argv.push_back(object(p).string());
  auto r = run(argv);
  ASSERT_EQ(r.status, 0) << "bpftool gen min_core_btf " << btf << ": " << r.err;
  ASSERT_GT(fs::file_size(out), 0u);
}

// The kernels' raw BTFs, unpacked once for the whole suite.
class BpfE2e : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    for (const auto &k : kOtherKernels) {
      auto tar = sample_archive() / (k + ".btf.tar.xz");
      auto r = run({"tar", "-xJf", tar.string(), "-C", dir_->path().string()});
      ASSERT_EQ(r.status, 0) << tar << ": " << r.err;
    }
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static fs::path kernel_btf(const std::string &k) {
    return dir_->path() / (fs::path(k).filename().string() + ".btf");
  }
  TempDir tmp_;
  static std::unique_ptr<TempDir> dir_;
};
std::unique_ptr<TempDir> BpfE2e::dir_;

void expect_pass(const DemoRun &d, const std::string &prog) {
  ASSERT_EQ(d.reports.size(), 1u) << d.err;
  const auto &rep = d.reports[0];
  EXPECT_EQ(d.status, 0) << rep.dump() << "\n" << failed_checks(rep);
  EXPECT_EQ(rep.value("program", ""), prog);
  EXPECT_EQ(rep.value("outcome", ""), "pass") << rep.value("error", "");
  EXPECT_EQ(rep.value("verdict", ""), "pass");
  ASSERT_TRUE(rep.contains("checks"));
  EXPECT_GE(rep["checks"].size(), 3u);
  EXPECT_EQ(failed_checks(rep), "");
  EXPECT_FALSE(rep["events"].empty());
}

class HostBtf : public BpfE2e,
                public ::testing::WithParamInterface<std::string> {};

TEST_P(HostBtf, MinimizedReadsRightValues) {
  SKIP_UNLESS_PRIVILEGED();
  const auto &prog = GetParam();
  auto min = tmp_ / (prog + ".min.btf");
  minimize("/sys/kernel/btf/vmlinux", min, {prog});
  EXPECT_LT(fs::file_size(min), 64u * 1024) << "not minimized?";
  auto d = run_demo(prog, {"--btf", min.string()});
  expect_pass(d, prog);
  if (!d.reports.empty()) {
    EXPECT_EQ(d.reports[0].value("btf", ""), min.string());
  }
}

TEST_P(HostBtf, MinimizedThroughMemfd) {
  SKIP_UNLESS_PRIVILEGED();
  const auto &prog = GetParam();
  auto min = tmp_ / (prog + ".min.btf");
  minimize("/sys/kernel/btf/vmlinux", min, {prog});
  auto d = run_demo(prog, {"--btf", min.string(), "--memfd"});
  expect_pass(d, prog);
  if (!d.reports.empty()) {
    EXPECT_EQ(d.reports[0].value("btf", "").rfind("/proc/self/fd/", 0), 0u)
        << d.reports[0].value("btf", "");
  }
}

INSTANTIATE_TEST_SUITE_P(Programs, HostBtf, ::testing::ValuesIn(kPrograms),
                         [](const auto &p) { return p.param; });

class OtherKernelBtf : public BpfE2e,
                       public ::testing::WithParamInterface<
                           std::tuple<std::string, std::string>> {};

// The regression test for what btfpack prevents: a BTF that is not the
// running kernel's must never pass for it.
TEST_P(OtherKernelBtf, GivesWrongValuesOrLoadFailure) {
  SKIP_UNLESS_PRIVILEGED();
  auto [prog, kernel] = GetParam();
  utsname u{};
  ::uname(&u);
  if (fs::path(kernel).filename() == u.release)
    GTEST_SKIP() << "the running kernel is " << kernel;
  auto min = tmp_ / (prog + ".other.min.btf");
  minimize(kernel_btf(kernel), min, {prog});
  auto d = run_demo(prog, {"--btf", min.string()});
  ASSERT_EQ(d.reports.size(), 1u) << d.err;
  const auto &rep = d.reports[0];
  auto outcome = rep.value("outcome", "");
  RecordProperty("outcome", outcome);
  EXPECT_NE(d.status, 0) << rep.dump();
  EXPECT_EQ(rep.value("verdict", ""), "fail");
  EXPECT_TRUE(outcome == "wrong_values" || outcome == "load_failed")
      << outcome << ": " << rep.value("error", "");
  if (outcome == "wrong_values") {
    EXPECT_EQ(d.status, 1);
    EXPECT_NE(failed_checks(rep), "") << rep.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Programs, OtherKernelBtf,
    ::testing::Combine(::testing::ValuesIn(kPrograms),
                       ::testing::ValuesIn(kOtherKernels)),
    [](const auto &p) {
      auto k = fs::path(std::get<1>(p.param)).filename().string();
      for (auto &c : k)
        if (!std::isalnum(static_cast<unsigned char>(c)))
          c = '_';
      return std::get<0>(p.param) + "_" + k;
    });

// What btfgen will produce: one BTF minimized against every object.
TEST_F(BpfE2e, OneBtfForAllObjects) {
  SKIP_UNLESS_PRIVILEGED();
  auto min = tmp_ / "all.min.btf";
  minimize("/sys/kernel/btf/vmlinux", min, kPrograms);
  auto d = run_demo("all", {"--btf", min.string()});
  EXPECT_EQ(d.status, 0) << d.err;
  ASSERT_EQ(d.reports.size(), kPrograms.size()) << d.err;
  for (size_t i = 0; i < kPrograms.size(); i++) {
    EXPECT_EQ(d.reports[i].value("program", ""), kPrograms[i]);
    EXPECT_EQ(d.reports[i].value("outcome", ""), "pass")
        << failed_checks(d.reports[i]);
  }
}

TEST_F(BpfE2e, NativeBtf) {
  SKIP_UNLESS_PRIVILEGED();
  auto d = run_demo("all", {});
  EXPECT_EQ(d.status, 0) << d.err;
  for (const auto &rep : d.reports) {
    EXPECT_EQ(rep.value("btf", ""), "native");
    EXPECT_EQ(rep.value("outcome", ""), "pass") << failed_checks(rep);
  }
}

// The loader library in this process: the memfd must outlive load() even
// with other descriptors opening and closing around it.
TEST_F(BpfE2e, LibraryMemfdInProcess) {
  SKIP_UNLESS_PRIVILEGED();
  auto min = tmp_ / "nspid.min.btf";
  minimize("/sys/kernel/btf/vmlinux", min, {"nspid"});
  bpf_demo::Options opts;
  opts.btf_path = min.string();
  opts.via_memfd = true;
  auto rep = bpf_demo::run_program("nspid", opts);
  EXPECT_EQ(rep.outcome, bpf_demo::Outcome::pass) << rep.to_json();
  EXPECT_EQ(rep.btf.rfind("/proc/self/fd/", 0), 0u) << rep.btf;
  EXPECT_EQ(rep.btf_source, min.string());
}

TEST_F(BpfE2e, MissingBtfFileIsALoadFailure) {
  SKIP_UNLESS_PRIVILEGED();
  auto d = run_demo("nspid", {"--btf", (tmp_ / "absent.btf").string()});
  ASSERT_EQ(d.reports.size(), 1u) << d.err;
  EXPECT_EQ(d.status, 3);
  EXPECT_EQ(d.reports[0].value("outcome", ""), "load_failed");
  EXPECT_NE(d.reports[0].value("error", "").find("-2"), std::string::npos)
      << d.reports[0].value("error", "");
}

} // namespace
} // namespace btfpack::test
