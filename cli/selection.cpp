// SPDX-License-Identifier: Apache-2.0
#include "selection.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <unistd.h>

#include "btfpack/supplement.h"

namespace btfpack::cli {

namespace fs = std::filesystem;

namespace {

std::string join_some(const std::set<std::string> &items) {
  std::string out;
  std::size_t n = 0;
  for (const auto &i : items) {
    if (n == 12) {
      out += ", … (" + std::to_string(items.size()) + " in all)";
      break;
    }
    out += (out.empty() ? "" : ", ") + i;
    ++n;
  }
  return out;
}

} // namespace

Error no_match_error(const Filter &f, const std::vector<IndexEntry> &all,
                     const std::string &where) {
  const std::string hint =
      "; fix the selection, or pass --allow-empty when no kernel is fine";
  if (all.empty())
    return make_error(
        Errc::not_found,
        where + " holds no kernels (<distro>/<version>/<arch>/<release>"
                ".btf.tar.xz); fetch some with `btfpack fetch --to DIR`, or "
                "pass --allow-empty when no kernel is fine");
  // Narrow level by level and name the first level that matches nothing.
  std::vector<IndexEntry> cur = all;
  auto narrow = [&](auto keep) {
    std::vector<IndexEntry> next;
    for (const auto &e : cur)
      if (keep(e))
        next.push_back(e);
    return next;
  };
  auto values = [&](auto field) {
    std::set<std::string> s;
    for (const auto &e : cur)
      s.insert(field(e));
    return s;
  };
  std::string scope; // "ubuntu/20.04" as the levels narrow
  auto in = [&] { return scope.empty() ? "" : " under " + scope; };
  if (!f.distro.empty()) {
    Filter only{f.distro, "", "", ""};
    auto next = narrow([&](const IndexEntry &e) { return only.matches(e); });
    if (next.empty())
      return make_error(
          Errc::not_found,
          "no distro '" + f.distro + "' in " + where + "; it has " +
              join_some(values([](auto &e) { return e.distro; })) + hint);
    cur = std::move(next);
    scope = f.distro;
  }
  if (!f.version.empty()) {
    Filter only{"", f.version, "", ""};
    auto next = narrow([&](const IndexEntry &e) { return only.matches(e); });
    if (next.empty())
      return make_error(
          Errc::not_found,
          "no version '" + f.version + "'" + in() + " in " + where +
              "; there are " + join_some(values([&](auto &e) {
                return scope.empty() ? e.distro + "/" + e.version : e.version;
              })) +
              hint);
    cur = std::move(next);
    scope += (scope.empty() ? "*/" : "/") + f.version;
  }
  if (!f.arch.empty()) {
    Filter only{"", "", f.arch, ""};
    auto next = narrow([&](const IndexEntry &e) { return only.matches(e); });
    if (next.empty())
      return make_error(
          Errc::not_found,
          "no arch '" + f.arch + "'" + in() + " in " + where + "; it has " +
              join_some(values([](auto &e) { return e.arch; })) + hint);
    cur = std::move(next);
    scope += (scope.empty() ? "" : "/") + f.arch;
  }
  std::set<std::string> releases = values([](auto &e) { return e.release; });
  std::string some;
  std::size_t n = 0;
  for (const auto &r : releases) {
    if (n++ == 3)
      break;
    some += (some.empty() ? "" : ", ") + r;
  }
  return make_error(Errc::not_found,
                    "no release matches '" + f.release_glob + "'" + in() +
                        " in " + where + " (" + std::to_string(cur.size()) +
                        " kernels there, e.g. " + some + ")" + hint);
}

std::vector<IndexEntry> archive_entries(const fs::path &dir) {
  std::vector<IndexEntry> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it.depth() > 3) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec))
      continue;
    auto rel = fs::relative(it->path(), dir, ec).generic_string();
    if (auto e = parse_archive_path(rel); e.ok())
      out.push_back(std::move(*e));
  }
  return out;
}

std::vector<IndexEntry> listing_entries(const std::string &source,
                                        const TransportOptions &transport) {
  std::error_code ec;
  if (fs::is_directory(source, ec))
    return archive_entries(source);
  auto l = load_listing(source, transport);
  return l.ok() ? std::move(l->entries) : std::vector<IndexEntry>{};
}

namespace {

Result<void> writable_dir(const std::string &option, const fs::path &dir,
                          const fs::path &shown) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    // The nearest existing ancestor must be a directory.
    for (fs::path up = dir.parent_path(); !up.empty() && up != up.root_path();
         up = up.parent_path()) {
      if (fs::exists(up, ec)) {
        if (!fs::is_directory(up, ec))
          return make_error(Errc::invalid_argument,
                            option + " " + shown.string() + ": " + up.string() +
                                " exists and is not a directory");
        break;
      }
    }
    fs::create_directories(dir, ec);
    if (ec)
      return make_error(Errc::io, option + " " + shown.string() +
                                      ": cannot create directory " +
                                      dir.string() + ": " + ec.message());
  }
  if (!fs::is_directory(dir, ec))
    return make_error(Errc::invalid_argument,
                      option + " " + shown.string() + ": " + dir.string() +
                          " exists and is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return make_error(Errc::io, option + " " + shown.string() +
                                    ": cannot write in " + dir.string() + ": " +
                                    std::strerror(errno));
  return ok();
}

} // namespace

Result<void> check_output_file(const std::string &option,
                               const fs::path &file) {
  if (file.empty())
    return ok();
  std::error_code ec;
  if (fs::is_directory(file, ec))
    return make_error(Errc::invalid_argument,
                      option + " " + file.string() +
                          " is a directory; give a file name");
  fs::path parent = file.parent_path();
  if (parent.empty())
    parent = ".";
  return writable_dir(option, parent, file);
}

Result<void> check_output_dir(const std::string &option, const fs::path &dir) {
  if (dir.empty())
    return ok();
  return writable_dir(option, dir, dir);
}

Result<std::shared_ptr<Bundle>> open_supplement_base(const fs::path &base,
                                                     const SecretKey &key) {
  PublicKey pub = key.public_key();
  OpenOptions opts;
  opts.allow_expired = true; // an expired base may still get supplements
  auto b = Bundle::open(base, std::span<const PublicKey>(&pub, 1), opts);
  if (!b.ok())
    return with_context(b.error(),
                        "--supplement-of " + base.string() +
                            ": the base must verify with the key that signs "
                            "the supplement (key " +
                            key_id_hex(key.id()) + ")");
  if (b->meta().supplement_of)
    return make_error(Errc::invalid_argument,
                      "--supplement-of " + base.string() +
                          " is itself a supplement: give its base bundle");
  return std::make_shared<Bundle>(std::move(*b));
}

Result<void> check_supplement_objects(const Bundle &base,
                                      const std::vector<fs::path> &objects,
                                      const std::string &out) {
  std::multiset<std::pair<std::string, Sha256>> want, have;
  for (const auto &o : base.meta().objects)
    want.emplace(o.name, o.digest);
  std::string given;
  for (const auto &p : objects) {
    BTFPACK_TRY(d, sha256_file(p));
    have.emplace(p.filename().string(), d);
    given += (given.empty() ? "" : ", ") + p.filename().string() + " (sha256 " +
             to_hex(d).substr(0, 12) + ")";
  }
  if (want == have)
    return ok();
  return make_error(Errc::stale,
                    "objects differ: base " + base.path().string() +
                        " was made for " + objects_text(base.meta().objects) +
                        ", but supplement " + out + " is for " + given +
                        "; a supplement must be generated for exactly the "
                        "base's objects");
}

} // namespace btfpack::cli
