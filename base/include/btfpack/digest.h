// SPDX-License-Identifier: Apache-2.0
//
// Digest: the one message digest of btfpack, over OpenSSL EVP. It owns its
// EVP_MD_CTX, checks every EVP return code, and reports a failure once, from
// finish(), so that callers feed data without a check per piece. The
// algorithms are fetched once per process (EVP_MD_fetch), not at every
// init, so a short-lived verify pays for no repeated provider look-ups.
//
// git blob ids are built on it: "blob <size>\0" + content hashed with the
// repository's object format (SHA-1, or SHA-256 for repositories made with
// git init --object-format=sha256).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/result.h"

namespace btfpack {

enum class DigestAlgo { sha256, sha1, blake2b512 };

// digest_size is the output length in bytes (32, 20, 64).
std::size_t digest_size(DigestAlgo algo);
// digest_name is OpenSSL's name for messages ("SHA2-256").
const char *digest_name(DigestAlgo algo);

class Digest {
public:
  explicit Digest(DigestAlgo algo);
  ~Digest();
  Digest(Digest &&other) noexcept;
  Digest &operator=(Digest &&other) noexcept;
  Digest(const Digest &) = delete;
  Digest &operator=(const Digest &) = delete;

  DigestAlgo algo() const { return algo_; }
  // update feeds bytes; an EVP failure is kept and returned by finish.
  void update(const void *data, std::size_t len);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // finish returns the digest (digest_size bytes) or Errc::internal naming
  // the EVP step that failed; the object is spent after it.
  Result<std::vector<std::uint8_t>> finish();
  Result<std::string> finish_hex();

private:
  DigestAlgo algo_;
  void *ctx_ = nullptr; // EVP_MD_CTX, opaque so OpenSSL stays in the .cpp
  const char *failed_ = nullptr; // the EVP step that failed, if any
};

// digest_of hashes one buffer.
Result<std::vector<std::uint8_t>> digest_of(DigestAlgo algo,
                                            std::span<const std::uint8_t> data);

// git object formats; a blob id is 40 hex digits (sha1) or 64 (sha256).
enum class GitObjectFormat { sha1, sha256 };

// git_object_format_of tells the format from an id's length (64: sha256).
inline GitObjectFormat git_object_format_of(std::string_view blob_id) {
  return blob_id.size() == 64 ? GitObjectFormat::sha256 : GitObjectFormat::sha1;
}

// git_blob_digest returns a Digest primed with git's blob header for a blob
// of `size` bytes; feed it the content and finish_hex() is the blob id.
Digest git_blob_digest(std::uint64_t size, GitObjectFormat format);

// git_blob_id of a buffer, as `git hash-object` prints it.
Result<std::string> git_blob_id(std::span<const std::uint8_t> data,
                                GitObjectFormat format);

} // namespace btfpack
