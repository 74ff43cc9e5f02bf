// SPDX-License-Identifier: Apache-2.0
//
// Which CO-RE relocations of the bpf/ objects a kernel's BTF cannot
// satisfy, as bpftool itself decides: `bpftool -d gen min_core_btf` exits 0
// even then and only its debug log says "relo #N: no matching targets
// found" (docs/sharp-edges.md), so the log is parsed per (program, relocation).
#pragma once

#include <filesystem>
#include <set>
#include <string>

namespace btfpack::test {

struct ReloCoverage {
  int status = -1;                  // bpftool's exit status
  std::string error;                // its stderr when it failed
  std::set<std::string> resolved;   // "<byte_off> task_struct.pid"
  std::set<std::string> unresolved; // "<type_exists> pid_link___pre419"
};

// relo_coverage minimizes btf (raw or ELF) against every bpf/ object of
// arch ("x86_64" or "arm64") and sorts their relocations.
ReloCoverage relo_coverage(const std::filesystem::path &btf,
                           const std::string &arch,
                           const std::filesystem::path &workdir);

// check_relo_coverage returns "" when every relocation that has no
// alternative resolved and each alternative pair resolved exactly one way
// (__state or state; thread_pid or pid_link), else what is wrong.
std::string check_relo_coverage(const ReloCoverage &cov);

} // namespace btfpack::test
