// SPDX-License-Identifier: Apache-2.0
//
// run_worker_pool: N items over a few threads, each thread with a work
// directory of its own. Every work directory is created before any thread
// starts, so a directory that cannot be made is an error returned to the
// caller, never a joinable thread left behind (std::terminate); the threads
// are std::jthreads, joined on every path out.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>

#include "btfpack/result.h"

namespace btfpack {

// WorkFn handles item `index` with the calling worker's own directory.
using WorkFn =
    std::function<void(std::size_t index, const std::filesystem::path &work)>;

// run_worker_pool creates parent/w0 .. parent/w<jobs-1> (Errc::io naming
// the first that fails, then no work is done), and runs fn once for every
// index in [0, items) over `jobs` threads (at least 1, at most items),
// taking the indexes in order. fn must not throw.
Result<void> run_worker_pool(const std::filesystem::path &parent, unsigned jobs,
                             std::size_t items, const WorkFn &fn);

} // namespace btfpack
