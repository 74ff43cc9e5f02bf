// SPDX-License-Identifier: Apache-2.0
#include "btfpack/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <random>
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

Result<std::uint64_t> read_chunks(int fd, const std::filesystem::path &path,
                                  std::span<std::uint8_t> buf,
                                  std::uint64_t limit, const ChunkSink &sink) {
  std::uint64_t total = 0;
  while (total < limit) {
    std::uint64_t left = limit - total;
    std::size_t want =
        left < buf.size() ? static_cast<std::size_t>(left) : buf.size();
    ssize_t n = ::read(fd, buf.data(), want);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return make_error(Errc::io,
                        "read " + path.string() + ": " + errno_message(errno));
    }
    if (n == 0)
      break;
    sink(buf.data(), static_cast<std::size_t>(n));
    total += static_cast<std::uint64_t>(n);
  }
  return total;
}

namespace {
Result<void> read_all(int fd, const std::filesystem::path &path,
                      std::uint64_t max_bytes, std::string &out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(Errc::io,
                      "stat " + path.string() + ": " + errno_message(errno));
  auto too_big = [&](const std::string &what) {
    return make_error(Errc::corrupt, path.string() + ": " + what);
  };
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    return too_big("file is " + std::to_string(st.st_size) +
                   " bytes, limit is " + std::to_string(max_bytes));
  out.clear();
  out.reserve(static_cast<std::size_t>(st.st_size));
  std::uint8_t buf[65536];
  std::uint64_t limit = max_bytes == UINT64_MAX ? max_bytes : max_bytes + 1;
  BTFPACK_TRY(n, read_chunks(fd, path, buf, limit,
                             [&](const std::uint8_t *p, std::size_t len) {
                               out.append(reinterpret_cast<const char *>(p),
                                          len);
                             }));
  if (n > max_bytes)
    return too_big("larger than " + std::to_string(max_bytes) + " bytes");
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

Result<void> write_fully(int fd, std::span<const std::uint8_t> data,
                         const std::string &what) {
  const std::uint8_t *p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return make_error(Errc::io,
                        "write " + what + ": " + errno_message(errno));
    if (n == 0)
      return make_error(Errc::io, "write " + what + ": no progress");
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return ok();
}

namespace {

std::string temp_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(rng()));
  return buf;
}

// create_temp makes ".<name>.tmp.<random>" in dirfd, retrying a name taken.
Result<UniqueFd> create_temp(int dirfd, const std::string &name,
                             std::string &tmp, const std::string &shown) {
  for (int attempt = 0; attempt < 100; attempt++) {
    tmp = "." + name + ".tmp." + temp_suffix();
    UniqueFd fd(::openat(dirfd, tmp.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0600));
    if (fd)
      return fd;
    if (errno != EEXIST)
      return make_error(Errc::io, "create a temporary file for " + shown +
                                      ": " + errno_message(errno));
  }
  return make_error(Errc::io, "create a temporary file for " + shown +
                                  ": every name tried was taken");
}

} // namespace

Result<void> write_file_atomic_at(int dirfd, const std::string &name,
                                  std::span<const std::uint8_t> data,
                                  Durability durability, unsigned mode,
                                  const std::string &shown) {
  std::string tmp;
  BTFPACK_TRY(fd, create_temp(dirfd, name, tmp, shown));
  auto fail = [&](const std::string &what) {
    int err = errno;
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return make_error(Errc::io, what + " " + shown + ": " + errno_message(err));
  };
  if (auto w = write_fully(fd.get(), data, shown); !w.ok()) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return w;
  }
  if (::fchmod(fd.get(), mode) != 0)
    return fail("chmod");
  if (durability != Durability::none && ::fsync(fd.get()) != 0)
    return fail("fsync");
  fd.reset();
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0)
    return fail("rename into");
  // Make the rename itself durable (EINVAL: a filesystem without it).
  if (durability == Durability::file_and_dir && ::fsync(dirfd) != 0 &&
      errno != EINVAL)
    return make_error(Errc::io, "fsync the directory of " + shown + ": " +
                                    errno_message(errno));
  return ok();
}

Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::span<const std::uint8_t> data,
                               Durability durability, unsigned mode) {
  auto dir = path.parent_path();
  if (dir.empty())
    dir = ".";
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd)
    return make_error(Errc::io, "write " + path.string() + ": open " +
                                    dir.string() + ": " + errno_message(errno));
  return write_file_atomic_at(dfd.get(), path.filename().string(), data,
                              durability, mode, path.string());
}

Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::string_view data, Durability durability,
                               unsigned mode) {
  return write_file_atomic(
      path,
      std::span<const std::uint8_t>(
          reinterpret_cast<const std::uint8_t *>(data.data()), data.size()),
      durability, mode);
}

Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::string_view data, unsigned mode) {
  return write_file_atomic(path, data, Durability::file_and_dir, mode);
}

} // namespace btfpack
