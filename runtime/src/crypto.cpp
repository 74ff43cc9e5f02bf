// SPDX-License-Identifier: Apache-2.0
#include "crypto.h"

#include <algorithm>
#include <cstring>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "btfpack/c_free.h"

namespace btfpack::detail {

namespace {
using MdCtxPtr = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using PkeyPtr = CHandle<EVP_PKEY, EVP_PKEY_free>;

const std::uint64_t BLAKE2B_IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

const std::uint8_t BLAKE2B_SIGMA[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

std::uint64_t rotr64(std::uint64_t x, unsigned n) {
  return (x >> n) | (x << (64 - n));
}

std::uint64_t load64le(const std::uint8_t *p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

void blake2b_compress(std::uint64_t h[8], const std::uint8_t block[128],
                      std::uint64_t t, bool last) {
  std::uint64_t v[16], m[16];
  for (int i = 0; i < 16; i++)
    m[i] = load64le(block + 8 * i);
  for (int i = 0; i < 8; i++) {
    v[i] = h[i];
    v[i + 8] = BLAKE2B_IV[i];
  }
  v[12] ^= t; // messages here stay far below 2^64 bytes
  if (last)
    v[14] = ~v[14];
  auto g = [&](int a, int b, int c, int d, std::uint64_t x, std::uint64_t y) {
    v[a] = v[a] + v[b] + x;
    v[d] = rotr64(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = rotr64(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = rotr64(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = rotr64(v[b] ^ v[c], 63);
  };
  for (const auto &s : BLAKE2B_SIGMA) {
    g(0, 4, 8, 12, m[s[0]], m[s[1]]);
    g(1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(2, 6, 10, 14, m[s[4]], m[s[5]]);
    g(3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(0, 5, 10, 15, m[s[8]], m[s[9]]);
    g(1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(2, 7, 8, 13, m[s[12]], m[s[13]]);
    g(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; i++)
    h[i] ^= v[i] ^ v[i + 8];
}

PkeyPtr pkey_from_seed(const Ed25519Seed &seed) {
  return PkeyPtr(EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr,
                                                 seed.data(), seed.size()));
}

} // namespace

Blake2bStream::Blake2bStream(std::size_t out_len) : out_len_(out_len) {
  for (int i = 0; i < 8; i++)
    h_[i] = BLAKE2B_IV[i];
  h_[0] ^= 0x01010000ULL ^ out_len; // parameter block: no key, fanout=depth=1
}

void Blake2bStream::update(const void *data, std::size_t len) {
  const auto *p = static_cast<const std::uint8_t *>(data);
  // Every block but the last is compressed once more input follows it; the
  // last one (even when full, or empty for an empty message) is compressed
  // by finish() with the final flag.
  while (len > 0) {
    if (len_ == sizeof buf_) {
      t_ += sizeof buf_;
      blake2b_compress(h_, buf_, t_, false);
      len_ = 0;
    }
    if (len_ == 0) {
      while (len > sizeof buf_) { // whole blocks straight from the input
        t_ += sizeof buf_;
        blake2b_compress(h_, p, t_, false);
        p += sizeof buf_;
        len -= sizeof buf_;
      }
    }
    std::size_t n = std::min(len, sizeof buf_ - len_);
    std::memcpy(buf_ + len_, p, n);
    len_ += n;
    p += n;
    len -= n;
  }
}

void Blake2bStream::finish(std::uint8_t *out) {
  std::memset(buf_ + len_, 0, sizeof buf_ - len_);
  t_ += len_;
  blake2b_compress(h_, buf_, t_, true);
  for (std::size_t i = 0; i < out_len_; i++)
    out[i] = static_cast<std::uint8_t>(h_[i / 8] >> (8 * (i % 8)));
}

Blake2b512 blake2b512(std::span<const std::uint8_t> data) {
  Blake2b512Stream s;
  s.update(data.data(), data.size());
  return s.finish();
}

std::vector<std::uint8_t> blake2b(std::span<const std::uint8_t> data,
                                  std::size_t out_len) {
  Blake2bStream s(out_len);
  s.update(data.data(), data.size());
  std::vector<std::uint8_t> out(out_len);
  s.finish(out.data());
  return out;
}

Result<Ed25519Pk> ed25519_public_from_seed(const Ed25519Seed &seed) {
  auto key = pkey_from_seed(seed);
  Ed25519Pk pk{};
  std::size_t len = pk.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), pk.data(), &len) != 1 ||
      len != pk.size())
    return make_error(Errc::internal, "openssl: cannot derive an ed25519 "
                                      "public key");
  return pk;
}

Result<Ed25519Sig> ed25519_sign(const Ed25519Seed &seed,
                                std::span<const std::uint8_t> msg) {
  auto key = pkey_from_seed(seed);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  Ed25519Sig sig{};
  std::size_t len = sig.size();
  if (!key || !ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                            key.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()) !=
          1 ||
      len != sig.size())
    return make_error(Errc::internal, "openssl: ed25519 signing failed");
  return sig;
}

bool ed25519_verify(const Ed25519Pk &pk, std::span<const std::uint8_t> msg,
                    const Ed25519Sig &sig) {
  // The _ex forms name the algorithm for the provider directly, skipping
  // the legacy ENGINE table look-ups (a sixth of a resolve: issue 14).
  PkeyPtr key(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr,
                                             pk.data(), pk.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!key || !ctx ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                              key.get(), nullptr) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(),
                          msg.size()) == 1;
}

Result<void> random_bytes(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
    return make_error(Errc::internal, "openssl: no random bytes available");
  return ok();
}

std::string base64_encode(std::span<const std::uint8_t> data) {
  std::string out((data.size() + 2) / 3 * 4 + 1, '\0'); // + EVP's NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                          data.data(), static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

// base64_decode takes only the canonical form: padded to a multiple of 4,
// no blanks, unused bits zero. EVP_DecodeBlock decodes; it skips blanks at
// either end and counts the padding as bytes, so the result is trimmed by
// the padding and must encode back to exactly `text`.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > (1u << 30))
    return std::nullopt;
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(),
                          reinterpret_cast<const unsigned char *>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0)
    return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=')
    pad++;
  if (static_cast<std::size_t>(n) < pad)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  if (base64_encode(out) != text)
    return std::nullopt;
  return out;
}

} // namespace btfpack::detail
