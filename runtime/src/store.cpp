// SPDX-License-Identifier: Apache-2.0
#include "btfpack/store.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <string_view>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/log.h"
#include "btfpack/paths.h"
#include "btfpack/runtime.h"
#include "btfpack/unique_fd.h"

namespace btfpack {

namespace fs = std::filesystem;

namespace test_hooks {
void (*install_step)(int) = nullptr;
} // namespace test_hooks

namespace {

constexpr std::string_view kSuffix = ".btfpack";
constexpr std::string_view kTmpPrefix = ".tmp-";
constexpr const char *kCurrent = paths::CURRENT_NAME;
constexpr const char *kPrevious = paths::PREVIOUS_NAME;
constexpr const char *kLock = paths::LOCK_NAME;
// The highest bundle version this store ever made current (rollback
// protection that survives `btfpack rollback`), one decimal line.
constexpr const char *kHighest = "highest-version";
// rolled-back-from names the bundle a rollback left (then `previous`):
// a second rollback would only return to it, so it is refused.
constexpr const char *kRolledBack = "rolled-back-from";
const std::string kBundles = paths::BUNDLES_SUBDIR;
constexpr std::uint64_t kMaxBundleBytes = 1ull << 30;

// crash_point(n) marks step `n` of an install for the crash-consistency
// tests: a test build of the `btfpack` program installs a hook
// (cli/test_hooks.cpp, CMake option BTFPACK_TEST_HOOKS) that SIGKILLs the
// process at the step its environment names. The library itself holds no
// hook: a release build, and libbtfpack in any build, only sees nullptr.
void crash_point(int n) {
  if (auto *h = test_hooks::install_step)
    h(n);
}

Error sys_error(const std::string &what, const fs::path &path) {
  int err = errno;
  return make_error(Errc::io,
                    what + " " + path.string() + ": " + errno_message(err));
}

// sanitize keeps a bundle name usable in a file name without '-' (the
// separator of <name>-<version>-<digest>).
std::string sanitize(std::string_view name) {
  std::string s;
  for (char c : name) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+';
    s.push_back(keep ? c : '_');
  }
  if (s.empty() || s[0] == '.')
    s.insert(s.begin(), '_');
  return s.substr(0, 100);
}

std::string file_name_for(const BundleMeta &meta, const std::string &sha) {
  return sanitize(meta.name) + "-" + std::to_string(meta.version) + "-" +
         sha.substr(0, 16) + std::string(kSuffix);
}

struct NameParts {
  std::string name;
  std::uint64_t version = 0;
  std::string digest;
};

// parse_file_name splits "<name>-<version>-<digest>.btfpack".
std::optional<NameParts> parse_file_name(std::string_view f) {
  if (f.size() <= kSuffix.size() || !f.ends_with(kSuffix) || f.starts_with("."))
    return std::nullopt;
  f.remove_suffix(kSuffix.size());
  auto d = f.rfind('-');
  if (d == std::string_view::npos || d == 0)
    return std::nullopt;
  auto v = f.rfind('-', d - 1);
  if (v == std::string_view::npos || v == 0 || v + 1 == d)
    return std::nullopt;
  NameParts p;
  p.name = std::string(f.substr(0, v));
  p.digest = std::string(f.substr(d + 1));
  for (char c : f.substr(v + 1, d - v - 1)) {
    if (c < '0' || c > '9' || p.version > (UINT64_MAX - 9) / 10)
      return std::nullopt;
    p.version = p.version * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return p;
}

// read_link returns the store file a link names, or nullopt when the link
// is missing. A link that leaves the store is corrupt.
Result<std::optional<std::string>> read_link(const fs::path &dir,
                                             const char *link) {
  char buf[4096];
  auto p = dir / link;
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  if (n < 0) {
    if (errno == ENOENT)
      return std::optional<std::string>{};
    return sys_error("read link", p);
  }
  std::string target(buf, static_cast<std::size_t>(n));
  std::string file;
  if (target.starts_with(kBundles + "/"))
    file = target.substr(kBundles.size() + 1);
  if (file.empty() || file.find('/') != std::string::npos ||
      !parse_file_name(file))
    return make_error(Errc::corrupt,
                      p.string() + " points to '" + target +
                          "', not to a bundle of the store: remove the link "
                          "and install again");
  return std::optional<std::string>{file};
}

// bundle_present: the store file a link names is there (a regular file).
bool bundle_present(const fs::path &dir, const std::string &file) {
  struct stat st {};
  return ::lstat((dir / kBundles / file).c_str(), &st) == 0 &&
         S_ISREG(st.st_mode);
}

// dangling_error: a link names a bundle file that is gone (removed by hand,
// lost to a disk fault); what list says, and how to repair it.
Error dangling_error(const fs::path &dir, const char *link,
                     const std::string &file) {
  return make_error(
      Errc::corrupt,
      (dir / link).string() + " points to " + kBundles + "/" + file +
          ", which is gone: the next `btfpack install BUNDLE` or `btfpack "
          "rollback` on this store removes the dangling link (or remove it "
          "by hand)");
}

// drop_dangling: under the store's lock, a link whose bundle is gone is
// removed, so install and rollback repair the store instead of failing.
Result<void> drop_dangling(const fs::path &dir, const char *link,
                           std::optional<std::string> &file) {
  if (!file || bundle_present(dir, *file))
    return ok();
  log::warn("store: ", dangling_error(dir, link, *file).message,
            "; removing the link");
  if (::unlink((dir / link).c_str()) != 0 && errno != ENOENT)
    return sys_error("remove dangling link", dir / link);
  file.reset();
  return ok();
}

Result<void> fsync_dir(const fs::path &dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd)
    return sys_error("open directory", dir);
  if (::fsync(fd.get()) != 0)
    return sys_error("fsync directory", dir);
  return ok();
}

// replace_link points `link` at bundles/`file` atomically: a new symlink
// under a temporary name, renamed over the old one.
Result<void> replace_link(const fs::path &dir, const char *link,
                          const std::string &file) {
  auto target = kBundles + "/" + file;
  auto tmp = dir / (std::string(kTmpPrefix) + link);
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0)
    return sys_error("create symlink", tmp);
  if (::rename(tmp.c_str(), (dir / link).c_str()) != 0) {
    auto err = sys_error("rename symlink to", dir / link);
    ::unlink(tmp.c_str());
    return err;
  }
  return ok();
}

Result<UniqueFd> lock_store(const fs::path &dir) {
  auto p = dir / kLock;
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd)
    return sys_error("open lock file", p);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR)
      return sys_error("lock", p);
  }
  return fd;
}

// remove_temps drops what an interrupted install left behind.
void remove_temps(const fs::path &dir) {
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.starts_with(kTmpPrefix) ||
        name.starts_with("." + std::string(kHighest) + "."))
      fs::remove(e.path(), ec);
  }
}

// read_highest returns the store's high-water mark, 0 when none is recorded
// (a store from before it existed: the current bundle's version applies).
Result<std::uint64_t> read_highest(const fs::path &dir) {
  auto path = dir / kHighest;
  auto text = read_text_file(path, 64);
  if (!text) {
    if (text.error().code == Errc::not_found)
      return std::uint64_t{0};
    return std::move(text).error();
  }
  std::string_view t = text.value();
  if (!t.empty() && t.back() == '\n')
    t.remove_suffix(1);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size())
    return make_error(
        Errc::corrupt,
        "rollback protection file " + path.string() +
            " does not hold a version number; it records the highest bundle "
            "version this store has installed: restore it, or remove it to "
            "fall back to the current bundle's version");
  return v;
}

// remove_unreferenced deletes bundle files neither `current` nor
// `previous` names.
void remove_unreferenced(const fs::path &dir,
                         const std::optional<std::string> &cur,
                         const std::optional<std::string> &prev) {
  std::error_code ec;
  std::vector<fs::path> drop;
  for (const auto &e : fs::directory_iterator(dir, ec)) {
    auto f = e.path().filename().string();
    if (!parse_file_name(f) || (cur && f == *cur) || (prev && f == *prev))
      continue;
    drop.push_back(e.path());
  }
  for (const auto &p : drop) {
    fs::remove(p, ec);
    crash_point(12);
  }
}

// RemoveOnExit unlinks a temporary file unless released.
class RemoveOnExit {
public:
  explicit RemoveOnExit(fs::path p) : p_(std::move(p)) {}
  ~RemoveOnExit() {
    if (!p_.empty())
      ::unlink(p_.c_str());
  }
  RemoveOnExit(const RemoveOnExit &) = delete;
  RemoveOnExit &operator=(const RemoveOnExit &) = delete;
  void release() { p_.clear(); }

private:
  fs::path p_;
};

Result<void> write_all(int fd, const char *data, std::size_t len,
                       const fs::path &path) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return sys_error("write", path);
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return ok();
}

// about_source rewrites an error about the store's temporary copy so that it
// names what the user gave (the temporary file is removed on the way out, a
// message naming it would point at nothing).
Error about_source(Error e, const fs::path &tmp, const fs::path &src) {
  const std::string t = tmp.string();
  const std::string as = src.string() + " (its copy in " +
                         tmp.parent_path().string() + ", removed)";
  for (auto at = e.message.find(t); at != std::string::npos;
       at = e.message.find(t, at + as.size()))
    e.message.replace(at, t.size(), as);
  return e;
}

// copy_into_store copies `src` to a fresh temporary file of the store and
// fsyncs it; the caller verifies that copy, so what is installed is exactly
// what was verified, whatever happens to `src` meanwhile.
Result<fs::path> copy_into_store(const fs::path &src, const fs::path &dir) {
  auto opened = open_regular_file(src);
  if (!opened.ok())
    return make_error(opened.error().code, "bundle: " + opened.error().message);
  UniqueFd in = std::move(*opened);
  struct stat st {};
  if (::fstat(in.get(), &st) != 0)
    return sys_error("stat", src);
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > kMaxBundleBytes)
    return make_error(Errc::corrupt, "bundle " + src.string() + " is " +
                                         std::to_string(size) +
                                         " bytes, limit is " +
                                         std::to_string(kMaxBundleBytes));
  std::string tmpl = dir / (std::string(kTmpPrefix) + "bundle-XXXXXX");
  UniqueFd out(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!out)
    return sys_error("create temporary file in", dir);
  fs::path tmp = tmpl;
  RemoveOnExit guard(tmp);
  crash_point(2);
  if (::fchmod(out.get(), 0644) != 0)
    return about_source(sys_error("chmod", tmp), tmp, src);
  std::vector<char> buf(1 << 20);
  std::uint64_t copied = 0;
  bool halfway = false;
  for (;;) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return sys_error("read", src);
    }
    if (n == 0)
      break;
    copied += static_cast<std::uint64_t>(n);
    if (copied > kMaxBundleBytes)
      return make_error(Errc::corrupt,
                        "bundle " + src.string() + " grew while copying");
    if (auto w =
            write_all(out.get(), buf.data(), static_cast<std::size_t>(n), tmp);
        !w)
      return about_source(std::move(w).error(), tmp, src);
    if (!halfway && copied * 2 >= size) {
      halfway = true;
      crash_point(3);
    }
  }
  crash_point(4);
  if (::fsync(out.get()) != 0)
    return about_source(sys_error("fsync", tmp), tmp, src);
  crash_point(5);
  guard.release();
  return tmp;
}

Result<Bundle> open_verified(const fs::path &path,
                             std::span<const PublicKey> trusted,
                             const InstallOptions &opts) {
  OpenOptions oo;
  oo.allow_expired = opts.allow_expired;
  oo.now = opts.now;
  BTFPACK_TRY(b, Bundle::open(path, trusted, oo));
  BTFPACK_CHECK(b.verify_blobs());
  return b;
}

StoredBundle describe(const std::string &file, const Bundle &b) {
  StoredBundle s;
  s.file = file;
  s.name = b.meta().name;
  s.version = b.meta().version;
  s.manifest_sha256 = b.manifest_sha256();
  s.verified = true;
  s.signer = key_id_hex(b.signer());
  s.entries = b.entries().size();
  s.created = b.meta().created;
  s.expires = b.meta().expires;
  return s;
}

} // namespace

Result<std::vector<PublicKey>> read_trusted_keys(const fs::path &dir) {
  BTFPACK_TRY(found, load_trusted_keys({}, dir));
  std::vector<PublicKey> keys;
  for (auto &k : found)
    keys.push_back(std::move(k.second));
  return keys;
}

Result<Store> Store::open(const fs::path &dir, bool create) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || !create)
      return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                        "bundle store " + dir.string() + ": " +
                            errno_message(errno));
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      return make_error(Errc::io, "create bundle store " + dir.string() + ": " +
                                      ec.message());
    ::chmod(dir.c_str(), 0755);
  } else if (!S_ISDIR(st.st_mode)) {
    return make_error(Errc::invalid_argument,
                      "bundle store " + dir.string() + " is not a directory");
  }
  auto bdir = dir / kBundles;
  if (create && ::mkdir(bdir.c_str(), 0755) != 0 && errno != EEXIST)
    return sys_error("create", bdir);
  return Store(dir);
}

Result<fs::path> Store::current_path() const {
  BTFPACK_TRY(cur, read_link(dir_, kCurrent));
  if (!cur)
    return make_error(Errc::not_found, "no bundle installed in " +
                                           dir_.string() +
                                           ": run `btfpack install BUNDLE`");
  return dir_ / kBundles / *cur;
}

Result<InstallResult> Store::install(const fs::path &bundle,
                                     std::span<const PublicKey> trusted,
                                     const InstallOptions &opts) {
  BTFPACK_TRY(lock, lock_store(dir_));
  crash_point(1);
  auto bdir = dir_ / kBundles;
  remove_temps(dir_);
  remove_temps(bdir);

  BTFPACK_TRY(tmp, copy_into_store(bundle, bdir));
  RemoveOnExit guard(tmp);
  auto verified = open_verified(tmp, trusted, opts);
  if (!verified)
    return with_context(about_source(std::move(verified).error(), tmp, bundle),
                        "verify " + bundle.string());
  const Bundle &b = verified.value();
  crash_point(6);

  InstallResult res;
  auto final_name = file_name_for(b.meta(), b.manifest_sha256());
  res.installed = describe(final_name, b);
  res.installed.current = true;
  res.installed.size = fs::file_size(tmp);

  BTFPACK_TRY(cur, read_link(dir_, kCurrent));
  BTFPACK_TRY(prev, read_link(dir_, kPrevious));
  BTFPACK_CHECK(drop_dangling(dir_, kCurrent, cur));
  BTFPACK_CHECK(drop_dangling(dir_, kPrevious, prev));
  BTFPACK_TRY(highest, read_highest(dir_));
  const std::uint64_t version = b.meta().version;
  if (cur) {
    auto parts = *parse_file_name(*cur);
    if (*cur == final_name) {
      res.unchanged = true;
      return res;
    }
    StoredBundle old;
    old.file = *cur;
    old.name = parts.name;
    old.version = parts.version;
    old.manifest_sha256 = parts.digest;
    old.previous = true;
    if (!opts.allow_downgrade) {
      if (b.meta().version < parts.version)
        return make_error(
            Errc::downgrade,
            "refusing to install " + bundle.string() + " (version " +
                std::to_string(b.meta().version) + ") over version " +
                std::to_string(parts.version) + " (" + *cur +
                "): pass --allow-downgrade to roll back on purpose");
      if (b.meta().version == parts.version)
        return make_error(
            Errc::downgrade,
            "refusing to install " + bundle.string() + ": version " +
                std::to_string(parts.version) +
                " is already installed with different content (" + *cur +
                "); bump the bundle version, or pass --allow-downgrade");
    }
    res.replaced = old;
  }
  // After a rollback `current` is below the high-water mark; a bundle
  // between the two is still older than one this host has trusted.
  if (!opts.allow_downgrade && version < highest)
    return make_error(
        Errc::downgrade,
        "refusing to install " + bundle.string() + " (version " +
            std::to_string(version) + "): this store has installed version " +
            std::to_string(highest) + " before (" + (dir_ / kHighest).string() +
            "), and older bundles stay refused after a rollback: pass "
            "--allow-downgrade to install it on purpose");

  auto final_path = bdir / final_name;
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    return sys_error("rename into", final_path);
  guard.release();
  crash_point(7);
  BTFPACK_CHECK(fsync_dir(bdir));
  crash_point(8);
  // The high-water mark is raised (durably) before `current` moves: when it
  // cannot be written, nothing has changed and the error says so. A crash
  // between the two leaves the mark above current, which only refuses more.
  if (version > highest) {
    auto w = write_file_atomic(dir_ / kHighest, std::to_string(version) + "\n",
                               0644);
    if (!w) {
      if (!(prev && *prev == final_name))
        ::unlink(final_path.c_str());
      return make_error(
          w.error().code,
          "install " + bundle.string() + ": cannot raise the rollback mark: " +
              w.error().message + "; nothing changed, " +
              (cur ? *cur + " is still current" : "no bundle is current"));
    }
  }
  if (cur) {
    BTFPACK_CHECK(replace_link(dir_, kPrevious, *cur));
    prev = cur;
    crash_point(9);
  }
  BTFPACK_CHECK(replace_link(dir_, kCurrent, final_name));
  std::error_code rb_ec;
  fs::remove(dir_ / kRolledBack, rb_ec); // an install ends a rollback
  crash_point(10);
  BTFPACK_CHECK(fsync_dir(dir_));
  crash_point(11);
  remove_unreferenced(bdir, final_name, prev);
  (void)fsync_dir(bdir);
  crash_point(13);
  return res;
}

Result<StoredBundle> Store::rollback(std::span<const PublicKey> trusted,
                                     const InstallOptions &opts) {
  BTFPACK_TRY(lock, lock_store(dir_));
  auto bdir = dir_ / kBundles;
  remove_temps(dir_);
  remove_temps(bdir);
  BTFPACK_TRY(cur, read_link(dir_, kCurrent));
  BTFPACK_TRY(prev, read_link(dir_, kPrevious));
  const std::optional<std::string> prev_named = prev;
  BTFPACK_CHECK(drop_dangling(dir_, kCurrent, cur));
  BTFPACK_CHECK(drop_dangling(dir_, kPrevious, prev));
  if (prev_named && !prev)
    return make_error(Errc::not_found,
                      "no previous bundle in " + dir_.string() + ": " +
                          (dir_ / kPrevious).string() + " pointed to " +
                          kBundles + "/" + *prev_named +
                          ", which is gone (the link is removed now); "
                          "install the bundle to go back to again");
  if (!prev || (cur && *cur == *prev))
    return make_error(Errc::not_found, "no previous bundle in " +
                                           dir_.string() +
                                           ": nothing to roll back to");
  if (auto left = read_text_file(dir_ / kRolledBack, 4096); left.ok()) {
    std::string f = *left;
    while (!f.empty() && (f.back() == '\n' || f.back() == ' '))
      f.pop_back();
    if (f == *prev)
      return make_error(
          Errc::downgrade,
          "nothing to roll back to in " + dir_.string() +
              ": the previous "
              "bundle " +
              *prev +
              " is the one the last rollback left, so a "
              "second rollback would undo the first; to return to it on "
              "purpose, install it again: btfpack install " +
              (bdir / *prev).string());
  }
  auto verified = open_verified(bdir / *prev, trusted, opts);
  if (!verified)
    return with_context(std::move(verified).error(),
                        "verify previous bundle " + (bdir / *prev).string());
  if (cur)
    BTFPACK_CHECK(write_file_atomic(dir_ / kRolledBack, *cur + "\n", 0644));
  if (cur)
    BTFPACK_CHECK(replace_link(dir_, kPrevious, *cur));
  BTFPACK_CHECK(replace_link(dir_, kCurrent, *prev));
  BTFPACK_CHECK(fsync_dir(dir_));
  auto s = describe(*prev, verified.value());
  s.current = true;
  std::error_code ec;
  s.size = fs::file_size(bdir / *prev, ec);
  return s;
}

Result<std::vector<StoredBundle>>
Store::list(std::span<const PublicKey> trusted,
            const InstallOptions &opts) const {
  BTFPACK_TRY(cur, read_link(dir_, kCurrent));
  BTFPACK_TRY(prev, read_link(dir_, kPrevious));
  std::vector<StoredBundle> out;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir_ / kBundles, ec)) {
    auto f = e.path().filename().string();
    auto parts = parse_file_name(f);
    if (!parts || !e.is_regular_file(ec))
      continue;
    StoredBundle s;
    s.file = f;
    s.name = parts->name;
    s.version = parts->version;
    s.manifest_sha256 = parts->digest;
    s.size = e.file_size(ec);
    if (trusted.empty()) {
      // Unverified: the name as the bundle states it (the file name has
      // it sanitized, my-agent -> my_agent), so list shows one name.
      OpenOptions oo;
      oo.allow_expired = true;
      if (auto u = Bundle::open_unverified(e.path(), oo); u)
        s.name = u->meta().name;
    } else {
      auto b = open_verified(e.path(), trusted, opts);
      if (b) {
        auto size = s.size;
        s = describe(f, b.value());
        s.size = size;
      } else {
        s.verify_error = b.error().message;
      }
    }
    s.current = cur && f == *cur;
    s.previous = prev && f == *prev;
    out.push_back(std::move(s));
  }
  if (ec)
    return make_error(Errc::io, "read bundle store " + dir_.string() + ": " +
                                    ec.message());
  // A link whose bundle is gone: say so rather than list nothing for it.
  if (cur && !bundle_present(dir_, *cur))
    return dangling_error(dir_, kCurrent, *cur);
  if (prev && !bundle_present(dir_, *prev))
    return dangling_error(dir_, kPrevious, *prev);
  auto rank = [](const StoredBundle &s) {
    return s.current ? 0 : s.previous ? 1 : 2;
  };
  std::sort(out.begin(), out.end(), [&](const auto &a, const auto &b) {
    return std::pair(rank(a), a.file) < std::pair(rank(b), b.file);
  });
  return out;
}

} // namespace btfpack
