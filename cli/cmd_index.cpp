// SPDX-License-Identifier: Apache-2.0
//
// btfpack index DIR [--json]: what a local mirror holds. Scans DIR (hashing
// only new or changed files when DIR/index.json exists), writes the index
// back, and prints the entries; or prints a remote git tree listing
// (--listing FILE) in the same shape.
#include <array>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "btfpack/archive_index.h"
#include "btfpack/file_util.h"
#include "btfpack/log.h"
#include "build_side.h"
#include "cli.h"

namespace btfpack::cli {

namespace {

struct IndexArgs {
  std::string dir;
  std::string listing;
  std::string out;
  bool list = false;
  bool full = false;
  bool no_write = false;
  bool git_blob = false;
  unsigned jobs = 0;
  Filter filter;
};

nlohmann::json entry_json(const IndexEntry &e) {
  nlohmann::ordered_json j;
  j["path"] = e.path;
  j["distro"] = e.distro;
  j["version"] = e.version;
  j["arch"] = e.arch;
  j["release"] = e.release;
  j["size"] = e.size;
  j["sha256"] =
      e.sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.sha256);
  if (!e.git_blob.empty())
    j["git_blob"] = e.git_blob;
  return nlohmann::json::parse(
      j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void print_table(const std::vector<IndexEntry> &es) {
  const char *hdr[] = {"DISTRO", "VERSION", "ARCH", "RELEASE",
                       "SIZE",   "SHA256",  "PATH"};
  std::vector<std::array<std::string, 7>> rows;
  rows.reserve(es.size());
  for (const auto &e : es)
    rows.push_back(
        {e.distro, e.version, e.arch, e.release, std::to_string(e.size),
         e.sha256.empty() ? (e.git_blob.empty() ? "-" : "git:" + e.git_blob)
                          : e.sha256,
         e.path});
  std::array<std::size_t, 7> w{};
  for (int c = 0; c < 7; c++)
    w[c] = std::string_view(hdr[c]).size();
  for (const auto &r : rows)
    for (int c = 0; c < 7; c++)
      w[c] = std::max(w[c], r[c].size());
  auto line = [&](auto get) {
    std::string s;
    for (int c = 0; c < 7; c++) {
      std::string v = get(c);
      if (c == 6) {
        s += v;
      } else if (c == 4) { // sizes right-aligned
        s += std::string(w[c] - v.size(), ' ') + v + "  ";
      } else {
        s += v + std::string(w[c] - v.size(), ' ') + "  ";
      }
    }
    std::cout << s << '\n';
  };
  line([&](int c) { return std::string(hdr[c]); });
  for (const auto &r : rows)
    line([&](int c) { return r[c]; });
  std::cout.flush();
}

void run_index(Cli &cli, IndexArgs &a) {
  namespace fs = std::filesystem;
  Index idx;
  std::vector<std::string> warnings;
  nlohmann::json extra = nlohmann::json::object();

  if (!a.listing.empty()) {
    auto text = read_text_file(a.listing, 1ull << 30);
    if (!text)
      return fail(cli, text.error());
    auto r = parse_git_tree_listing(*text, a.listing, &warnings);
    if (!r)
      return fail(cli, r.error());
    idx = std::move(r).value();
    if (!a.out.empty()) {
      if (auto w = idx.write_file(a.out); !w)
        return fail(cli, w.error());
      extra["index_file"] = a.out;
    }
  } else {
    if (a.dir.empty())
      return fail(cli,
                  make_error(Errc::invalid_argument,
                             "index: give a mirror DIR or --listing FILE"));
    fs::path index_file =
        a.out.empty() ? fs::path(a.dir) / "index.json" : fs::path(a.out);
    std::error_code ec;
    if (a.list && fs::exists(index_file, ec)) {
      // --list prints the index as it is: a broken one cannot be guessed.
      auto r = Index::read_file(index_file);
      if (!r)
        return fail(cli, r.error());
      idx = std::move(r).value();
      extra["index_file"] = index_file.string();
    } else {
      RefreshOptions ro;
      ro.candidates = {index_file};
      ro.reuse = !a.full;
      ro.scan.jobs = a.jobs;
      ro.scan.git_blob = a.git_blob;
      if (!a.no_write)
        ro.write_to = index_file;
      auto last = std::chrono::steady_clock::now();
      bool show = progress_enabled(cli);
      if (show)
        ro.scan.progress = [&](const ScanProgress &p) {
          auto now = std::chrono::steady_clock::now();
          if (p.files_done != p.files_total &&
              now - last < std::chrono::milliseconds(100))
            return;
          last = now;
          std::fprintf(stderr, "\rhashing %zu/%zu files, %.1f/%.1f MB",
                       p.files_done, p.files_total, p.bytes_done / 1e6,
                       p.bytes_total / 1e6);
          if (p.files_done == p.files_total)
            std::fputc('\n', stderr);
        };
      auto r = refresh_index(a.dir, ro, warnings);
      if (!r)
        return fail(cli, r.error());
      auto &res = r.value().scan;
      idx = std::move(res.index);
      extra["hashed_files"] = res.hashed_files;
      extra["hashed_bytes"] = res.hashed_bytes;
      if (!a.no_write)
        extra["index_file"] = index_file.string();
      if (show)
        std::fprintf(stderr, "indexed %zu kernels (%zu files hashed)%s%s\n",
                     idx.entries.size(), res.hashed_files,
                     a.no_write ? "" : " into ",
                     a.no_write ? "" : index_file.c_str());
    }
  }

  auto selected = a.filter.empty() ? idx.entries : idx.select(a.filter);
  if (cli.json) {
    nlohmann::json doc = nlohmann::json::object();
    doc["source"] = idx.source;
    for (auto &[k, v] : extra.items())
      doc[k] = v;
    nlohmann::json arr = nlohmann::json::array();
    for (const auto &e : selected)
      arr.push_back(entry_json(e));
    doc["entries"] = std::move(arr);
    doc["warnings"] = warnings;
    print_json(cli, doc);
  } else {
    for (const auto &w : warnings)
      log::warn(w);
    print_table(selected);
  }
}

} // namespace

void add_index_command(CLI::App &app, Cli &cli) {
  auto args = std::make_shared<IndexArgs>();
  auto *sub = app.add_subcommand("index", build_side_description("index"));
  sub->add_option("DIR", args->dir,
                  "mirror in <distro>/<version>/<arch>/<release>.btf.tar.xz "
                  "layout; DIR/index.json is written or updated");
  sub->add_flag("--list", args->list,
                "print DIR/index.json without rescanning (scan if missing)");
  sub->add_flag("--full", args->full,
                "re-hash every file instead of reusing unchanged digests");
  sub->add_flag("--no-write", args->no_write,
                "do not write DIR/index.json (read-only mirrors)");
  sub->add_flag("--git-blob", args->git_blob,
                "also compute git blob ids (to compare with a listing)");
  sub->add_option("--jobs", args->jobs,
                  "hashing workers (default: one per core)");
  sub->add_option("--listing", args->listing,
                  "print a GitHub recursive git tree listing (JSON file) "
                  "instead of scanning");
  sub->add_option("--out", args->out,
                  "index file to write (default DIR/index.json; with "
                  "--listing, only written when given)");
  sub->add_option("--distro", args->filter.distro, "only this distro");
  sub->add_option("--version", args->filter.version,
                  "only this distro version (e.g. 20.04)");
  sub->add_option("--arch", args->filter.arch,
                  "only this arch (aarch64 and arm64 are the same)");
  sub->add_option("--release", args->filter.release_glob,
                  "only releases matching this glob (e.g. '5.4.0-*-aws')");
  sub->callback([&cli, args] { run_index(cli, *args); });
}

} // namespace btfpack::cli
