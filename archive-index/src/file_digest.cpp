// SPDX-License-Identifier: Apache-2.0
#include "file_digest.h"

#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

#include "btfpack/archive_index.h"
#include "btfpack/digest.h"
#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

namespace btfpack::detail {

namespace {

std::int64_t ns_of(const struct timespec &ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Result<std::string> finish_named(Digest &d, const std::filesystem::path &path) {
  auto h = d.finish_hex();
  if (!h)
    return make_error(h.error().code,
                      "hash " + path.string() + ": " + h.error().message);
  return std::move(*h);
}

} // namespace

Result<FileDigest> digest_file(const std::filesystem::path &path,
                               bool want_sha256, bool want_git_blob,
                               std::vector<unsigned char> &buf,
                               GitObjectFormat git_format) {
  BTFPACK_TRY(fd, open_regular_file(path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(Errc::io,
                      "stat " + path.string() + ": " + errno_message(errno));
  FileDigest d;
  d.size = static_cast<std::uint64_t>(st.st_size);
  d.mtime_ns = ns_of(st.st_mtim);
  d.ctime_ns = ns_of(st.st_ctim);
  d.inode = static_cast<std::uint64_t>(st.st_ino);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  std::optional<Digest> s256, blob;
  if (want_sha256)
    s256.emplace(DigestAlgo::sha256);
  if (want_git_blob)
    blob.emplace(git_blob_digest(d.size, git_format));
  if (buf.size() < (256u << 10))
    buf.resize(256u << 10);
  BTFPACK_TRY(total, read_chunks(fd.get(), path, buf, UINT64_MAX,
                                 [&](const std::uint8_t *p, std::size_t n) {
                                   if (s256)
                                     s256->update(p, n);
                                   if (blob)
                                     blob->update(p, n);
                                 }));
  if (total != d.size)
    return make_error(Errc::corrupt,
                      path.string() + ": file changed while being hashed (" +
                          std::to_string(d.size) + " bytes at open, " +
                          std::to_string(total) + " read): re-run the scan");
  if (s256) {
    BTFPACK_TRY(h, finish_named(*s256, path));
    d.sha256 = std::move(h);
  }
  if (blob) {
    BTFPACK_TRY(h, finish_named(*blob, path));
    d.git_blob = std::move(h);
  }
  return d;
}

} // namespace btfpack::detail

namespace btfpack {

Result<std::string> git_blob_id_file(const std::filesystem::path &path,
                                     GitObjectFormat format) {
  std::vector<unsigned char> buf;
  BTFPACK_TRY(d, detail::digest_file(path, false, true, buf, format));
  return std::move(d.git_blob);
}

} // namespace btfpack
