// SPDX-License-Identifier: Apache-2.0
#include "btfpack/file_util.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfpack/unique_fd.h"

namespace btfpack {

std::string errno_message(int err) {
  return std::strerror(err);
}

std::string file_type_name(unsigned mode) {
  switch (mode & S_IFMT) {
  case S_IFREG:
    return "a regular file";
  case S_IFDIR:
    return "a directory";
  case S_IFIFO:
    return "a FIFO";
  case S_IFCHR:
    return "a character device";
  case S_IFBLK:
    return "a block device";
  case S_IFSOCK:
    return "a socket";
  case S_IFLNK:
    return "a symbolic link";
  default:
    return "not a regular file";
  }
}

Result<UniqueFd> open_regular_file(const std::filesystem::path &path,
                                   Symlinks links) {
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  if (links == Symlinks::refuse)
    flags |= O_NOFOLLOW;
  UniqueFd fd(::open(path.c_str(), flags));
  if (!fd) {
    int err = errno;
    if (err == ENOENT)
      return make_error(Errc::not_found,
                        "open " + path.string() + ": " + errno_message(err));
    if (err == ELOOP && links == Symlinks::refuse)
      return make_error(Errc::invalid_argument,
                        "open " + path.string() +
                            ": is a symbolic link, refused here (" +
                            errno_message(err) + ")");
    return make_error(Errc::io,
                      "open " + path.string() + ": " + errno_message(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(Errc::io,
                      "stat " + path.string() + ": " + errno_message(errno));
  if (!S_ISREG(st.st_mode))
    return make_error(Errc::invalid_argument,
                      path.string() + " is " + file_type_name(st.st_mode) +
                          ", not a regular file; give a regular file");
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0)
    return make_error(Errc::io,
                      "fcntl " + path.string() + ": " + errno_message(errno));
  return fd;
}

namespace {
Result<void> read_all(int fd, const std::filesystem::path &path,
                      std::uint64_t max_bytes, std::string &out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(Errc::io,
                      "stat " + path.string() + ": " + errno_message(errno));
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    return make_error(Errc::corrupt, path.string() + ": file is " +
                                         std::to_string(st.st_size) +
                                         " bytes, limit is " +
                                         std::to_string(max_bytes));
  out.clear();
  out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return make_error(Errc::io,
                        "read " + path.string() + ": " + errno_message(errno));
    }
    if (n == 0)
      break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes)
      return make_error(Errc::corrupt, path.string() + ": larger than " +
                                           std::to_string(max_bytes) +
                                           " bytes");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return ok();
}
} // namespace

Result<std::string> read_text_file(const std::filesystem::path &path,
                                   std::uint64_t max_bytes, Symlinks links) {
  BTFPACK_TRY(fd, open_regular_file(path, links));
  std::string s;
  BTFPACK_CHECK(read_all(fd.get(), path, max_bytes, s));
  return s;
}

Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path &path,
                                            std::uint64_t max_bytes,
                                            Symlinks links) {
  BTFPACK_TRY(s, read_text_file(path, max_bytes, links));
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::span<const std::uint8_t> data,
                               unsigned mode) {
  auto dir = path.parent_path();
  if (dir.empty())
    dir = ".";
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX"));
  UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd)
    return make_error(Errc::io,
                      "write " + path.string() + ": " + errno_message(errno));
  auto fail = [&](const std::string &what) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return make_error(Errc::io,
                      what + " " + path.string() + ": " + errno_message(err));
  };
  const std::uint8_t *p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail("write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), mode) != 0)
    return fail("chmod");
  if (::fsync(fd.get()) != 0)
    return fail("fsync");
  fd.reset();
  if (::rename(tmpl.c_str(), path.c_str()) != 0)
    return fail("rename into");
  // Make the rename itself durable.
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd)
    ::fsync(dfd.get());
  return ok();
}

Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::string_view data, unsigned mode) {
  return write_file_atomic(
      path,
      std::span<const std::uint8_t>(
          reinterpret_cast<const std::uint8_t *>(data.data()), data.size()),
      mode);
}

} // namespace btfpack
