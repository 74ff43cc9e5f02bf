// SPDX-License-Identifier: Apache-2.0
#include "file_digest.h"

#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfpack/archive_index.h"
#include "btfpack/c_free.h"
#include "btfpack/file_util.h"
#include "btfpack/sha256.h"
#include "btfpack/unique_fd.h"

namespace btfpack::detail {

namespace {

using MdCtxPtr = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;

Result<MdCtxPtr> new_md(const EVP_MD *md, const std::filesystem::path &path) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    return make_error(Errc::internal,
                      "hash " + path.string() + ": digest init failed");
  return ctx;
}

Result<std::string> finish_md(EVP_MD_CTX *ctx,
                              const std::filesystem::path &path) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx, out, &n) != 1)
    return make_error(Errc::internal,
                      "hash " + path.string() + ": digest final failed");
  return to_hex(std::span<const std::uint8_t>(out, n));
}

} // namespace

Result<FileDigest> digest_file(const std::filesystem::path &path,
                               bool want_sha256, bool want_git_blob,
                               std::vector<unsigned char> &buf) {
  BTFPACK_TRY(fd, open_regular_file(path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(Errc::io,
                      "stat " + path.string() + ": " + errno_message(errno));
  FileDigest d;
  d.size = static_cast<std::uint64_t>(st.st_size);
  d.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
               st.st_mtim.tv_nsec;
  d.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 +
               st.st_ctim.tv_nsec;
  d.inode = static_cast<std::uint64_t>(st.st_ino);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  MdCtxPtr s256, s1;
  if (want_sha256) {
    BTFPACK_TRY(c, new_md(EVP_sha256(), path));
    s256 = std::move(c);
  }
  if (want_git_blob) {
    BTFPACK_TRY(c, new_md(EVP_sha1(), path));
    s1 = std::move(c);
    std::string hdr = "blob " + std::to_string(d.size);
    EVP_DigestUpdate(s1.get(), hdr.data(), hdr.size() + 1); // with the NUL
  }
  if (buf.size() < (256u << 10))
    buf.resize(256u << 10);
  std::uint64_t total = 0;
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
    auto len = static_cast<std::size_t>(n);
    if (s256 && EVP_DigestUpdate(s256.get(), buf.data(), len) != 1)
      return make_error(Errc::internal,
                        "hash " + path.string() + ": digest update failed");
    if (s1 && EVP_DigestUpdate(s1.get(), buf.data(), len) != 1)
      return make_error(Errc::internal,
                        "hash " + path.string() + ": digest update failed");
    total += len;
  }
  if (total != d.size)
    return make_error(Errc::corrupt,
                      path.string() + ": file changed while being hashed (" +
                          std::to_string(d.size) + " bytes at open, " +
                          std::to_string(total) + " read): re-run the scan");
  if (s256) {
    BTFPACK_TRY(h, finish_md(s256.get(), path));
    d.sha256 = std::move(h);
  }
  if (s1) {
    BTFPACK_TRY(h, finish_md(s1.get(), path));
    d.git_blob = std::move(h);
  }
  return d;
}

} // namespace btfpack::detail

namespace btfpack {

Result<std::string> git_blob_id_file(const std::filesystem::path &path) {
  std::vector<unsigned char> buf;
  BTFPACK_TRY(d, detail::digest_file(path, false, true, buf));
  return std::move(d.git_blob);
}

} // namespace btfpack
