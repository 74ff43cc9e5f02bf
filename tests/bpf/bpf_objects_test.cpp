// SPDX-License-Identifier: Apache-2.0
//
// The bpf/ objects as built: BPF ELF files for x86_64 and arm64 carrying
// .BTF and .BTF.ext, with the CO-RE relocations each program is there to
// exercise. Relocations are read from .BTF.ext with libbpf's btf_ext API
// (core_relos.h) and cross-checked against bpftool's own view
// (`bpftool -d gen min_core_btf` prints one "relo #N: <kind> ..." line per
// relocation it records).
#include "core_relos.h"
#include "relo_coverage.h"
#include "test_util.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <regex>
#include <set>

namespace btfpack::test {
namespace {

const std::vector<std::string> kPrograms = {"parentchain", "taskstate",
                                            "nspid"};

fs::path object(const std::string &prog, const std::string &arch) {
  return arch == "x86_64" ? bpf_obj_dir() / (prog + ".bpf.o")
                          : bpf_obj_dir() / arch / (prog + ".bpf.o");
}

bool has_relo(const ObjectBtfInfo &info, unsigned kind,
              const std::string &target) {
  return std::any_of(info.relos.begin(), info.relos.end(), [&](auto &r) {
    return r.kind == kind && r.target == target;
  });
}

std::string dump(const ObjectBtfInfo &info) {
  std::string s;
  for (const auto &r : info.relos)
    s += "  " + r.section + " <" + core_relo_kind_name(r.kind) + "> " +
         r.target + "\n";
  return s;
}

class BpfObject
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(BpfObject, IsBpfElfWithBtfAndBtfExt) {
  auto [prog, arch] = GetParam();
  auto path = object(prog, arch);
  ASSERT_TRUE(fs::exists(path)) << path << " not built";
  auto info = read_object_btf(path);
  EXPECT_TRUE(info.is_bpf_elf) << path << " is not a 64-bit EM_BPF ELF";
  EXPECT_TRUE(info.has_btf) << info.error;
  EXPECT_TRUE(info.has_btf_ext) << path << " has no .BTF.ext";
  EXPECT_FALSE(info.relos.empty()) << path << " has no CO-RE relocations";
  EXPECT_TRUE(info.error.empty()) << info.error;
}

INSTANTIATE_TEST_SUITE_P(AllPrograms, BpfObject,
                         ::testing::Combine(::testing::ValuesIn(kPrograms),
                                            ::testing::Values("x86_64",
                                                              "arm64")),
                         [](const auto &p) {
                           return std::get<0>(p.param) + "_" +
                                  std::get<1>(p.param);
                         });

TEST(BpfObjects, SkeletonsGenerated) {
  for (const auto &prog : kPrograms)
    EXPECT_TRUE(fs::exists(bpf_obj_dir() / (prog + ".skel.h"))) << prog;
}

TEST(BpfObjects, ParentchainReadsPointerChains) {
  auto info = read_object_btf(object("parentchain", "x86_64"));
  for (const char *f : {"task_struct.real_parent", "task_struct.tgid",
                        "task_struct.pid", "task_struct.comm"})
    EXPECT_TRUE(has_relo(info, BPF_CORE_FIELD_BYTE_OFFSET, f)) << f << "\n"
                                                               << dump(info);
  // tgid is read at three depths (task, real_parent, real_parent's parent);
  // clang shares the one real_parent offset load between the chains.
  auto n = std::count_if(info.relos.begin(), info.relos.end(), [](auto &r) {
    return r.target == "task_struct.tgid";
  });
  EXPECT_GE(n, 3) << dump(info);
}

TEST(BpfObjects, TaskstateHandlesStateRenameAndBitfield) {
  auto info = read_object_btf(object("taskstate", "x86_64"));
  EXPECT_TRUE(has_relo(info, BPF_CORE_FIELD_EXISTS, "task_struct___x.__state"))
      << dump(info);
  EXPECT_TRUE(
      has_relo(info, BPF_CORE_FIELD_BYTE_OFFSET, "task_struct___x.__state"));
  EXPECT_TRUE(
      has_relo(info, BPF_CORE_FIELD_BYTE_OFFSET, "task_struct___o.state"));
  for (unsigned k : {BPF_CORE_FIELD_BYTE_OFFSET, BPF_CORE_FIELD_BYTE_SIZE,
                     BPF_CORE_FIELD_LSHIFT_U64, BPF_CORE_FIELD_RSHIFT_U64,
                     BPF_CORE_FIELD_SIGNED})
    EXPECT_TRUE(has_relo(info, k, "task_struct.sched_reset_on_fork"))
        << core_relo_kind_name(k) << "\n"
        << dump(info);
  EXPECT_TRUE(has_relo(info, BPF_CORE_FIELD_BYTE_OFFSET,
                       "trace_event_raw_sched_switch.prev_state"));
}

TEST(BpfObjects, NspidUsesTypeAndEnumRelocations) {
  for (const char *arch : {"x86_64", "arm64"}) {
    auto info = read_object_btf(object("nspid", arch));
    EXPECT_TRUE(has_relo(info, BPF_CORE_TYPE_EXISTS, "pid_link___pre419"))
        << arch << "\n"
        << dump(info);
    EXPECT_TRUE(has_relo(info, BPF_CORE_TYPE_EXISTS, "pid_namespace"));
    EXPECT_TRUE(has_relo(info, BPF_CORE_TYPE_SIZE, "upid"));
    EXPECT_TRUE(
        has_relo(info, BPF_CORE_ENUMVAL_VALUE, "pid_type::PIDTYPE_TGID"));
    for (const char *f : {"task_struct.thread_pid", "signal_struct.pids",
                          "pid.numbers", "pid.level", "upid.nr"})
      EXPECT_TRUE(has_relo(info, BPF_CORE_FIELD_BYTE_OFFSET, f)) << f;
  }
}

// bpftool records exactly the relocations .BTF.ext holds, per program.
TEST(BpfObjects, BpftoolSeesTheSameRelocations) {
  TempDir tmp;
  for (const auto &prog : kPrograms) {
    auto obj = object(prog, "x86_64");
    auto info = read_object_btf(obj);
    // Minimize the committed vmlinux's own kernel: the sample's 6.1 BTF.
    auto tar = sample_archive() / "debian/12/x86_64/6.1.0-55-amd64.btf.tar.xz";
    ASSERT_TRUE(fs::exists(tar)) << tar;
    auto x = run({"tar", "-xJf", tar.string(), "-C", tmp.path().string()});
    ASSERT_EQ(x.status, 0) << x.err;
    auto r = run({bpftool_path().string(), "-d", "gen", "min_core_btf",
                  (tmp / "6.1.0-55-amd64.btf").string(),
                  (tmp / (prog + ".min.btf")).string(), obj.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    // "relo #N: <kind> [id] ..." without a "candidate" is the local record.
    std::regex line(R"(prog '([^']+)': relo #(\d+): <([a-z_0-9]+)> \[)");
    std::multiset<std::string> seen;
    std::set<std::string> dedup;
    for (auto it = std::sregex_iterator(r.err.begin(), r.err.end(), line);
         it != std::sregex_iterator(); ++it) {
      auto key = (*it)[1].str() + "#" + (*it)[2].str();
      if (dedup.insert(key).second)
        seen.insert((*it)[1].str() + " " + (*it)[3].str());
    }
    std::multiset<std::string> want;
    for (const auto &rel : info.relos)
      want.insert(rel.section + " " + core_relo_kind_name(rel.kind));
    EXPECT_EQ(seen, want) << prog;
  }
}

// Every kernel of the committed sample satisfies every relocation the
// programs need (the corpus-wide version is relo_coverage_test).
TEST(BpfObjects, SampleKernelsSatisfyEveryNeededRelocation) {
  for (const auto &[path, arch] :
       std::vector<std::pair<std::string, std::string>>{
           {"debian/11/x86_64/5.10.0-32-amd64", "x86_64"},
           {"debian/12/x86_64/6.1.0-55-amd64", "x86_64"},
           {"debian/12/x86_64/6.1.0-55-cloud-amd64", "x86_64"},
           {"debian/12/arm64/6.1.0-55-arm64", "arm64"}}) {
    TempDir tmp;
    auto tar = sample_archive() / (path + ".btf.tar.xz");
    auto x = run({"tar", "-xJf", tar.string(), "-C", tmp.path().string()});
    ASSERT_EQ(x.status, 0) << x.err;
    auto btf = tmp / (fs::path(path).filename().string() + ".btf");
    auto cov = relo_coverage(btf, arch, tmp.path());
    EXPECT_EQ(check_relo_coverage(cov), "") << path;
    // 5.10 has state, 6.1 __state: the flavour that resolves tells.
    bool has_new_state =
        !cov.unresolved.count("<byte_off> task_struct___x.__state");
    EXPECT_EQ(has_new_state, path.find("/5.10.") == std::string::npos) << path;
  }
}

} // namespace
} // namespace btfpack::test
