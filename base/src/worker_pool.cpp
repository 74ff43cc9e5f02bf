// SPDX-License-Identifier: Apache-2.0
#include "btfpack/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace btfpack {

namespace fs = std::filesystem;

Result<void> run_worker_pool(const fs::path &parent, unsigned jobs,
                             std::size_t items, const WorkFn &fn) {
  jobs = static_cast<unsigned>(
      std::clamp<std::size_t>(jobs, 1, std::max<std::size_t>(1, items)));
  std::vector<fs::path> dirs;
  for (unsigned w = 0; w < jobs; w++) {
    fs::path work = parent / ("w" + std::to_string(w));
    std::error_code ec;
    fs::create_directory(work, ec);
    if (ec)
      return make_error(Errc::io, "create the work directory " + work.string() +
                                      ": " + ec.message());
    dirs.push_back(std::move(work));
  }
  std::atomic<std::size_t> next{0};
  {
    std::vector<std::jthread> workers;
    workers.reserve(dirs.size());
    for (const auto &work : dirs)
      workers.emplace_back([&next, &fn, &work, items] {
        for (std::size_t i; (i = next++) < items;)
          fn(i, work);
      });
  } // joined here
  return ok();
}

} // namespace btfpack
