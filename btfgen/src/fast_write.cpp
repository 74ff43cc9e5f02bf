// SPDX-License-Identifier: Apache-2.0
#include "fast_write.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

namespace btfpack::btfgen {

Result<void> write_replace(const std::filesystem::path &path,
                           std::span<const std::uint8_t> data) {
  std::string tmpl = path.string() + ".tmp.XXXXXX";
  UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd)
    return make_error(Errc::io,
                      "write " + path.string() + ": " + errno_message(errno));
  auto fail = [&](const char *what) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return make_error(Errc::io, std::string(what) + " " + path.string() + ": " +
                                    errno_message(err));
  };
  const std::uint8_t *p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("write");
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), 0644) != 0)
    return fail("chmod");
  fd.reset();
  if (::rename(tmpl.c_str(), path.c_str()) != 0)
    return fail("rename into");
  return ok();
}

Result<void> write_replace(const std::filesystem::path &path,
                           std::string_view data) {
  return write_replace(
      path,
      std::span<const std::uint8_t>(
          reinterpret_cast<const std::uint8_t *>(data.data()), data.size()));
}

} // namespace btfpack::btfgen
