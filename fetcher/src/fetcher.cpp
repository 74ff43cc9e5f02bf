// SPDX-License-Identifier: Apache-2.0
//
// fetch_archive: listing -> selection -> what is already present and
// verified -> transfers -> DIR/index.json.
#include "btfpack/fetcher.h"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <map>
#include <optional>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfpack/file_util.h"
#include "btfpack/log.h"
#include "btfpack/unique_fd.h"
#include "content_digest.h"
#include "curl_common.h"
#include "fetch_paths.h"
#include "listing.h"
#include "transfer_engine.h"

namespace btfpack {

namespace fs = std::filesystem;
using namespace btfpack::fetch;

bool is_local_source(const std::string &from) {
  return from.rfind("file://", 0) == 0 || from.find("://") == std::string::npos;
}

namespace {

// Verified is what this run knows for certain about a file in the mirror.
struct Verified {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  std::uint64_t inode = 0;
  std::string sha256, git_blob;
  bool rehashed = false; // the index could not vouch for it
};

Result<Index> listing_for(const FetchOptions &opts, FetchReport &report) {
  std::string &source = report.listing_source;
  if (!is_local_source(opts.from)) {
    BTFPACK_TRY(plan,
                plan_listing(opts.from, opts.listing, opts.transport.github));
    source = plan.url;
    auto index = load_listing_cached(plan.url, opts.transport, opts.to,
                                     plan.repo, report.listing_not_modified);
    if (!index && plan.derived && !plan.repo)
      return make_error(
          index.error().code,
          index.error().message + " (" + opts.from + " is not a " +
              opts.transport.github.raw_url +
              " URL, so btfpack asks the server for its index.json, the "
              "file `btfpack index DIR` writes into a mirror: publish one "
              "there, or give the listing with --listing URL|FILE, "
              "archive.listing in btfpack.json)");
    return index;
  }
  if (!opts.listing.empty()) {
    source = opts.listing;
    return load_listing(opts.listing, opts.transport);
  }
  // A local source lists itself: scan it, reusing its index for the
  // digests of files that did not change.
  fs::path dir = local_source_dir(opts.from);
  source = dir.string();
  std::vector<std::string> broken, skipped;
  std::optional<Index> prev = read_previous_index({dir / INDEX_NAME}, broken);
  for (const auto &w : broken)
    log::warn("source ", dir.string(), ": ", w);
  RefreshOptions ro;
  ro.previous = prev ? &*prev : nullptr;
  auto r = refresh_index(dir, ro, skipped);
  for (const auto &w : skipped)
    log::info("source ", dir.string(), ": ", w);
  if (!r)
    return std::move(r).error();
  return std::move(r->scan.index);
}

// present_and_verified tells whether DIR already holds the entry's exact
// content: by the previous index (same size and mtime, same digest) or, when
// the index cannot say, by hashing the file.
bool present_and_verified(const fs::path &file, const IndexEntry &want,
                          const Index *prev, Verified &v) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) != want.size)
    return false;
  v.size = want.size;
  v.mtime_ns = mtime_ns(st);
  v.ctime_ns = ctime_ns(st);
  v.inode = static_cast<std::uint64_t>(st.st_ino);
  if (prev) {
    const IndexEntry *p = prev->find_path(want.path);
    if (p && p->size == want.size && p->mtime_ns == v.mtime_ns &&
        p->ctime_ns == v.ctime_ns && p->inode == v.inode) {
      bool by_sha = !want.sha256.empty() && p->sha256 == want.sha256;
      bool by_git = want.sha256.empty() && !want.git_blob.empty() &&
                    p->git_blob == want.git_blob;
      if (by_sha || by_git) {
        v.sha256 = p->sha256;
        v.git_blob = p->git_blob;
        return true;
      }
    }
  }
  auto hex = digest_file(file, want.size, is_git_sha256(want.git_blob));
  if (!hex || !check_digest(*hex, want.sha256, want.git_blob).empty())
    return false;
  v.sha256 = hex->sha256;
  v.git_blob = hex->git_blob;
  v.rehashed = true;
  return true;
}

// vouch_for records what this run verified in `known` (the previous
// index, or an empty one).
void vouch_for(Index &known, const std::map<std::string, Verified> &verified) {
  std::map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < known.entries.size(); i++)
    at[known.entries[i].path] = i;
  for (const auto &[path, v] : verified) {
    auto it = at.find(path);
    IndexEntry *e = nullptr;
    if (it != at.end()) {
      e = &known.entries[it->second];
    } else {
      auto parsed = parse_archive_path(path);
      if (!parsed)
        continue;
      known.entries.push_back(std::move(parsed).value());
      e = &known.entries.back();
      at[path] = known.entries.size() - 1;
    }
    e->size = v.size;
    e->mtime_ns = v.mtime_ns;
    e->ctime_ns = v.ctime_ns;
    e->inode = v.inode;
    e->sha256 = v.sha256;
    e->git_blob = v.git_blob;
  }
  known.sort();
}

// write_index rescans DIR incrementally (refresh_index): every file this
// run verified (and every unchanged file of the previous index) is taken as
// known, so only files nobody vouched for are hashed.
Result<void> write_index(const fs::path &dir, const Index *prev,
                         const std::map<std::string, Verified> &verified) {
  RefreshOptions ro;
  ro.previous = prev;
  Index known;
  ro.amend = [&](Index &k) {
    vouch_for(k, verified);
    known = k;
  };
  std::vector<std::string> warnings;
  BTFPACK_TRY(refreshed, refresh_index(dir, ro, warnings));
  auto &scan = refreshed.scan;
  for (auto &e : scan.index.entries) {
    if (!e.git_blob.empty())
      continue;
    const IndexEntry *k = known.find_path(e.path);
    if (k && k->size == e.size && k->mtime_ns == e.mtime_ns &&
        k->ctime_ns == e.ctime_ns && k->inode == e.inode &&
        k->sha256 == e.sha256)
      e.git_blob = k->git_blob;
  }
  scan.index.source = dir.string();
  return scan.index.write_file(dir / INDEX_NAME);
}

} // namespace

Result<FetchReport> fetch_archive(const FetchOptions &opts) {
  auto t0 = std::chrono::steady_clock::now();
  FetchReport report;
  if (opts.from.empty())
    return make_error(Errc::invalid_argument,
                      "no source: give --from BASE_URL or a local directory");
  if (opts.to.empty())
    return make_error(Errc::invalid_argument,
                      "no mirror directory: give --to DIR");
  if (opts.jobs == 0 || opts.jobs > 256)
    return make_error(Errc::invalid_argument,
                      "parallel transfers must be between 1 and 256, got " +
                          std::to_string(opts.jobs));
  BTFPACK_CHECK(curl_init());

  BTFPACK_TRY(listing, listing_for(opts, report));
  for (const auto &e : listing.entries) {
    std::string why = unsafe_path_reason(e.path);
    if (!why.empty())
      return make_error(Errc::corrupt, "listing " + report.listing_source +
                                           " names path '" + e.path +
                                           "': " + why + ", refused");
  }
  auto since = [&t0] {
    return std::to_string(std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - t0)
                              .count()) +
           " s";
  };
  log::debug("listing ", report.listing_source, ": ", listing.entries.size(),
             " entries after ", since());
  std::vector<IndexEntry> selected = listing.select(opts.filter);
  report.selected = selected.size();

  const fs::path dir = opts.to;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(Errc::io, "create mirror directory " + dir.string() +
                                    ": " + ec.message());
  UniqueFd lock(
      ::open((dir / LOCK_NAME).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock)
    return make_error(Errc::io, "open " + (dir / LOCK_NAME).string() + ": " +
                                    errno_message(errno));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
    return make_error(Errc::io, "another btfpack fetch is writing to " +
                                    dir.string() +
                                    ": wait for it to finish, or use "
                                    "another directory");

  std::vector<std::string> index_warnings;
  std::optional<Index> prev =
      read_previous_index({dir / INDEX_NAME}, index_warnings);
  for (const auto &w : index_warnings)
    log::warn(w);
  const Index *prev_ptr = prev ? &*prev : nullptr;

  const std::string base =
      to_url(is_local_source(opts.from) ? local_source_dir(opts.from).string()
                                        : opts.from);
  std::map<std::string, Verified> verified;
  std::vector<TransferJob> jobs;
  bool rehashed = false;
  for (const auto &e : selected) {
    Verified v;
    if (present_and_verified(dir / e.path, e, prev_ptr, v)) {
      report.skipped++;
      rehashed = rehashed || v.rehashed;
      verified[e.path] = std::move(v);
      continue;
    }
    TransferJob j;
    j.entry = e;
    j.url = url_join(base, e.path);
    j.final_path = dir / e.path;
    j.part_path = dir / PARTIAL_DIR / partial_name(e.path);
    report.bytes_to_fetch += e.size;
    jobs.push_back(std::move(j));
  }

  log::debug(report.skipped, " present, ", jobs.size(), " to fetch after ",
             since());
  if (opts.dry_run) {
    for (auto &j : jobs)
      report.to_fetch.push_back(j.entry);
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    return report;
  }

  if (!jobs.empty()) {
    fs::create_directories(dir / PARTIAL_DIR, ec);
    if (ec)
      return make_error(Errc::io, "create " + (dir / PARTIAL_DIR).string() +
                                      ": " + ec.message());
    EngineOptions eo;
    eo.jobs = opts.jobs;
    eo.transport = opts.transport;
    eo.progress = opts.progress;
    BTFPACK_TRY(outcomes, run_transfers(jobs, eo));
    for (std::size_t i = 0; i < jobs.size(); i++) {
      const auto &o = outcomes[i];
      report.bytes += o.bytes_received;
      if (o.attempts > 1)
        report.retries += o.attempts - 1;
      if (!o.ok) {
        report.failed.push_back({jobs[i].entry.path, o.reason});
        continue;
      }
      report.fetched++;
      if (o.resumed)
        report.resumed++;
      struct stat st {};
      if (::stat(jobs[i].final_path.c_str(), &st) != 0)
        continue;
      verified[jobs[i].entry.path] =
          Verified{jobs[i].entry.size, mtime_ns(st),
                   ctime_ns(st),       static_cast<std::uint64_t>(st.st_ino),
                   o.digest.sha256,    o.digest.git_blob};
    }
  }

  log::debug("transfers done after ", since());
  // One flush for the whole run instead of one per file: the index written
  // next vouches only for data that is on disk. Files renamed into place
  // before a power loss but not yet flushed are not in any index, so the
  // next run re-hashes them (and re-fetches what is short or wrong).
  if (report.fetched > 0 && ::syncfs(lock.get()) != 0)
    log::warn("syncfs ", dir.string(), ": ", errno_message(errno));
  log::debug("data flushed after ", since());
  // The index is rewritten after every run that changed or learnt
  // something, and when there is none yet.
  if (report.fetched > 0 || rehashed || !prev_ptr) {
    auto w = write_index(dir, prev_ptr, verified);
    if (w)
      report.index_written = true;
    else
      report.failed.push_back({INDEX_NAME, w.error().message});
  }
  log::debug("index done after ", since());
  fs::remove(dir / PARTIAL_DIR, ec); // only when nothing is left to resume
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  return report;
}

} // namespace btfpack
