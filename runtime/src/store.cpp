// SPDX-License-Identifier: Apache-2.0
#include "btfpack/store.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <set>
#include <string_view>
#include <sys/file.h>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/log.h"
#include "btfpack/paths.h"
#include "btfpack/trust.h"
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
// names/<name>/ holds one name's links and marks.
constexpr const char *kNames = paths::NAMES_SUBDIR;
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

// Slot is a directory holding `current`/`previous` links: a name's
// directory (links ../../bundles/<file>) or the store's top (the
// compatibility link and a store from before names: bundles/<file>).
struct Slot {
  fs::path dir;
  std::string up; // "" or "../../"
};

Slot top_slot(const fs::path &store) {
  return {store, ""};
}
Slot name_slot(const fs::path &store, const std::string &name) {
  return {store / kNames / name, "../../"};
}

// read_link returns the store file a link names, or nullopt when the link
// is missing. A link that leaves the store is corrupt.
Result<std::optional<std::string>> read_link(const Slot &s, const char *link) {
  char buf[4096];
  auto p = s.dir / link;
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  if (n < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return std::optional<std::string>{};
    return sys_error("read link", p);
  }
  std::string target(buf, static_cast<std::size_t>(n));
  std::string file, want = s.up + kBundles + "/";
  if (target.starts_with(want))
    file = target.substr(want.size());
  if (file.empty() || file.find('/') != std::string::npos ||
      !parse_file_name(file))
    return make_error(Errc::corrupt,
                      p.string() + " points to '" + target +
                          "', not to a bundle of the store: remove the link "
                          "and install again");
  return std::optional<std::string>{file};
}

// bundle_present: the store file a link names is there (a regular file).
bool bundle_present(const fs::path &store, const std::string &file) {
  struct stat st {};
  return ::lstat((store / kBundles / file).c_str(), &st) == 0 &&
         S_ISREG(st.st_mode);
}

// dangling_error: a link names a bundle file that is gone (removed by hand,
// lost to a disk fault); what list says, and how to repair it.
Error dangling_error(const Slot &s, const char *link, const std::string &file) {
  return make_error(
      Errc::corrupt,
      (s.dir / link).string() + " points to " + kBundles + "/" + file +
          ", which is gone: the next `btfpack install BUNDLE` or `btfpack "
          "rollback` on this store removes the dangling link (or remove it "
          "by hand)");
}

// drop_dangling: under the store's lock, a link whose bundle is gone is
// removed, so install and rollback repair the store instead of failing.
Result<void> drop_dangling(const fs::path &store, const Slot &s,
                           const char *link, std::optional<std::string> &file) {
  if (!file || bundle_present(store, *file))
    return ok();
  log::warn("store: ", dangling_error(s, link, *file).message,
            "; removing the link");
  if (::unlink((s.dir / link).c_str()) != 0 && errno != ENOENT)
    return sys_error("remove dangling link", s.dir / link);
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
Result<void> replace_link(const Slot &s, const char *link,
                          const std::string &file) {
  auto target = s.up + kBundles + "/" + file;
  auto tmp = s.dir / (std::string(kTmpPrefix) + link);
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0)
    return sys_error("create symlink", tmp);
  if (::rename(tmp.c_str(), (s.dir / link).c_str()) != 0) {
    auto err = sys_error("rename symlink to", s.dir / link);
    ::unlink(tmp.c_str());
    return err;
  }
  return ok();
}

Result<void> unlink_if_there(const fs::path &p) {
  if (::unlink(p.c_str()) != 0 && errno != ENOENT)
    return sys_error("remove", p);
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

// read_highest returns a high-water mark, 0 when none is recorded (a store
// from before it existed: the current bundle's version applies).
Result<std::uint64_t> read_highest(const fs::path &path) {
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
            "version this name has installed: restore it, or remove it to "
            "fall back to the current bundle's version");
  return v;
}

// read_slot reads a slot's links and high-water mark.
Result<NameState> read_slot(const Slot &s, std::string name) {
  NameState st;
  st.name = std::move(name);
  BTFPACK_TRY(cur, read_link(s, kCurrent));
  BTFPACK_TRY(prev, read_link(s, kPrevious));
  BTFPACK_TRY(hi, read_highest(s.dir / kHighest));
  st.current = cur;
  st.previous = prev;
  st.highest = hi;
  return st;
}

// name_of_file is the bundle name a store file holds: its manifest's name
// when that is a usable name, else the (sanitized) name in the file name.
std::string name_of_file(const fs::path &store, const std::string &file) {
  OpenOptions oo;
  oo.allow_expired = true;
  if (auto u = Bundle::open_unverified(store / kBundles / file, oo); u)
    if (check_bundle_name(u->meta().name, "name"))
      return u->meta().name;
  return parse_file_name(file)->name;
}

// legacy_state reads a store written before names: `previous`,
// `highest-version` or `rolled-back-from` at the top, or a top `current`
// with no names/ directory. nullopt when the store has names only.
Result<std::optional<NameState>> legacy_state(const fs::path &store) {
  auto top = top_slot(store);
  BTFPACK_TRY(st, read_slot(top, ""));
  std::error_code ec;
  bool old_files = st.previous || st.highest > 0 ||
                   fs::exists(fs::symlink_status(store / kRolledBack, ec));
  if (!old_files && (!st.current || fs::exists(store / kNames, ec)))
    return std::optional<NameState>{};
  auto file = st.current ? st.current : st.previous;
  st.name = file ? name_of_file(store, *file) : std::string("_");
  return std::optional<NameState>{std::move(st)};
}

// list_name_dirs: the directories of names/, sorted.
Result<std::vector<std::string>> list_name_dirs(const fs::path &store) {
  std::vector<std::string> out;
  std::error_code ec;
  auto dir = store / kNames;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory)
    return out;
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    auto n = it->path().filename().string();
    std::error_code dec;
    if (it->is_directory(dec) && check_bundle_name(n, "name"))
      out.push_back(n);
  }
  if (ec)
    return make_error(Errc::io, "read " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// merge_legacy folds the old top-level state into the name it belongs to
// (names/ wins where both have a link: it was written later).
void merge_legacy(std::vector<NameState> &states, NameState old) {
  for (auto &s : states) {
    if (s.name != old.name)
      continue;
    if (!s.current)
      s.current = old.current;
    if (!s.previous)
      s.previous = old.previous;
    s.highest = std::max(s.highest, old.highest);
    return;
  }
  states.push_back(std::move(old));
  std::sort(states.begin(), states.end(),
            [](const auto &a, const auto &b) { return a.name < b.name; });
}

// load_states reads every name of the store, an old layout included.
Result<std::vector<NameState>> load_states(const fs::path &store) {
  BTFPACK_TRY(dirs, list_name_dirs(store));
  std::vector<NameState> states;
  for (const auto &n : dirs) {
    BTFPACK_TRY(st, read_slot(name_slot(store, n), n));
    states.push_back(std::move(st));
  }
  BTFPACK_TRY(old, legacy_state(store));
  if (old)
    merge_legacy(states, std::move(*old));
  return states;
}

// ensure_name_dir makes names/<name>/ (durably) when missing.
Result<Slot> ensure_name_dir(const fs::path &store, const std::string &name) {
  auto names = store / kNames;
  auto s = name_slot(store, name);
  for (const auto &d : {names, s.dir}) {
    if (::mkdir(d.c_str(), 0755) == 0)
      BTFPACK_CHECK(fsync_dir(d.parent_path()));
    else if (errno != EEXIST)
      return sys_error("create", d);
  }
  return s;
}

// migrate moves a store written before names into names/<name>/, under the
// lock: the name's links and marks are written first, then the old files
// at the top are removed, so a crash in between only repeats the copy.
Result<void> migrate(const fs::path &store) {
  BTFPACK_TRY(old, legacy_state(store));
  if (!old)
    return ok();
  BTFPACK_TRY(slot, ensure_name_dir(store, old->name));
  BTFPACK_TRY(now, read_slot(slot, old->name));
  if (!now.current && old->current)
    BTFPACK_CHECK(replace_link(slot, kCurrent, *old->current));
  if (!now.previous && old->previous)
    BTFPACK_CHECK(replace_link(slot, kPrevious, *old->previous));
  if (old->highest > now.highest)
    BTFPACK_CHECK(write_file_atomic(slot.dir / kHighest,
                                    std::to_string(old->highest) + "\n"));
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(slot.dir / kRolledBack, ec)) &&
      fs::exists(fs::symlink_status(store / kRolledBack, ec)))
    fs::copy_file(store / kRolledBack, slot.dir / kRolledBack, ec);
  BTFPACK_CHECK(fsync_dir(slot.dir));
  for (const char *f : {kPrevious, kHighest, kRolledBack})
    BTFPACK_CHECK(unlink_if_there(store / f));
  BTFPACK_CHECK(fsync_dir(store));
  log::info("store: migrated ", store.string(), " to names/", old->name, "/");
  return ok();
}

// update_compat keeps <store>/current naming the one installed name's
// bundle, and removes it when there are none or several.
Result<void> update_compat(const fs::path &store) {
  BTFPACK_TRY(states, load_states(store));
  std::optional<std::string> only;
  int installed = 0;
  for (const auto &s : states)
    if (s.current) {
      installed++;
      only = s.current;
    }
  auto top = top_slot(store);
  if (installed == 1)
    return replace_link(top, kCurrent, *only);
  return unlink_if_there(store / kCurrent);
}

// remove_unreferenced deletes bundle files no name's `current` or
// `previous` names.
void remove_unreferenced(const fs::path &store) {
  auto states = load_states(store);
  if (!states)
    return; // keep everything when the store cannot be read
  std::set<std::string> keep;
  for (const auto &s : *states)
    for (const auto &f : {s.current, s.previous})
      if (f)
        keep.insert(*f);
  std::error_code ec;
  std::vector<fs::path> drop;
  for (const auto &e : fs::directory_iterator(store / kBundles, ec)) {
    auto f = e.path().filename().string();
    if (parse_file_name(f) && !keep.count(f))
      drop.push_back(e.path());
  }
  for (const auto &p : drop) {
    fs::remove(p, ec);
    crash_point(12);
  }
}

// installed_names lists the names with a current bundle, for messages.
std::string installed_names(const std::vector<NameState> &states) {
  std::string s;
  for (const auto &st : states)
    if (st.current)
      s += (s.empty() ? "" : ", ") + st.name;
  return s.empty() ? std::string("none") : s;
}

// pick_name resolves an empty name to the only installed one.
Result<std::string> pick_name(const fs::path &store,
                              const std::vector<NameState> &states,
                              const std::string &name, const char *verb) {
  if (!name.empty()) {
    BTFPACK_CHECK(check_bundle_name(name, "bundle name"));
    return name;
  }
  std::vector<std::string> in;
  for (const auto &st : states)
    if (st.current)
      in.push_back(st.name);
  if (in.size() == 1)
    return in[0];
  if (in.empty())
    return make_error(Errc::not_found, "no bundle installed in " +
                                           store.string() +
                                           ": run `btfpack install BUNDLE`");
  return make_error(Errc::invalid_argument,
                    std::string("which bundle should ") + verb + "? " +
                        store.string() + " holds " + installed_names(states) +
                        ": name one (btfpack " + verb + " NAME)");
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

// open_verified opens a store file, checks its signature, the trust policy
// for its name and every blob.
Result<Bundle> open_verified(const fs::path &path, const TrustPolicy &policy,
                             const InstallOptions &opts) {
  OpenOptions oo;
  oo.allow_expired = opts.allow_expired;
  oo.now = opts.now;
  auto b = Bundle::open(path, policy.all(), oo);
  if (!b)
    return policy.about(std::move(b).error());
  BTFPACK_CHECK(policy.check_signer(b->meta().name, b->signer()));
  BTFPACK_CHECK(b->verify_blobs());
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

// describe_unverified: what a store file says about itself (the full
// manifest digest from the file, not the prefix in its name).
StoredBundle describe_unverified(const fs::path &store,
                                 const std::string &file) {
  auto parts = *parse_file_name(file);
  StoredBundle s;
  s.file = file;
  s.name = parts.name;
  s.version = parts.version;
  s.manifest_sha256 = parts.digest;
  OpenOptions oo;
  oo.allow_expired = true;
  if (auto u = Bundle::open_unverified(store / kBundles / file, oo); u) {
    s.name = u->meta().name;
    s.version = u->meta().version;
    s.manifest_sha256 = u->manifest_sha256();
  }
  std::error_code ec;
  s.size = fs::file_size(store / kBundles / file, ec);
  return s;
}

// bundle_name decides the store name of a verified bundle.
Result<std::string> bundle_name(const Bundle &b, const fs::path &src,
                                const InstallOptions &opts) {
  const std::string &m = b.meta().name;
  if (!m.empty() && !opts.name.empty() && m != opts.name)
    return make_error(Errc::invalid_argument,
                      "bundle " + src.string() + " is named '" + m +
                          "' in its signed manifest, not '" + opts.name +
                          "': --name only names a bundle whose manifest has "
                          "none; drop --name");
  std::string n = m.empty() ? opts.name : m;
  if (n.empty())
    return make_error(Errc::invalid_argument,
                      "bundle " + src.string() +
                          " has no name in its manifest: pass --name NAME");
  BTFPACK_CHECK(check_bundle_name(n, "bundle " + src.string() + ": its name"));
  return n;
}

// check_version refuses a downgrade of `name` unless asked.
Result<void> check_version(const fs::path &src, const NameState &st,
                           const fs::path &mark, std::uint64_t version,
                           const InstallOptions &opts) {
  if (opts.allow_downgrade)
    return ok();
  if (st.current) {
    auto cv = parse_file_name(*st.current)->version;
    if (version < cv)
      return make_error(
          Errc::downgrade,
          "refusing to install " + src.string() + " (version " +
              std::to_string(version) + ") over " + st.name + " version " +
              std::to_string(cv) + " (" + *st.current +
              "): pass --allow-downgrade to roll back on purpose");
    if (version == cv)
      return make_error(
          Errc::downgrade,
          "refusing to install " + src.string() + ": " + st.name + " version " +
              std::to_string(cv) +
              " is already installed with different content (" + *st.current +
              "); bump the bundle version, or pass --allow-downgrade");
  }
  // After a rollback (or a remove) `current` is below the high-water mark;
  // a bundle between the two is still older than one this host trusted.
  if (version < st.highest)
    return make_error(
        Errc::downgrade,
        "refusing to install " + src.string() + " (" + st.name + " version " +
            std::to_string(version) + "): this store has installed version " +
            std::to_string(st.highest) + " before (" + mark.string() +
            "), and older bundles stay refused after a rollback or a "
            "remove: pass --allow-downgrade to install it on purpose");
  return ok();
}

// read_name_state reads one name (an old layout's included) and drops
// dangling links; under the lock.
Result<NameState> read_name_state(const fs::path &store,
                                  const std::string &name) {
  auto slot = name_slot(store, name);
  BTFPACK_TRY(st, read_slot(slot, name));
  BTFPACK_CHECK(drop_dangling(store, slot, kCurrent, st.current));
  BTFPACK_CHECK(drop_dangling(store, slot, kPrevious, st.previous));
  return st;
}

// Locked holds the store's lock with the store tidied and migrated.
Result<UniqueFd> lock_and_tidy(const fs::path &store) {
  BTFPACK_TRY(lock, lock_store(store));
  crash_point(1);
  remove_temps(store);
  remove_temps(store / kBundles);
  if (auto dirs = list_name_dirs(store); dirs)
    for (const auto &n : *dirs)
      remove_temps(name_slot(store, n).dir);
  BTFPACK_CHECK(migrate(store));
  return lock;
}

// commit_install raises the mark and swaps the links (install's last part).
Result<void> commit_install(const fs::path &store, const fs::path &src,
                            NameState &st, const std::string &final_name,
                            std::uint64_t version) {
  auto bdir = store / kBundles;
  BTFPACK_TRY(slot, ensure_name_dir(store, st.name));
  crash_point(8);
  // The high-water mark is raised (durably) before `current` moves: when it
  // cannot be written, nothing has changed and the error says so. A crash
  // between the two leaves the mark above current, which only refuses more.
  if (version > st.highest) {
    auto w = write_file_atomic(slot.dir / kHighest,
                               std::to_string(version) + "\n", 0644);
    if (!w) {
      if (!(st.previous && *st.previous == final_name))
        ::unlink((bdir / final_name).c_str());
      return make_error(w.error().code,
                        "install " + src.string() +
                            ": cannot raise the rollback mark: " +
                            w.error().message + "; nothing changed, " +
                            (st.current ? *st.current + " is still current"
                                        : "no bundle is current"));
    }
  }
  if (st.current) {
    BTFPACK_CHECK(replace_link(slot, kPrevious, *st.current));
    crash_point(9);
  }
  BTFPACK_CHECK(replace_link(slot, kCurrent, final_name));
  BTFPACK_CHECK(unlink_if_there(slot.dir / kRolledBack)); // install ends it
  BTFPACK_CHECK(update_compat(store));
  crash_point(10);
  BTFPACK_CHECK(fsync_dir(slot.dir));
  BTFPACK_CHECK(fsync_dir(store));
  crash_point(11);
  remove_unreferenced(store);
  (void)fsync_dir(bdir);
  crash_point(13);
  return ok();
}

} // namespace

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

Result<std::vector<NameState>> Store::names() const {
  return load_states(dir_);
}

Result<fs::path> Store::current_path(const std::string &name) const {
  BTFPACK_TRY(states, load_states(dir_));
  BTFPACK_TRY(n, pick_name(dir_, states, name, "resolve"));
  for (const auto &s : states)
    if (s.name == n && s.current)
      return dir_ / kBundles / *s.current;
  return make_error(Errc::not_found,
                    "no bundle named '" + n + "' is installed in " +
                        dir_.string() +
                        " (installed: " + installed_names(states) + ")");
}

Result<InstallResult> Store::install(const fs::path &bundle,
                                     const TrustPolicy &policy,
                                     const InstallOptions &opts) {
  BTFPACK_TRY(lock, lock_and_tidy(dir_));
  auto bdir = dir_ / kBundles;
  BTFPACK_TRY(tmp, copy_into_store(bundle, bdir));
  RemoveOnExit guard(tmp);
  auto verified = open_verified(tmp, policy, opts);
  if (!verified)
    return with_context(about_source(std::move(verified).error(), tmp, bundle),
                        "verify " + bundle.string());
  const Bundle &b = verified.value();
  BTFPACK_TRY(name, bundle_name(b, bundle, opts));
  crash_point(6);

  InstallResult res;
  auto final_name = file_name_for(b.meta(), b.manifest_sha256());
  res.installed = describe(final_name, b);
  res.installed.name = name;
  res.installed.current = true;
  res.installed.size = fs::file_size(tmp);

  BTFPACK_TRY(st, read_name_state(dir_, name));
  if (st.current && *st.current == final_name) {
    res.unchanged = true;
    BTFPACK_CHECK(update_compat(dir_));
    return res;
  }
  BTFPACK_CHECK(check_version(bundle, st, name_slot(dir_, name).dir / kHighest,
                              b.meta().version, opts));
  if (st.current) {
    res.replaced = describe_unverified(dir_, *st.current);
    res.replaced->previous = true;
  }
  auto final_path = bdir / final_name;
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    return sys_error("rename into", final_path);
  guard.release();
  crash_point(7);
  BTFPACK_CHECK(fsync_dir(bdir));
  BTFPACK_CHECK(commit_install(dir_, bundle, st, final_name, b.meta().version));
  return res;
}

namespace {
// check_rollback refuses a rollback that has nothing to return to.
Result<void> check_rollback(const fs::path &store, const NameState &st,
                            const std::optional<std::string> &prev_named) {
  auto slot = name_slot(store, st.name);
  auto bdir = store / kBundles;
  if (prev_named && !st.previous)
    return make_error(Errc::not_found,
                      "no previous bundle of " + st.name + " in " +
                          store.string() + ": " +
                          (slot.dir / kPrevious).string() + " pointed to " +
                          kBundles + "/" + *prev_named +
                          ", which is gone (the link is removed now); "
                          "install the bundle to go back to again");
  if (!st.previous || (st.current && *st.current == *st.previous))
    return make_error(Errc::not_found, "no previous bundle of " + st.name +
                                           " in " + store.string() +
                                           ": nothing to roll back to");
  if (auto left = read_text_file(slot.dir / kRolledBack, 4096); left.ok()) {
    std::string f = *left;
    while (!f.empty() && (f.back() == '\n' || f.back() == ' '))
      f.pop_back();
    if (f == *st.previous)
      return make_error(
          Errc::downgrade,
          "nothing to roll back to for " + st.name + " in " + store.string() +
              ": the previous bundle " + *st.previous +
              " is the one the last rollback left, so a second rollback "
              "would undo the first; to return to it on purpose, install it "
              "again: btfpack install " +
              (bdir / *st.previous).string());
  }
  return ok();
}
} // namespace

Result<StoredBundle> Store::rollback(const std::string &want,
                                     const TrustPolicy &policy,
                                     const InstallOptions &opts) {
  BTFPACK_TRY(lock, lock_and_tidy(dir_));
  auto bdir = dir_ / kBundles;
  BTFPACK_TRY(states, load_states(dir_));
  BTFPACK_TRY(name, pick_name(dir_, states, want, "rollback"));
  auto slot = name_slot(dir_, name);
  BTFPACK_TRY(raw, read_slot(slot, name));
  BTFPACK_TRY(st, read_name_state(dir_, name));
  BTFPACK_CHECK(check_rollback(dir_, st, raw.previous));
  auto verified = open_verified(bdir / *st.previous, policy, opts);
  if (!verified)
    return with_context(std::move(verified).error(),
                        "refusing to roll back " + name +
                            ": verify previous bundle " +
                            (bdir / *st.previous).string());
  if (verified->meta().name != name)
    return make_error(Errc::corrupt,
                      (slot.dir / kPrevious).string() + " names a bundle of '" +
                          verified->meta().name + "', not of '" + name +
                          "': remove the link and install again");
  if (st.current) {
    BTFPACK_CHECK(
        write_file_atomic(slot.dir / kRolledBack, *st.current + "\n", 0644));
    BTFPACK_CHECK(replace_link(slot, kPrevious, *st.current));
  }
  BTFPACK_CHECK(replace_link(slot, kCurrent, *st.previous));
  BTFPACK_CHECK(update_compat(dir_));
  BTFPACK_CHECK(fsync_dir(slot.dir));
  BTFPACK_CHECK(fsync_dir(dir_));
  auto s = describe(*st.previous, verified.value());
  s.current = true;
  std::error_code ec;
  s.size = fs::file_size(bdir / *st.previous, ec);
  return s;
}

Result<StoredBundle> Store::remove(const std::string &name) {
  BTFPACK_CHECK(check_bundle_name(name, "bundle name"));
  BTFPACK_TRY(lock, lock_and_tidy(dir_));
  BTFPACK_TRY(states, load_states(dir_));
  BTFPACK_TRY(st, read_name_state(dir_, name));
  if (!st.current && !st.previous)
    return make_error(Errc::not_found,
                      "no bundle named '" + name + "' is installed in " +
                          dir_.string() +
                          " (installed: " + installed_names(states) + ")");
  auto slot = name_slot(dir_, name);
  StoredBundle s =
      describe_unverified(dir_, st.current ? *st.current : *st.previous);
  // The high-water mark stays: remove then install older is a downgrade.
  if (st.highest < s.version)
    BTFPACK_CHECK(write_file_atomic(slot.dir / kHighest,
                                    std::to_string(s.version) + "\n", 0644));
  for (const char *f : {kCurrent, kPrevious, kRolledBack})
    BTFPACK_CHECK(unlink_if_there(slot.dir / f));
  BTFPACK_CHECK(fsync_dir(slot.dir));
  BTFPACK_CHECK(update_compat(dir_));
  BTFPACK_CHECK(fsync_dir(dir_));
  remove_unreferenced(dir_);
  (void)fsync_dir(dir_ / kBundles);
  return s;
}

Result<std::vector<StoredBundle>>
Store::list(const TrustPolicy *policy, const InstallOptions &opts) const {
  BTFPACK_TRY(states, load_states(dir_));
  std::vector<StoredBundle> out;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir_ / kBundles, ec)) {
    auto f = e.path().filename().string();
    if (!parse_file_name(f) || !e.is_regular_file(ec))
      continue;
    StoredBundle s = describe_unverified(dir_, f);
    if (policy) {
      auto b = open_verified(e.path(), *policy, opts);
      if (b) {
        auto size = s.size;
        s = describe(f, b.value());
        s.size = size;
      } else {
        s.verify_error = b.error().message;
      }
    }
    for (const auto &st : states) {
      bool cur = st.current && f == *st.current;
      bool prev = st.previous && f == *st.previous;
      if (cur || prev)
        s.name = st.name;
      s.current = s.current || cur;
      s.previous = s.previous || prev;
    }
    out.push_back(std::move(s));
  }
  if (ec)
    return make_error(Errc::io, "read bundle store " + dir_.string() + ": " +
                                    ec.message());
  // A link whose bundle is gone: say so rather than list nothing for it.
  for (const auto &st : states) {
    Slot slot = name_slot(dir_, st.name);
    if (st.current && !bundle_present(dir_, *st.current))
      return dangling_error(slot, kCurrent, *st.current);
    if (st.previous && !bundle_present(dir_, *st.previous))
      return dangling_error(slot, kPrevious, *st.previous);
  }
  auto rank = [](const StoredBundle &s) {
    return s.current ? 0 : s.previous ? 1 : 2;
  };
  std::sort(out.begin(), out.end(), [&](const auto &a, const auto &b) {
    return std::tuple(rank(a), a.name, a.file) <
           std::tuple(rank(b), b.name, b.file);
  });
  return out;
}

} // namespace btfpack
