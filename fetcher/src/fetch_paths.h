// SPDX-License-Identifier: Apache-2.0
//
// Path rules of the mirror: which listing paths are safe to create under the
// mirror directory, and where partial files live while they download.
#pragma once

#include <filesystem>
#include <string>
#include <sys/stat.h>

namespace btfpack::fetch {

// PARTIAL_DIR holds downloads in progress, flat (one directory, no tree to
// create and remove): DIR/.partial/<path with / as %2F>.part.
inline constexpr const char *PARTIAL_DIR = ".partial";
// LOCK_NAME is the lock file that keeps two fetches out of one mirror.
inline constexpr const char *LOCK_NAME = ".fetch.lock";
inline constexpr const char *INDEX_NAME = "index.json";

// unsafe_path_reason returns why a listing path must not be written under
// the mirror ("absolute path", "'..' component", ...), or "" when it is a
// plain relative path.
std::string unsafe_path_reason(const std::string &rel_path);

// partial_name is the file name of a path's partial download in
// PARTIAL_DIR: '%' becomes "%25" and '/' "%2F"; names too long for the file
// system become "h-<sha256 of the path>.part".
std::string partial_name(const std::string &rel_path);

// local_source_dir turns a local path or file:// URL into a directory path.
std::filesystem::path local_source_dir(const std::string &from);

// mtime_ns is a stat's modification time in nanoseconds (as the index keeps).
inline std::int64_t mtime_ns(const struct stat &st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
         st.st_mtim.tv_nsec;
}
// ctime_ns is a stat's status-change time in nanoseconds.
inline std::int64_t ctime_ns(const struct stat &st) {
  return static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 +
         st.st_ctim.tv_nsec;
}

} // namespace btfpack::fetch
