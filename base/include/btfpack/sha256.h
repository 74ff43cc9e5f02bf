// SPDX-License-Identifier: Apache-2.0
//
// SHA-256 digests as raw bytes and lowercase hex, for content addressing and
// for checking files against an index or a manifest: thin names over Digest
// (btfpack/digest.h), the one implementation.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "btfpack/digest.h"
#include "btfpack/result.h"

namespace btfpack {

using Sha256 = std::array<std::uint8_t, 32>;

// Sha256Stream hashes data fed in pieces (a Digest of SHA-256); finish
// throws std::runtime_error on an OpenSSL failure, which only a broken
// OpenSSL gives.
class Sha256Stream {
public:
  void update(const void *data, std::size_t len) { d_.update(data, len); }
  Sha256 finish();

private:
  Digest d_{DigestAlgo::sha256};
};

Sha256 sha256(std::span<const std::uint8_t> data);
Sha256 sha256(std::string_view data);
// sha256_file hashes a whole file; errors name the path.
Result<Sha256> sha256_file(const std::filesystem::path &path);

std::string to_hex(std::span<const std::uint8_t> bytes);
inline std::string to_hex(const Sha256 &d) {
  return to_hex(std::span<const std::uint8_t>(d.data(), d.size()));
}
// parse_sha256_hex accepts exactly 64 hex digits (either case).
Result<Sha256> parse_sha256_hex(std::string_view hex);

} // namespace btfpack
