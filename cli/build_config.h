// SPDX-License-Identifier: Apache-2.0
//
// The configuration of `btfpack build` (docs/build-config.md): a small JSON
// file checked into the user's repository naming the archive, the kernels
// to support, the BPF objects, the signing key and the bundle's name,
// version and validity. Relative paths in the file are relative to the
// file's directory; every setting can be overridden on the command line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "btfpack/archive_index.h"
#include "btfpack/result.h"

namespace btfpack::cli {

struct BuildConfig {
  // Where the kernels come from: fetched from `archive_url` (http(s),
  // file:// or a local directory) into `mirror`, or a local mirror
  // `archive_dir` used as is.
  std::string archive_url;
  std::string listing;          // listing URL or file for the fetch
  std::filesystem::path mirror; // default ".btfpack/mirror"
  std::filesystem::path archive_dir;
  Filter select;
  std::vector<std::string> objects; // paths or glob patterns
  std::vector<std::filesystem::path> custom_kernels;
  // Signing: a key file, else the environment variable `key_env` holding
  // the secret key's text (CI secret stores) or a path to it.
  std::filesystem::path key_file;
  std::string key_env = "BTFPACK_SECRET_KEY";
  std::string name = "btfpack";
  std::uint64_t version = 0;   // 0: the creation time
  std::int64_t valid_days = 0; // 0: never expires
  std::filesystem::path bundle;
  // supplement_of: a base bundle; the build then writes a supplement of it
  // (docs/bundle-format.md "Supplements").
  std::filesystem::path supplement_of;
  std::filesystem::path report;
  std::filesystem::path out; // btfhub custom-archive layout (and shard out)
  std::filesystem::path cache_dir;
  std::string shard; // "K/N"; with N > 1 the run stops after gen
  unsigned jobs = 0;
  unsigned fetch_jobs = 8;
  bool allow_failures = false;
};

// parse_build_config reads the JSON text; `base` resolves relative paths.
// Unknown keys are errors (they are typos more often than not).
Result<BuildConfig> parse_build_config(std::string_view text,
                                       const std::string &name,
                                       const std::filesystem::path &base);
Result<BuildConfig> read_build_config(const std::filesystem::path &path);

// expand_objects resolves glob patterns (sorted); a pattern matching
// nothing is Errc::not_found.
Result<std::vector<std::filesystem::path>>
expand_objects(const std::vector<std::string> &patterns);

} // namespace btfpack::cli
