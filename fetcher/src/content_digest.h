// SPDX-License-Identifier: Apache-2.0
//
// ContentDigest hashes a file's bytes as they stream in, computing both the
// git blob id (what a git tree listing records) and the sha256 (what the
// index records), so a downloaded file is verified without reading it again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "btfpack/digest.h"
#include "btfpack/result.h"

namespace btfpack::fetch {

class ContentDigest {
public:
  // expected_size goes into the git blob header ("blob <size>\0"); a file of
  // another size gets a git id that cannot match, which is the point.
  // git_sha256 selects the object format of SHA-256 repositories (64-digit
  // blob ids) instead of SHA-1.
  explicit ContentDigest(std::uint64_t expected_size, bool git_sha256 = false);

  void update(const void *data, std::size_t len);
  std::uint64_t bytes() const { return bytes_; }
  // finish returns {git_blob_hex, sha256_hex}; the object is spent after it.
  // An OpenSSL failure leaves both empty and says why in `error`, which
  // check_digest reports, so a file is never taken as verified by mistake.
  struct Hex {
    std::string git_blob, sha256, error;
  };
  Hex finish();

  // feed_file hashes the first `len` bytes of `path` (resuming a partial).
  Result<void> feed_file(const std::filesystem::path &path, std::uint64_t len);

private:
  Digest git_;
  Digest sha256_{DigestAlgo::sha256};
  std::uint64_t bytes_ = 0;
};

// digest_file hashes a whole file with ContentDigest.
Result<ContentDigest::Hex> digest_file(const std::filesystem::path &path,
                                       std::uint64_t expected_size,
                                       bool git_sha256 = false);

// is_git_sha256 tells whether a git blob id is from a SHA-256 repository.
inline bool is_git_sha256(const std::string &git_blob) {
  return git_object_format_of(git_blob) == GitObjectFormat::sha256;
}

// check_digest compares a hash against an entry's recorded digests (sha256
// preferred, else git blob). Returns an empty string when it matches, else
// the reason ("git blob id 1a2b... expected 3c4d..."); an entry with no
// digest at all is refused, since it could not be verified.
std::string check_digest(const ContentDigest::Hex &got,
                         const std::string &want_sha256,
                         const std::string &want_git_blob);

} // namespace btfpack::fetch
