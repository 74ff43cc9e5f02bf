// SPDX-License-Identifier: Apache-2.0
#include "btfpack/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

namespace btfpack {

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX *>(ctx_), EVP_sha256(),
                                 nullptr) != 1)
    throw std::runtime_error("EVP sha256 init failed"); // out of memory: a bug
}

Sha256Stream::~Sha256Stream() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(ctx_));
}

void Sha256Stream::update(const void *data, std::size_t len) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX *>(ctx_), data, len) != 1)
    throw std::runtime_error("EVP sha256 update failed");
}

Sha256 Sha256Stream::finish() {
  Sha256 out{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX *>(ctx_), out.data(), &n) !=
          1 ||
      n != out.size())
    throw std::runtime_error("EVP sha256 final failed");
  return out;
}

Sha256 sha256(std::span<const std::uint8_t> data) {
  Sha256 out{};
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(),
                 nullptr) != 1)
    throw std::runtime_error("EVP sha256 failed");
  return out;
}

Sha256 sha256(std::string_view data) {
  return sha256(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t *>(data.data()), data.size()));
}

Result<Sha256> sha256_file(const std::filesystem::path &path) {
  BTFPACK_TRY(fd, open_regular_file(path));
  Sha256Stream h;
  std::vector<std::uint8_t> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return make_error(Errc::io,
                        "read " + path.string() + ": " + errno_message(errno));
    }
    if (n == 0)
      break;
    h.update(buf.data(), static_cast<std::size_t>(n));
  }
  return h.finish();
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
