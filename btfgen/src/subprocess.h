// SPDX-License-Identifier: Apache-2.0
//
// Running a tool (bpftool) with a deadline: its own process group so that a
// hung tool and any children it spawned are killed together, stdout and
// stderr captured (bounded).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "btfpack/result.h"

namespace btfpack::btfgen {

struct ProcResult {
  int exit_code = -1; // valid when !signaled && !timed_out
  int signal = 0;     // the signal that ended it, if any
  bool timed_out = false;
  std::string out, err; // captured, each truncated at the cap
  double seconds = 0;
};

// run_process runs argv[0] (a path, no PATH search) with argv, kills its
// process group after `timeout`, and captures up to `cap` bytes of each
// stream. Errc::io only when it cannot be started at all.
Result<ProcResult> run_process(const std::vector<std::string> &argv,
                               std::chrono::milliseconds timeout,
                               std::size_t cap = 32u << 20);

} // namespace btfpack::btfgen
