// SPDX-License-Identifier: Apache-2.0
#include <system_error>

#include "btfpack/archive_index.h"

namespace btfpack {

namespace fs = std::filesystem;

std::optional<Index>
read_previous_index(const std::vector<fs::path> &candidates,
                    std::vector<std::string> &warnings) {
  for (const auto &p : candidates) {
    std::error_code ec;
    if (!fs::exists(p, ec))
      continue;
    auto r = Index::read_file(p);
    if (r.ok())
      return std::move(*r);
    warnings.push_back("ignoring " + p.string() + ": " + r.error().message +
                       ": every file is hashed again");
  }
  return std::nullopt;
}

Result<RefreshResult> refresh_index(const fs::path &dir,
                                    const RefreshOptions &opts,
                                    std::vector<std::string> &warnings) {
  std::optional<Index> read;
  Index amended;
  const Index *previous = opts.previous;
  if (!previous && opts.reuse) {
    read = read_previous_index(opts.candidates, warnings);
    if (read)
      previous = &*read;
  }
  if (opts.amend) {
    if (previous)
      amended = *previous;
    opts.amend(amended);
    previous = &amended;
  }
  RefreshResult res;
  res.had_previous = previous != nullptr;
  ScanOptions so = opts.scan;
  so.previous = previous;
  BTFPACK_TRY(scan, scan_mirror(dir, so));
  for (auto &w : scan.warnings)
    warnings.push_back(w);
  res.scan = std::move(scan);
  if (opts.write_to.empty())
    return res;
  std::error_code ec;
  if (opts.only_if_changed && res.scan.hashed_files == 0 &&
      fs::exists(opts.write_to, ec))
    return res;
  if (!opts.write_to.parent_path().empty())
    fs::create_directories(opts.write_to.parent_path(), ec);
  auto w = res.scan.index.write_file(opts.write_to);
  if (!w.ok() && !opts.best_effort_write)
    return std::move(w).error();
  if (!w.ok())
    warnings.push_back("cache: " + w.error().message);
  res.written = w.ok();
  return res;
}

} // namespace btfpack
