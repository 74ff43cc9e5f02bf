// SPDX-License-Identifier: Apache-2.0
//
// os-release(5) parsing: KEY=VALUE lines with shell-style quoting ("..."
// with backslash escapes, '...' literal, unquoted values as Fedora writes
// VERSION_ID=40), comments and blank lines. Input is untrusted (a container
// may mount anything at /host): the size is bounded and binary content is
// refused rather than guessed at.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/file_util.h"
#include "btfpack/result.h"

namespace btfpack {

// OS_RELEASE_MAX_BYTES bounds an os-release file (real ones are < 1 KiB).
constexpr std::size_t OS_RELEASE_MAX_BYTES = 64 * 1024;

// OsRelease holds the parsed assignments of one os-release file.
struct OsRelease {
  std::map<std::string, std::string> fields;
  // skipped lists lines that were not valid assignments ("line 3: ...").
  std::vector<std::string> skipped;

  // get returns a field's value, or an empty string when it is absent.
  std::string get(std::string_view key) const;
  std::string id() const { return get("ID"); }
  std::string version_id() const { return get("VERSION_ID"); }
  std::string name() const { return get("NAME"); }
  // id_like splits ID_LIKE on whitespace ("rhel centos fedora").
  std::vector<std::string> id_like() const;
};

// parse_os_release parses os-release text; `name` is used in messages.
// Returns Errc::corrupt for text larger than OS_RELEASE_MAX_BYTES or holding
// NUL bytes (binary). Lines that are not assignments are skipped and
// listed, as systemd does; a file without ID parses (ID is then empty).
Result<OsRelease> parse_os_release(std::string_view text,
                                   std::string_view name);

// read_os_release reads and parses one file, bounded in size.
// With Symlinks::refuse the last component must not be a symbolic link (a
// path already resolved inside a host root).
Result<OsRelease> read_os_release(const std::filesystem::path &path,
                                  Symlinks links = Symlinks::follow);

} // namespace btfpack
