// SPDX-License-Identifier: Apache-2.0
//
// btfpack fetch: mirror the archive (or the part selected by --distro,
// --version, --arch, --release) into a directory, verified file by file.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "btfpack/fetcher.h"
#include "build_side.h"
#include "cli.h"
#include "github_access.h"
#include "selection.h"

namespace btfpack::cli {

namespace {

struct FetchArgs {
  FetchOptions opts;
  std::string to;
  bool allow_empty = false;
  std::string token_env = "GITHUB_TOKEN";
};

// all_not_found tells whether every selected file answered 404: then the
// base URL, not the files, is what is wrong.
bool all_not_found(const FetchReport &r) {
  if (r.failed.empty() || r.failed.size() != r.selected)
    return false;
  for (const auto &f : r.failed)
    if (f.reason.find("HTTP 404") == std::string::npos)
      return false;
  return true;
}

std::string human_bytes(double b) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    u++;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

void draw_progress(const FetchProgress &p) {
  double rate = p.seconds > 0 ? p.bytes_done / p.seconds : 0;
  std::string eta = "?";
  if (rate > 0 && p.bytes_total >= p.bytes_done) {
    double s = (p.bytes_total - p.bytes_done) / rate;
    char buf[32];
    if (s < 60)
      std::snprintf(buf, sizeof buf, "%.0fs", std::ceil(s));
    else
      std::snprintf(buf, sizeof buf, "%.0fm%02.0fs", std::floor(s / 60),
                    std::fmod(s, 60));
    eta = buf;
  }
  std::fprintf(stderr, "\r\033[K[%zu/%zu files] %s / %s  %s/s  ETA %s",
               p.files_done, p.files_total,
               human_bytes(static_cast<double>(p.bytes_done)).c_str(),
               human_bytes(static_cast<double>(p.bytes_total)).c_str(),
               human_bytes(rate).c_str(), eta.c_str());
  std::fflush(stderr);
}

void print_report(Cli &cli, const FetchOptions &opts, const FetchReport &r) {
  if (cli.json) {
    nlohmann::json j;
    j["listing"] = r.listing_source;
    j["listing_not_modified"] = r.listing_not_modified;
    j["selected"] = r.selected;
    if (opts.dry_run) {
      j["dry_run"] = true;
      j["present"] = r.skipped;
      auto list = nlohmann::json::array();
      for (const auto &e : r.to_fetch)
        list.push_back({{"path", e.path}, {"size", e.size}});
      j["to_fetch"] = std::move(list);
      j["bytes"] = r.bytes_to_fetch;
    } else {
      j["fetched"] = r.fetched;
      j["skipped"] = r.skipped;
      j["resumed"] = r.resumed;
      auto failed = nlohmann::json::array();
      for (const auto &f : r.failed)
        failed.push_back({{"path", f.path}, {"reason", f.reason}});
      j["failed"] = std::move(failed);
      j["bytes"] = r.bytes;
      j["retries"] = r.retries;
      j["index_written"] = r.index_written;
    }
    j["seconds"] = std::round(r.seconds * 1000) / 1000;
    print_json(cli, j);
    if (!r.ok())
      cli.exit_code = EXIT_FAIL;
    return;
  }
  if (opts.dry_run) {
    for (const auto &e : r.to_fetch)
      std::printf("%s\t%s\n", e.path.c_str(),
                  human_bytes(static_cast<double>(e.size)).c_str());
    std::printf("would fetch %zu of %zu selected files (%s); %zu already "
                "present and verified\n",
                r.to_fetch.size(), r.selected,
                human_bytes(static_cast<double>(r.bytes_to_fetch)).c_str(),
                r.skipped);
    return;
  }
  for (const auto &f : r.failed)
    std::fprintf(stderr, "failed: %s: %s\n", f.path.c_str(), f.reason.c_str());
  double rate = r.seconds > 0 ? r.bytes / r.seconds : 0;
  std::string resumed =
      r.resumed ? ", " + std::to_string(r.resumed) + " resumed" : "";
  std::printf("fetched %zu, already present %zu, failed %zu of %zu selected; "
              "%s in %.2f s (%s/s)%s\n",
              r.fetched, r.skipped, r.failed.size(), r.selected,
              human_bytes(static_cast<double>(r.bytes)).c_str(), r.seconds,
              human_bytes(rate).c_str(), resumed.c_str());
  if (all_not_found(r))
    fail(cli, "every one of the " + std::to_string(r.selected) +
                  " selected files answered HTTP 404 under " + opts.from +
                  ": the base URL looks wrong; it must be the archive's "
                  "root, which holds <distro>/<version>/<arch>/"
                  "<release>.btf.tar.xz as the listing " +
                  r.listing_source + " names them (check --from)");
  else if (!r.ok())
    fail(cli, std::to_string(r.failed.size()) + " of " +
                  std::to_string(r.selected) +
                  " selected files could not be fetched and verified; run "
                  "the same command again to retry them");
}

} // namespace

void add_fetch_command(CLI::App &app, Cli &cli) {
  auto args = std::make_shared<FetchArgs>();
  FetchOptions &o = args->opts;
  o.from = DEFAULT_ARCHIVE_URL;
  auto *sub = app.add_subcommand("fetch", build_side_description("fetch"));
  sub->add_option("--from", o.from,
                  "base URL (https://, http://, file://) or local directory "
                  "of the archive")
      ->capture_default_str();
  sub->add_option("--listing", o.listing,
                  "listing URL or file: a git tree JSON or a btfpack index "
                  "(default: the upstream git tree for a URL source, a scan "
                  "of a local source)");
  sub->add_option("--to", args->to, "mirror directory")->required();
  sub->add_option("--distro", o.filter.distro, "only this distro (ubuntu)");
  sub->add_option("--version", o.filter.version, "only this version (20.04)");
  sub->add_option("--arch", o.filter.arch, "only this arch folder (x86_64)");
  sub->add_option("--release", o.filter.release_glob,
                  "only releases matching this glob (5.4.0-*-aws)");
  auto *tok = sub->add_option(
      "--token-env", args->token_env,
      "environment variable holding a GitHub token (or the path of a file "
      "with it), sent to the GitHub API only (default GITHUB_TOKEN, if set)");
  sub->add_option("--jobs,-j", o.jobs, "parallel transfers (-j N is an alias)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub->add_flag("--allow-empty", args->allow_empty,
                "exit 0 when the selection matches no file");
  sub->add_flag("--dry-run", o.dry_run,
                "list what would be fetched and the byte total");
  sub->add_option("--ca-file", o.transport.ca_file,
                  "also trust the CAs in this PEM file (TLS verification "
                  "cannot be turned off)")
      ->check(CLI::ExistingFile);
  sub->add_option("--timeout", o.transport.timeout_s,
                  "seconds to connect, and seconds a transfer may stall "
                  "below 1 KiB/s before it is retried")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  sub->add_option("--listing-timeout", o.transport.listing_timeout_s,
                  "seconds the whole listing download may take, redirects "
                  "and retries included")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  sub->add_option("--retries", o.transport.retries,
                  "retries per file on transient errors (resets, timeouts, "
                  "5xx, 429)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  sub->footer("Files are written to DIR/.partial/ first, verified "
              "against the listing's git blob id or sha256, then renamed "
              "into place; an interrupted run resumes where it stopped. "
              "Proxies come from http_proxy, https_proxy, no_proxy as with "
              "curl. A raw.githubusercontent.com/OWNER/REPO/REF source is "
              "listed with GitHub's git trees API (a no-op run costs one "
              "conditional request); another HTTP(S) server is asked for "
              "its index.json (what `btfpack index` writes). "
              "BTFPACK_GITHUB_API_URL and BTFPACK_GITHUB_RAW_URL point at "
              "other API and raw-file hosts. Exit status 0 only when every "
              "selected file is present "
              "and verified.");

  sub->callback([&cli, args, tok] {
    FetchOptions opts = args->opts;
    opts.to = args->to;
    if (auto g = github_access(opts.transport.github, args->token_env,
                               tok->count() > 0);
        !g) {
      fail(cli, g.error());
      return;
    }
    if (!opts.transport.ca_file.empty() && !cli.json)
      std::fprintf(stderr,
                   "btfpack: note: trusting the extra CA certificates in %s "
                   "(--ca-file)\n",
                   opts.transport.ca_file.c_str());
    bool progress = progress_enabled(cli) && !opts.dry_run;
    if (progress)
      opts.progress = draw_progress;
    auto r = fetch_archive(opts);
    if (progress)
      std::fprintf(stderr, "\r\033[K");
    if (!r) {
      fail(cli, r.error());
      return;
    }
    if (r->selected == 0 && !args->allow_empty) {
      // Name the filter and what the listing holds (a typo in --distro
      // must not look like an up-to-date mirror).
      return fail(cli, no_match_error(
                           opts.filter,
                           listing_entries(r->listing_source, opts.transport),
                           "the archive " + opts.from));
    }
    print_report(cli, opts, *r);
  });
}

} // namespace btfpack::cli
