// SPDX-License-Identifier: Apache-2.0
//
// Reading bpftool's -d log: lines captured from bpftool v7.1.0 minimizing a
// Debian 5.10 kernel for a program probing task_struct::__state.
#include <gtest/gtest.h>

#include "minimize.h"

namespace btfpack::btfgen {
namespace {

const char *LOG =
    "libbpf: CO-RE relocating [5] struct task_struct: found target candidate "
    "[132] struct task_struct in [vmlinux]\n"
    "libbpf: prog 'tp/sched/sched_process_exec': relo #0: <field_exists> [5] "
    "struct task_struct.__state (0:1 @ offset 24)\n"
    "libbpf: prog 'tp/sched/sched_process_exec': relo #0: non-matching "
    "candidate #0 <field_exists> [132] struct task_struct (0 @ offset 0)\n"
    "libbpf: prog 'tp/sched/sched_process_exec': relo #0: no matching targets "
    "found\n"
    "libbpf: prog 'tp/sched/sched_process_exec': relo #1: <byte_off> [5] "
    "struct task_struct.real_parent (0:95 @ offset 1280)\n"
    "libbpf: prog 'tp/sched/sched_process_exec': relo #1: matching candidate "
    "#0 <byte_off> [132] struct task_struct.real_parent (0:67 @ offset 2248)\n"
    "libbpf: prog 'kprobe/x': relo #0: <byte_off> [313] struct pt_regs.di "
    "(0:14 @ offset 112)\n"
    "libbpf: prog 'kprobe/x': relo #0: matching candidate #0 <byte_off> [176] "
    "struct pt_regs.di (0:14 @ offset 112)\n"
    "Error: something else\n";

ObjectInfo object(const std::string &name,
                  std::vector<std::pair<std::string, int>> relos) {
  ObjectInfo o;
  o.name = name;
  for (auto &[sec, n] : relos)
    for (int i = 0; i < n; i++)
      o.relos.push_back({sec, static_cast<std::uint32_t>(i), 0, "t", "0:0"});
  return o;
}

// bpftool's message reached the user raw: "Unknown error 4001".
TEST(ReloLog, LibbpfErrnoIsTranslated) {
  auto t = translate_libbpf_errno(
      "failed to allocate info structure: Unknown error 4001");
  EXPECT_EQ(t.find("Unknown error"), std::string::npos) << t;
  EXPECT_NE(t.find("failed to allocate info structure: "), std::string::npos);
  EXPECT_NE(t.find("(libbpf error 4001)"), std::string::npos) << t;
  EXPECT_EQ(translate_libbpf_errno("open x: Unknown error 512"),
            "open x: Unknown error 512");
  EXPECT_EQ(translate_libbpf_errno("no such type"), "no such type");
}

TEST(ReloLog, NormalizeDropsIdsAndAccessIndices) {
  EXPECT_EQ(normalize_spec("[132] struct task_struct.real_parent (0:67 @ "
                           "offset 2248)"),
            "struct task_struct.real_parent (@ offset 2248)");
  EXPECT_EQ(normalize_spec("[7] struct task_struct.real_parent (0:3 @ offset "
                           "2248)"),
            "struct task_struct.real_parent (@ offset 2248)");
  EXPECT_EQ(normalize_spec("enum pid_type::PIDTYPE_TGID = 1"),
            "enum pid_type::PIDTYPE_TGID = 1");
}

TEST(ReloLog, LinesMapToObjectsInOrder) {
  auto a = object("a.bpf.o", {{"tp/sched/sched_process_exec", 2}});
  auto b = object("b.bpf.o", {{"kprobe/x", 1}});
  auto out = parse_relo_log(LOG, {&a, &b});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].object, "a.bpf.o");
  EXPECT_EQ(out[0].kind, "field_exists");
  EXPECT_TRUE(out[0].no_match);
  EXPECT_EQ(out[0].local, "struct task_struct.__state (@ offset 24)");
  EXPECT_FALSE(out[1].no_match);
  ASSERT_EQ(out[1].targets.size(), 1u);
  EXPECT_EQ(out[1].targets[0],
            "struct task_struct.real_parent (@ offset 2248)");
  EXPECT_EQ(out[2].object, "b.bpf.o");
  EXPECT_EQ(out[2].section, "kprobe/x");
}

TEST(ReloLog, SameSectionInTwoObjects) {
  auto a = object("a.bpf.o", {{"kprobe/x", 1}});
  auto b = object("b.bpf.o", {{"kprobe/x", 1}});
  std::string log =
      "libbpf: prog 'kprobe/x': relo #0: <byte_off> [3] struct s.f (0:1 @ "
      "offset 4)\n"
      "libbpf: prog 'kprobe/x': relo #0: matching candidate #0 <byte_off> "
      "[9] struct s.f (0:1 @ offset 4)\n"
      "libbpf: prog 'kprobe/x': relo #0: <byte_off> [3] struct s.g (0:2 @ "
      "offset 8)\n"
      "libbpf: prog 'kprobe/x': relo #0: no matching targets found\n";
  auto out = parse_relo_log(log, {&a, &b});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].object, "a.bpf.o");
  EXPECT_FALSE(out[0].no_match);
  EXPECT_EQ(out[1].object, "b.bpf.o");
  EXPECT_TRUE(out[1].no_match);
}

} // namespace
} // namespace btfpack::btfgen
