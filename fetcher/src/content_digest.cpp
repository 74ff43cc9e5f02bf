// SPDX-License-Identifier: Apache-2.0
#include "content_digest.h"

#include <cerrno>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

namespace btfpack::fetch {

namespace {
EVP_MD_CTX *ctx_of(void *p) {
  return static_cast<EVP_MD_CTX *>(p);
}
} // namespace

ContentDigest::ContentDigest(std::uint64_t expected_size, bool git_sha256)
    : git_ctx_(EVP_MD_CTX_new()) {
  if (!git_ctx_ ||
      EVP_DigestInit_ex(ctx_of(git_ctx_),
                        git_sha256 ? EVP_sha256() : EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("openssl: cannot initialise the git digest");
  std::string header = "blob " + std::to_string(expected_size);
  header.push_back('\0');
  EVP_DigestUpdate(ctx_of(git_ctx_), header.data(), header.size());
}

ContentDigest::~ContentDigest() {
  EVP_MD_CTX_free(ctx_of(git_ctx_));
}

void ContentDigest::update(const void *data, std::size_t len) {
  EVP_DigestUpdate(ctx_of(git_ctx_), data, len);
  sha256_.update(data, len);
  bytes_ += len;
}

ContentDigest::Hex ContentDigest::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_DigestFinal_ex(ctx_of(git_ctx_), md, &md_len);
  Hex h;
  h.git_blob = to_hex(std::span<const std::uint8_t>(md, md_len));
  h.sha256 = to_hex(sha256_.finish());
  return h;
}

Result<void> ContentDigest::feed_file(const std::filesystem::path &path,
                                      std::uint64_t len) {
  BTFPACK_TRY(fd, open_regular_file(path));
  std::vector<char> buf(1 << 18);
  while (len > 0) {
    std::size_t want =
        len < buf.size() ? static_cast<std::size_t>(len) : buf.size();
    ssize_t n = ::read(fd.get(), buf.data(), want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return make_error(Errc::io,
                        "read " + path.string() + ": " + errno_message(errno));
    if (n == 0)
      return make_error(Errc::io, "read " + path.string() +
                                      ": file shorter than expected");
    update(buf.data(), static_cast<std::size_t>(n));
    len -= static_cast<std::uint64_t>(n);
  }
  return ok();
}

Result<ContentDigest::Hex> digest_file(const std::filesystem::path &path,
                                       std::uint64_t expected_size,
                                       bool git_sha256) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec)
    return make_error(Errc::io, "stat " + path.string() + ": " + ec.message());
  ContentDigest d(expected_size, git_sha256);
  BTFPACK_CHECK(d.feed_file(path, size));
  return d.finish();
}

std::string check_digest(const ContentDigest::Hex &got,
                         const std::string &want_sha256,
                         const std::string &want_git_blob) {
  if (!want_sha256.empty())
    return got.sha256 == want_sha256
               ? std::string()
               : "sha256 " + got.sha256 + " differs from the listing's " +
                     want_sha256;
  if (!want_git_blob.empty())
    return got.git_blob == want_git_blob
               ? std::string()
               : "git blob id " + got.git_blob +
                     " differs from the listing's " + want_git_blob;
  return "the listing gives no digest for this file, so it cannot be verified";
}

} // namespace btfpack::fetch
