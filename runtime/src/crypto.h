// SPDX-License-Identifier: Apache-2.0
//
// Private crypto helpers for keys, signatures and the bundle: Ed25519
// through OpenSSL 3; the 512-bit BLAKE2b prehash of minisign's "ED"
// signatures through Digest (EVP); BLAKE2b (RFC 7693) of our own only for
// the 256-bit secret key checksum (OpenSSL 3.0 has no unkeyed 256-bit
// BLAKE2b); strict base64 and random bytes.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/digest.h"
#include "btfpack/result.h"

namespace btfpack::detail {

using Blake2b512 = std::array<std::uint8_t, 64>;
using Ed25519Sig = std::array<std::uint8_t, 64>;
using Ed25519Pk = std::array<std::uint8_t, 32>;
using Ed25519Seed = std::array<std::uint8_t, 32>;

// Blake2bStream hashes a message fed in pieces with unkeyed BLAKE2b of
// out_len bytes (1..64).
class Blake2bStream {
public:
  explicit Blake2bStream(std::size_t out_len);
  void update(const void *data, std::size_t len);
  // finish writes out_len bytes; call it once.
  void finish(std::uint8_t *out);

private:
  std::uint64_t h_[8];
  std::uint64_t t_ = 0; // bytes compressed so far
  std::uint8_t buf_[128];
  std::size_t len_ = 0; // bytes in buf_
  std::size_t out_len_;
};

// Blake2b512Stream hashes a message fed in pieces (minisign's "ED" prehash)
// with the one Digest (btfpack/digest.h; the EVP algorithm is fetched once
// per process, which is what made EVP's BLAKE2b-512 dear in issue 14). An
// OpenSSL failure gives all zeros, against which no signature verifies.
class Blake2b512Stream {
public:
  void update(const void *data, std::size_t len) { d_.update(data, len); }
  Blake2b512 finish() {
    Blake2b512 out{};
    if (auto d = d_.finish(); d && d->size() == out.size())
      std::copy(d->begin(), d->end(), out.begin());
    return out;
  }

private:
  Digest d_{DigestAlgo::blake2b512};
};

Blake2b512 blake2b512(std::span<const std::uint8_t> data);

// blake2b computes unkeyed BLAKE2b (RFC 7693) with an output of out_len
// bytes (1..64); used for the 32-byte secret key checksum.
std::vector<std::uint8_t> blake2b(std::span<const std::uint8_t> data,
                                  std::size_t out_len);

Result<Ed25519Pk> ed25519_public_from_seed(const Ed25519Seed &seed);
Result<Ed25519Sig> ed25519_sign(const Ed25519Seed &seed,
                                std::span<const std::uint8_t> msg);
bool ed25519_verify(const Ed25519Pk &pk, std::span<const std::uint8_t> msg,
                    const Ed25519Sig &sig);

Result<void> random_bytes(std::span<std::uint8_t> out);

std::string base64_encode(std::span<const std::uint8_t> data);
// base64_decode accepts only canonical standard base64 with padding (no
// whitespace, zero unused bits), so that every accepted text has exactly one
// byte string and every byte of it matters.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

} // namespace btfpack::detail
