// SPDX-License-Identifier: Apache-2.0
//
// Loaders for the project's own CO-RE programs (bpf/*.bpf.c). Each one opens
// its skeleton with an optional btf_custom_path, loads and attaches it,
// triggers the traced event itself in children with a unique comm, and
// checks what the program read through CO-RE against ground truth: the BPF
// helpers' own answers (bpf_get_current_pid_tgid, bpf_get_current_comm) and
// what the children saw in userspace (getpid, getppid, their comm).
// A wrong kernel's BTF loads fine and reads garbage silently; these checks
// are what turns that into a failure. Used by btfpack-bpf-demo, the
// privileged and vm tests, and the examples.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace btfpack::bpf_demo {

// Options says which BTF libbpf gets and how long to wait for events.
struct Options {
  // btf_path is handed to libbpf as btf_custom_path; empty means the
  // kernel's own BTF (/sys/kernel/btf/vmlinux).
  std::string btf_path;
  // via_memfd copies btf_path into a memfd and hands libbpf
  // /proc/self/fd/N instead, keeping the fd open until load returns.
  bool via_memfd = false;
  // timeout bounds the wait for the triggered events.
  std::chrono::milliseconds timeout{5000};
};

// Outcome is the verdict of one run.
enum class Outcome {
  pass,         // loaded, events seen, every CO-RE value right
  wrong_values, // loaded and attached, but a CO-RE value is wrong
  load_failed,  // open, load or attach failed (libbpf's error in Report)
  no_event,     // loaded, but the triggered events never arrived
  error,        // could not run the test itself (fork, pipe, memfd)
};
// outcome_name returns "pass", "wrong_values", "load_failed", "no_event" or
// "error".
const char *outcome_name(Outcome o) noexcept;
// exit_code maps an outcome to btfpack-bpf-demo's exit status:
// pass 0, wrong_values 1, load_failed 3, no_event 4, error 5 (2 is usage).
int exit_code(Outcome o) noexcept;

// Check compares one value read through CO-RE with its ground truth.
struct Check {
  std::string name; // "b.core_parent_tgid == a.helper_tgid"
  std::string got;
  std::string want;
  bool ok = false;
};

// Report is what one run found.
struct Report {
  std::string program;       // "parentchain"
  std::string btf;           // path handed to libbpf, or "native"
  std::string btf_source;    // the file given in Options (empty: native)
  std::string object_sha256; // sha256 of the object the skeleton embeds
  Outcome outcome = Outcome::error;
  std::string error;         // why load/attach/setup failed
  double load_ms = 0;        // open + load of the skeleton
  std::vector<Check> checks; // every comparison made
  std::string events_json;   // the events read, a JSON array
  std::string truth_json;    // what the children saw, a JSON object
  // to_json renders the report as one line of JSON (see bpf/README.md).
  std::string to_json() const;
};

// program_names lists the programs: parentchain, taskstate, nspid.
std::vector<std::string> program_names();

// run_program runs one program by name end to end (needs CAP_BPF +
// CAP_PERFMON or CAP_SYS_ADMIN, and tracefs). An unknown name gives
// Outcome::error.
Report run_program(std::string_view name, const Options &opts);

// route_libbpf_logs sends libbpf's messages to btfpack::log (warnings as
// warn, info as info, debug as debug) so -v shows them.
void route_libbpf_logs();

} // namespace btfpack::bpf_demo
