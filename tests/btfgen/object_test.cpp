// SPDX-License-Identifier: Apache-2.0
//
// Object checks on the project's real BPF objects (bpf/, both arches) and
// on fixtures compiled for this test (no CO-RE; bpf_core_type_id_kernel).
#include <gtest/gtest.h>

#include "btfpack/btfgen.h"
#include "btfpack/file_util.h"
#include "test_util.h"

namespace btfpack::btfgen {
namespace {

using namespace btfpack::test;

fs::path fixture(const std::string &name) {
  return fs::path(BTFGEN_FIXTURE_DIR) / name;
}

TEST(Object, ProjectObjectsHaveCoreRelosAndArch) {
  for (const char *n : {"taskstate", "parentchain", "nspid"}) {
    auto x86 = inspect_object(bpf_obj_dir() / (std::string(n) + ".bpf.o"));
    ASSERT_TRUE(x86.ok()) << x86.error().message;
    EXPECT_GT(x86->relos.size(), 0u);
    EXPECT_EQ(x86->arch, "x86_64") << n << " via " << x86->arch_source;
    auto arm =
        inspect_object(bpf_obj_dir() / "arm64" / (std::string(n) + ".bpf.o"));
    ASSERT_TRUE(arm.ok()) << arm.error().message;
    EXPECT_EQ(arm->arch, "arm64") << n << " via " << arm->arch_source;
    EXPECT_TRUE(x86->flags.empty());
  }
}

TEST(Object, RelocationsAreReadInOrder) {
  auto o = inspect_object(bpf_obj_dir() / "taskstate.bpf.o");
  ASSERT_TRUE(o.ok()) << o.error().message;
  bool state = false;
  for (std::size_t i = 0; i < o->relos.size(); i++) {
    const auto &r = o->relos[i];
    EXPECT_FALSE(r.section.empty());
    if (i > 0 && o->relos[i - 1].section == r.section) {
      EXPECT_EQ(r.index, o->relos[i - 1].index + 1);
    }
    if (r.type_name.rfind("task_struct", 0) == 0)
      state = true;
  }
  EXPECT_TRUE(state);
}

TEST(Object, ExplicitArchWinsWhereTheBtfAgreesOrIsSilent) {
  auto o =
      inspect_object(bpf_obj_dir() / "arm64" / "taskstate.bpf.o", "aarch64");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->arch, "arm64");
  EXPECT_EQ(o->arch_source, "explicit");
  auto n = inspect_object(fixture("neutral.bpf.o"), "arm64");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->arch, "arm64");
  EXPECT_EQ(n->arch_source, "explicit");
  auto bad = inspect_object(bpf_obj_dir() / "taskstate.bpf.o", "sparc");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown arch"), std::string::npos);
}

TEST(Object, ExplicitArchContradictingTheBtfIsRefused) {
  // Arch confusion: the x86_64 build declared arm64, and the other way.
  auto x = inspect_object(bpf_obj_dir() / "taskstate.bpf.o", "aarch64");
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.error().code, Errc::invalid_argument);
  for (const char *s : {"taskstate.bpf.o", "declared arm64", "x86_64 layout",
                        "cannot serve arm64"})
    EXPECT_NE(x.error().message.find(s), std::string::npos)
        << s << ": " << x.error().message;
  auto a = inspect_object(bpf_obj_dir() / "arm64" / "taskstate.bpf.o", "x86");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("arm64 layout"), std::string::npos)
      << a.error().message;
}

TEST(Object, NoCoreRelocationsIsRefused) {
  auto o = inspect_object(fixture("noreloc.bpf.o"));
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, Errc::invalid_argument);
  EXPECT_NE(o.error().message.find("CO-RE"), std::string::npos)
      << o.error().message;
  EXPECT_NE(o.error().message.find("noreloc.bpf.o"), std::string::npos);
}

TEST(Object, TypeIdTargetIsFlagged) {
  auto o = inspect_object(fixture("typeid.bpf.o"));
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_EQ(o->flags.size(), 1u);
  EXPECT_NE(o->flags[0].find("target_type_id"), std::string::npos);
  EXPECT_NE(o->flags[0].find("task_struct"), std::string::npos);
  EXPECT_NE(o->flags[0].find("tp/syscalls/sys_enter_getppid"),
            std::string::npos);
}

TEST(Object, PathConventionWhenBtfIsSilent) {
  // neutral.bpf.o names no pt_regs: its arch comes from the path, else "any".
  auto o = inspect_object(fixture("neutral.bpf.o"));
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->arch_source, "none");
  EXPECT_EQ(o->arch, "any");
  TempDir dir;
  fs::create_directories(dir / "aarch64");
  fs::copy_file(fixture("neutral.bpf.o"), dir / "aarch64" / "t.bpf.o");
  auto p = inspect_object(dir / "aarch64" / "t.bpf.o");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->arch, "arm64");
  EXPECT_EQ(p->arch_source, "path");
  fs::copy_file(fixture("neutral.bpf.o"), dir / "t.x86_64.bpf.o");
  auto q = inspect_object(dir / "t.x86_64.bpf.o");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->arch, "x86_64");
}

TEST(Object, NotBpfIsRefused) {
  TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir / "x.bpf.o", std::string("hello")).ok());
  auto o = inspect_object(dir / "x.bpf.o");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("not an ELF"), std::string::npos);
  auto host = inspect_object("/proc/self/exe");
  ASSERT_FALSE(host.ok());
  EXPECT_NE(host.error().message.find("EM_BPF"), std::string::npos);
}

} // namespace
} // namespace btfpack::btfgen
