// SPDX-License-Identifier: Apache-2.0
#include "content_digest.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

namespace btfpack::fetch {

ContentDigest::ContentDigest(std::uint64_t expected_size, bool git_sha256)
    : git_(git_blob_digest(expected_size, git_sha256 ? GitObjectFormat::sha256
                                                     : GitObjectFormat::sha1)) {
}

void ContentDigest::update(const void *data, std::size_t len) {
  git_.update(data, len);
  sha256_.update(data, len);
  bytes_ += len;
}

ContentDigest::Hex ContentDigest::finish() {
  Hex h;
  auto git = git_.finish_hex();
  auto sha = sha256_.finish_hex();
  if (git && sha) {
    h.git_blob = std::move(*git);
    h.sha256 = std::move(*sha);
  } else {
    h.error = (git ? sha : git).error().message;
  }
  return h;
}

Result<void> ContentDigest::feed_file(const std::filesystem::path &path,
                                      std::uint64_t len) {
  BTFPACK_TRY(fd, open_regular_file(path));
  std::vector<std::uint8_t> buf(1 << 18);
  BTFPACK_TRY(got, read_chunks(fd.get(), path, buf, len,
                               [&](const std::uint8_t *p, std::size_t n) {
                                 update(p, n);
                               }));
  if (got != len)
    return make_error(Errc::io,
                      "read " + path.string() + ": file shorter than expected");
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
  if (!got.error.empty())
    return got.error;
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
