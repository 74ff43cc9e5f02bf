// SPDX-License-Identifier: Apache-2.0
//
// The fetcher mirrors the btfhub-archive, or the part of it a release needs,
// into a local directory in the archive's own layout
// (`<distro>/<version>/<arch>/<release>.btf.tar.xz`). It knows what exists
// from a listing (the archive repository's recursive git tree, a btfpack
// index file, or a scan of a local source), downloads the selected entries in
// parallel over HTTP(S) or copies them from a local path / file:// URL,
// verifies every file against the listing's git blob id or sha256 before it
// becomes visible, resumes partial files, and finally writes DIR/index.json.
//
// The transport (libcurl) is private to the fetcher: nothing in this header
// mentions it, and nothing a host links (runtime/) depends on it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "btfpack/archive_index.h"
#include "btfpack/result.h"

namespace btfpack {

// DEFAULT_ARCHIVE_URL is the upstream btfhub-archive raw-file base URL.
inline constexpr const char *DEFAULT_ARCHIVE_URL =
    "https://raw.githubusercontent.com/aquasecurity/btfhub-archive/main";
// DEFAULT_LISTING_URL is the upstream repository's recursive git tree.
inline constexpr const char *DEFAULT_LISTING_URL =
    "https://api.github.com/repos/aquasecurity/btfhub-archive/git/trees/"
    "main?recursive=1";

// GitHubOptions say how an archive hosted on GitHub is listed: through the
// git trees API of the repository that the raw-file base URL names
// (RAW/OWNER/REPO/REF -> API/repos/OWNER/REPO/git/trees/REF?recursive=1).
// Any other HTTP(S) server is asked for BASE/index.json instead.
struct GitHubOptions {
  std::string api_url = "https://api.github.com";
  std::string raw_url = "https://raw.githubusercontent.com";
  std::string token;             // bearer token, sent to api_url's origin only
  std::string token_source;      // where the token came from ("$GITHUB_TOKEN")
  unsigned max_rate_wait_s = 90; // a rate-limit reset further off fails
};

// TransportOptions are the network settings shared by the listing download
// and the file transfers.
struct TransportOptions {
  std::string ca_file;     // extra trusted CA bundle (PEM); verification
                           // itself can never be turned off
  unsigned timeout_s = 30; // connect timeout, and the stall timeout: a
                           // transfer slower than 1 KiB/s for this long
                           // is aborted (and retried)
  unsigned listing_timeout_s = 600; // the whole listing download (every
                                    // redirect and retry) must end within
                                    // this: a listing trickled just above
                                    // the stall limit cannot hold fetch
  unsigned retries = 5;             // transient-error retries per file
  unsigned retry_base_ms = 500; // first backoff; doubles per retry (max 30 s)
  GitHubOptions github;         // the listing of a GitHub-hosted archive
};

// FetchProgress is reported while fetching (about 4 times a second).
struct FetchProgress {
  std::size_t files_done = 0, files_total = 0; // done = fetched or failed
  std::uint64_t bytes_done = 0, bytes_total = 0;
  double seconds = 0; // since the transfers started
};

struct FetchOptions {
  std::string from;         // base URL (http, https, file) or a local directory
  std::string listing;      // URL or file; empty: the git trees API listing for
                            // a GitHub raw-file source, BASE/index.json for
                            // another HTTP(S) server, a scan for a local one
  std::filesystem::path to; // the mirror directory (created if missing)
  Filter filter;            // which entries to fetch
  unsigned jobs = 8;        // parallel transfers
  bool dry_run = false;     // only report what would be fetched
  TransportOptions transport;
  std::function<void(const FetchProgress &)> progress; // may be empty
};

// FetchFailure names a file that could not be fetched and why.
struct FetchFailure {
  std::string path;
  std::string reason;
};

struct FetchReport {
  std::string listing_source;        // where the listing came from
  bool listing_not_modified = false; // the server answered 304: the cached
                                     // listing in DIR was used
  std::size_t selected = 0;          // entries the filter selected
  std::size_t fetched = 0;           // downloaded and verified this run
  std::size_t skipped = 0;           // already present and verified
  std::size_t resumed = 0;           // fetched files continued from a partial
  std::vector<FetchFailure> failed;
  std::vector<IndexEntry> to_fetch; // dry run: what would be fetched
  std::uint64_t bytes = 0;          // bytes received this run
  std::uint64_t bytes_to_fetch = 0; // sum of the selected missing files
  std::uint64_t retries = 0;        // transfer attempts beyond the first
  double seconds = 0;               // wall time of the whole run
  bool index_written = false;       // DIR/index.json updated

  bool ok() const { return failed.empty(); }
};

// load_listing reads a listing from a URL (http, https, file) or a local
// file: GitHub's recursive git tree JSON or a btfpack index file. Redirects
// are followed by hand: the GitHub token goes to the API's origin only.
// A rate-limited API reply (403/429) is retried after its reset time when
// that is at most github.max_rate_wait_s away, else it fails (Errc::io)
// saying when it resets and how to raise the limit. Paths with
// ".." or absolute paths make it fail (Errc::corrupt) naming the path; a
// truncated git tree fails too, since the mirror would be silently partial.
Result<Index> load_listing(const std::string &source,
                           const TransportOptions &transport);

// fetch_archive mirrors the selected entries. It fails only when nothing can
// be attempted (unreadable listing, unsafe path, DIR unusable, another fetch
// holding DIR); per-file failures are in the report, and report.ok() tells
// whether everything selected is now present and verified.
Result<FetchReport> fetch_archive(const FetchOptions &opts);

// is_local_source tells whether `from` is a local directory or file:// URL.
bool is_local_source(const std::string &from);

} // namespace btfpack
