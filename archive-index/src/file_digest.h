// SPDX-License-Identifier: Apache-2.0
//
// Hashing one archive file in a single pass: its sha256 and, on request, its
// git blob id (what a remote git tree listing gives), plus the size and
// mtime seen on the open file so a file changing under the scan is noticed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "btfpack/digest.h"
#include "btfpack/result.h"

namespace btfpack::detail {

struct FileDigest {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t inode = 0;
  std::string sha256;   // lowercase hex, empty if not asked for
  std::string git_blob; // lowercase hex, empty if not asked for
};

// digest_file reads path once; buf is the caller's read buffer (reused
// across files by a worker). Fails with Errc::io, or Errc::corrupt when the
// file changed size while being read.
Result<FileDigest>
digest_file(const std::filesystem::path &path, bool want_sha256,
            bool want_git_blob, std::vector<unsigned char> &buf,
            GitObjectFormat git_format = GitObjectFormat::sha1);

} // namespace btfpack::detail
