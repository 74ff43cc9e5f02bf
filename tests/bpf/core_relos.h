// SPDX-License-Identifier: Apache-2.0
//
// Reads the CO-RE relocation records of a BPF object straight from its
// .BTF.ext section (libelf for the bytes, libbpf's btf__parse_elf for the
// types and strings; the record layout is struct bpf_core_relo of
// linux/bpf.h) and spells each one the way
// libbpf's debug log does: "task_struct.real_parent", "pid_type::PIDTYPE_TGID".
// Independent of bpftool, so the tests can check bpftool against it.
#pragma once

#include <string>
#include <vector>

namespace btfpack::test {

struct CoreRelo {
  std::string section; // "tp/sched/sched_switch"
  unsigned kind = 0;   // enum bpf_core_relo_kind
  std::string
      target; // "task_struct___x.__state", "upid", "pid_type::PIDTYPE_TGID"
};

// core_relo_kind_name returns libbpf's short name ("byte_off", "type_size").
std::string core_relo_kind_name(unsigned kind);

struct ObjectBtfInfo {
  bool is_bpf_elf = false; // ELF, e_machine EM_BPF
  bool has_btf = false;
  bool has_btf_ext = false;
  std::vector<CoreRelo> relos;
  // From the program sections' instructions:
  std::vector<std::string> data_sections; // .rodata/.data/.bss (global data)
  std::vector<int> helpers;               // helper ids called
  int back_jumps = 0;                     // loops (refused before 5.3)
  int insns = 0;
  std::string error; // why reading failed
};

ObjectBtfInfo read_object_btf(const std::string &path);

} // namespace btfpack::test
