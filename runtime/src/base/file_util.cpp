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
                                   std::uint64_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                      "open " + path.string() + ": " + errno_message(errno));
  std::string s;
  BTFPACK_CHECK(read_all(fd.get(), path, max_bytes, s));
  return s;
}

Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path &path,
                                            std::uint64_t max_bytes) {
  BTFPACK_TRY(s, read_text_file(path, max_bytes));
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
