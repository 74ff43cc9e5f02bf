// SPDX-License-Identifier: Apache-2.0
#include "btfpack/sha256.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

namespace btfpack {

namespace {
Sha256 as_sha256(const std::vector<std::uint8_t> &bytes) {
  Sha256 out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Sha256 to_sha256(Result<std::vector<std::uint8_t>> d) {
  if (!d)
    throw std::runtime_error(d.error().message); // a broken OpenSSL: a bug
  return as_sha256(*d);
}
} // namespace

Sha256 Sha256Stream::finish() {
  return to_sha256(d_.finish());
}

Sha256 sha256(std::span<const std::uint8_t> data) {
  return to_sha256(digest_of(DigestAlgo::sha256, data));
}

Sha256 sha256(std::string_view data) {
  return sha256(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t *>(data.data()), data.size()));
}

Result<Sha256> sha256_file(const std::filesystem::path &path) {
  BTFPACK_TRY(fd, open_regular_file(path));
  Digest d(DigestAlgo::sha256);
  std::vector<std::uint8_t> buf(1 << 20);
  BTFPACK_CHECK(read_chunks(
      fd.get(), path, buf, UINT64_MAX,
      [&](const std::uint8_t *p, std::size_t n) { d.update(p, n); }));
  BTFPACK_TRY(bytes, d.finish());
  return as_sha256(bytes);
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

Result<Sha256> parse_sha256_hex(std::string_view hex) {
  if (hex.size() != 64)
    return make_error(Errc::corrupt, "sha256 must be 64 hex digits, got " +
                                         std::to_string(hex.size()));
  Sha256 out{};
  for (std::size_t i = 0; i < 32; i++) {
    int v = 0;
    for (int k = 0; k < 2; k++) {
      char c = hex[2 * i + k];
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return make_error(Errc::corrupt, "bad hex digit in sha256");
      v = v * 16 + d;
    }
    out[i] = static_cast<std::uint8_t>(v);
  }
  return out;
}

} // namespace btfpack
