// SPDX-License-Identifier: Apache-2.0
#include "btfpack/handoff.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfpack/btf_check.h"
#include "btfpack/file_util.h"
#include "btfpack/log.h"

namespace btfpack {

namespace fs = std::filesystem;

namespace {

// A minimized BTF is KBs; a whole vmlinux BTF under 64 MiB.
constexpr std::uint64_t MAX_BTF_BYTES = 256ull << 20;

// read_fd reads a whole open file, bounded.
Result<std::vector<std::uint8_t>> read_fd(int fd, const std::string &what) {
  std::vector<std::uint8_t> out;
  std::uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return make_error(Errc::io, "read " + what + ": " + errno_message(errno));
    }
    if (n == 0)
      break;
    if (out.size() + static_cast<std::size_t>(n) > MAX_BTF_BYTES)
      return make_error(Errc::corrupt, what + ": larger than " +
                                           std::to_string(MAX_BTF_BYTES) +
                                           " bytes");
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

// unsafe_ancestor: libbpf opens the cache file by its path name, so a
// directory on the way that someone else may write to (owned by another
// user, or group/world-writable without the sticky bit) could swap what the
// name leads to. Returns why for the first such directory, "" when none.
std::string unsafe_ancestor(const fs::path &dir) {
  auto check = [](const fs::path &p, bool follow) -> std::string {
    struct stat st {};
    if ((follow ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) != 0)
      return ""; // not there yet: created below, then checked by fstat
    const bool owner_ok = st.st_uid == 0 || st.st_uid == ::geteuid();
    if (S_ISLNK(st.st_mode))
      return owner_ok ? ""
                      : p.string() + " is a symlink owned by uid " +
                            std::to_string(st.st_uid);
    if (!owner_ok)
      return p.string() + " is owned by uid " + std::to_string(st.st_uid) +
             ", not root or uid " + std::to_string(::geteuid());
    if ((st.st_mode & 022) != 0 && !(st.st_mode & S_ISVTX))
      return p.string() + " is writable by group/others and not sticky (mode " +
             [&] {
               char m[8];
               std::snprintf(m, sizeof m, "%04o", st.st_mode & 07777);
               return std::string(m);
             }() +
             ")";
    return "";
  };
  std::error_code ec;
  fs::path abs = fs::absolute(dir, ec).lexically_normal();
  if (ec)
    return "";
  // The path as given (symlinks as they are), then where it really leads.
  for (fs::path p = abs.parent_path();; p = p.parent_path()) {
    if (auto why = check(p, false); !why.empty())
      return why;
    if (p == p.root_path() || p.empty())
      break;
  }
  fs::path real = fs::weakly_canonical(abs, ec);
  if (!ec && real != abs)
    for (fs::path p = real.parent_path();; p = p.parent_path()) {
      if (auto why = check(p, true); !why.empty())
        return why;
      if (p == p.root_path() || p.empty())
        break;
    }
  return "";
}

// open_cache_dir creates (0755) or opens the cache directory and refuses
// one that others could write to or swap under us, or that lies below such
// a directory.
Result<UniqueFd> open_cache_dir(const fs::path &dir) {
  if (auto why = unsafe_ancestor(dir); !why.empty())
    return make_error(Errc::invalid_argument,
                      "cache directory " + dir.string() + " is unsafe: " + why +
                          "; others could replace the BTF file libbpf opens "
                          "by name: fix it (chown root, chmod 755 or +t) or "
                          "pass another --cache-dir");
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) {
    fs::path cur;
    for (const auto &part : dir) {
      cur /= part;
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        return make_error(Errc::io, "create cache directory " + cur.string() +
                                        ": " + errno_message(errno));
    }
  }
  UniqueFd fd(
      ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd)
    return make_error(Errc::io, "open cache directory " + dir.string() + ": " +
                                    errno_message(errno) +
                                    " (it must be a real directory, not a "
                                    "symlink)");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(Errc::io,
                      "stat " + dir.string() + ": " + errno_message(errno));
  if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
    return make_error(Errc::invalid_argument,
                      "cache directory " + dir.string() +
                          " is not owned by uid " +
                          std::to_string(::geteuid()) +
                          " or is writable by group/others; fix it (chown "
                          "root, chmod 755) or pass another --cache-dir");
  return fd;
}

} // namespace

Result<CustomBtf> CustomBtf::memfd(std::span<const std::uint8_t> btf,
                                   const Sha256 &digest) {
  CustomBtf c;
  c.fd_.reset(::memfd_create("btfpack-btf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!c.fd_)
    return make_error(Errc::io,
                      "memfd_create: " + errno_message(errno) +
                          "; use the cache hand-off (--cache-dir) instead");
  BTFPACK_CHECK(write_fully(c.fd_.get(), btf, "memfd"));
  if (::fcntl(c.fd_.get(), F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    return make_error(Errc::io, "seal memfd: " + errno_message(errno));
  if (::lseek(c.fd_.get(), 0, SEEK_SET) < 0)
    return make_error(Errc::io, "seek memfd: " + errno_message(errno));
  c.path_ = "/proc/self/fd/" + std::to_string(c.fd_.get());
  c.digest_ = digest;
  c.note_ = "sealed memfd";
  return c;
}

Result<CustomBtf> CustomBtf::cache(
    const fs::path &dir, const Sha256 &digest,
    const std::function<Result<std::vector<std::uint8_t>>()> &blob) {
  BTFPACK_TRY(dfd, open_cache_dir(dir));
  const std::string name = to_hex(digest) + ".btf";
  const std::string full = (dir / name).string();
  CustomBtf c;
  c.digest_ = digest;
  c.path_ = full;
  std::string replaced;

  UniqueFd f(::openat(dfd.get(), name.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (f) {
    struct stat st {};
    std::string why;
    if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode))
      why = "not a regular file";
    else if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
      why = "wrong owner or mode";
    if (why.empty()) {
      auto data = read_fd(f.get(), full);
      if (!data.ok())
        why = data.error().message;
      else if (sha256(*data) != digest)
        why = "digest " + to_hex(sha256(*data)) + " differs from the signed " +
              to_hex(digest);
      else if (auto chk = check_btf(*data, full); !chk.ok())
        why = chk.error().message;
    }
    if (why.empty()) {
      c.note_ = "cache file reused, digest verified";
      return c;
    }
    replaced = why;
    log::warn("cache file ", full, " is bad (", why, "); replacing it");
  } else if (errno == ELOOP) {
    replaced = "it was a symlink";
    log::warn("cache file ", full, " is a symlink; replacing it");
  }

  BTFPACK_TRY(data, blob());
  if (sha256(data) != digest)
    return make_error(Errc::digest_mismatch, "BTF for cache file " + full +
                                                 " does not match digest " +
                                                 to_hex(digest));
  // rename(2) is atomic: a concurrent resolver sees the old complete file
  // or this complete one, never a partial write.
  BTFPACK_CHECK(write_file_atomic_at(dfd.get(), name, data,
                                     Durability::file_and_dir, 0644, full));
  c.note_ = replaced.empty() ? "cache file written"
                             : "cache file replaced (" + replaced + ")";
  return c;
}

} // namespace btfpack
