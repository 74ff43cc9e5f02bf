// SPDX-License-Identifier: Apache-2.0
//
// One `bpftool -d gen min_core_btf` call and what its debug log says about
// each CO-RE relocation (bpftool exits 0 when a relocation finds no target:
// only the log tells).
#pragma once

#include <string>
#include <vector>

#include "btfpack/btfgen.h"
#include "subprocess.h"

namespace btfpack::btfgen {

// ReloOutcome is what libbpf logged for one relocation during minimization.
struct ReloOutcome {
  std::string object; // object file name ("" if it could not be mapped)
  std::string section;
  std::int64_t relo = -1;
  std::string kind;  // "byte_off", ...
  std::string local; // local spec, type ids and access indices removed
  bool no_match = false;
  bool failed = false;              // an error line named this relocation
  std::vector<std::string> targets; // matching candidates, normalized
};

struct MinimizeRun {
  ProcResult proc;
  std::vector<ReloOutcome> relos;
  std::string error; // bpftool's "Error: ..." line (without "Error: ")
};

// parse_relo_log maps libbpf's debug lines ("prog 'S': relo #N: ...") to
// relocations of `objects`, which bpftool processes in order, each in
// .BTF.ext order.
std::vector<ReloOutcome>
parse_relo_log(const std::string &log,
               const std::vector<const ObjectInfo *> &objects);

// minimize runs bpftool on input -> output with the objects.
Result<MinimizeRun> minimize(const Bpftool &bpftool, const fs::path &input,
                             const fs::path &output,
                             const std::vector<const ObjectInfo *> &objects,
                             std::chrono::milliseconds timeout);

// normalize_spec strips type ids ("[132] ") and access indices
// ("(0:67 @ offset 2248)" -> "(@ offset 2248)"), which differ between a
// full and a minimized BTF for the same resolution.
std::string normalize_spec(std::string_view spec);

// translate_libbpf_errno turns bpftool's "Unknown error 4001" (a libbpf
// error code put through strerror) into libbpf's text for it, keeping the
// rest of the message; other messages are returned as they are.
std::string translate_libbpf_errno(const std::string &msg);

} // namespace btfpack::btfgen
