// SPDX-License-Identifier: Apache-2.0
#include "btfpack/digest.h"

#include <array>
#include <mutex>
#include <openssl/evp.h>
#include <utility>

#include "btfpack/sha256.h"

namespace btfpack {

namespace {

EVP_MD_CTX *ctx_of(void *p) {
  return static_cast<EVP_MD_CTX *>(p);
}

// The algorithms in DigestAlgo's order: OpenSSL's name and the size.
struct AlgoInfo {
  const char *name;
  std::size_t size;
};
constexpr std::array<AlgoInfo, 3> ALGOS = {
    {{"SHA2-256", 32}, {"SHA1", 20}, {"BLAKE2B-512", 64}}};

const AlgoInfo &info(DigestAlgo algo) {
  return ALGOS.at(static_cast<std::size_t>(algo));
}

// fetched returns the process-wide EVP_MD of an algorithm, fetched on its
// first use only (one std::call_once per algorithm, so a verify that needs
// SHA-256 and BLAKE2b-512 never fetches SHA-1); nullptr if the provider
// lacks it.
const EVP_MD *fetched(DigestAlgo algo) {
  static std::array<std::once_flag, ALGOS.size()> once;
  static std::array<const EVP_MD *, ALGOS.size()> md{};
  std::size_t i = static_cast<std::size_t>(algo);
  std::call_once(once.at(i), [&] {
    md[i] = EVP_MD_fetch(nullptr, info(algo).name, nullptr);
  });
  return md[i];
}

} // namespace

std::size_t digest_size(DigestAlgo algo) {
  return info(algo).size;
}

const char *digest_name(DigestAlgo algo) {
  return info(algo).name;
}

Digest::Digest(DigestAlgo algo) : algo_(algo), ctx_(EVP_MD_CTX_new()) {
  const EVP_MD *md = fetched(algo);
  if (!ctx_)
    failed_ = "EVP_MD_CTX_new";
  else if (!md)
    failed_ = "EVP_MD_fetch";
  else if (EVP_DigestInit_ex(ctx_of(ctx_), md, nullptr) != 1)
    failed_ = "EVP_DigestInit_ex";
}

Digest::~Digest() {
  EVP_MD_CTX_free(ctx_of(ctx_));
}

Digest::Digest(Digest &&other) noexcept
    : algo_(other.algo_), ctx_(std::exchange(other.ctx_, nullptr)),
      failed_(std::exchange(other.failed_, "moved from")) {}

Digest &Digest::operator=(Digest &&other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_of(ctx_));
    algo_ = other.algo_;
    ctx_ = std::exchange(other.ctx_, nullptr);
    failed_ = std::exchange(other.failed_, "moved from");
  }
  return *this;
}

void Digest::update(const void *data, std::size_t len) {
  if (failed_)
    return;
  if (EVP_DigestUpdate(ctx_of(ctx_), data, len) != 1)
    failed_ = "EVP_DigestUpdate";
}

Result<std::vector<std::uint8_t>> Digest::finish() {
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (!failed_ && (EVP_DigestFinal_ex(ctx_of(ctx_), out.data(), &n) != 1 ||
                   n != digest_size(algo_)))
    failed_ = "EVP_DigestFinal_ex";
  if (failed_)
    return make_error(Errc::internal, std::string(digest_name(algo_)) +
                                          " digest: " + failed_ +
                                          " failed in OpenSSL");
  failed_ = "finished";
  out.resize(n);
  return out;
}

Result<std::string> Digest::finish_hex() {
  BTFPACK_TRY(d, finish());
  return to_hex(d);
}

Result<std::vector<std::uint8_t>>
digest_of(DigestAlgo algo, std::span<const std::uint8_t> data) {
  Digest d(algo);
  d.update(data.data(), data.size());
  return d.finish();
}

Digest git_blob_digest(std::uint64_t size, GitObjectFormat format) {
  Digest d(format == GitObjectFormat::sha256 ? DigestAlgo::sha256
                                             : DigestAlgo::sha1);
  std::string header = "blob " + std::to_string(size);
  d.update(header.data(), header.size() + 1); // with the NUL
  return d;
}

Result<std::string> git_blob_id(std::span<const std::uint8_t> data,
                                GitObjectFormat format) {
  Digest d = git_blob_digest(data.size(), format);
  d.update(data.data(), data.size());
  return d.finish_hex();
}

} // namespace btfpack
