// SPDX-License-Identifier: Apache-2.0
#include "build_config.h"

#include <glob.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "btfpack/c_free.h"
#include "btfpack/file_util.h"

namespace btfpack::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Error bad(const std::string &name, const std::string &what) {
  return make_error(Errc::invalid_argument, name + ": " + what);
}

Result<void> only_keys(const json &obj, const std::string &where,
                       std::initializer_list<const char *> allowed,
                       const std::string &name) {
  if (!obj.is_object())
    return bad(name, where + " must be an object");
  std::set<std::string> ok(allowed.begin(), allowed.end());
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!ok.count(it.key()))
      return bad(name, "unknown key '" + it.key() + "' in " + where);
  }
  return btfpack::ok();
}

Result<std::string> get_string(const json &obj, const char *key,
                               const std::string &where,
                               const std::string &name) {
  if (!obj.contains(key))
    return std::string();
  if (!obj[key].is_string())
    return bad(name, where + "." + key + " must be a string");
  return obj[key].get<std::string>();
}

Result<std::uint64_t> get_uint(const json &obj, const char *key,
                               const std::string &where,
                               const std::string &name, std::uint64_t def) {
  if (!obj.contains(key))
    return def;
  if (!obj[key].is_number_unsigned())
    return bad(name, where + "." + key + " must be a non-negative integer");
  return obj[key].get<std::uint64_t>();
}

fs::path rel(const fs::path &base, const std::string &p) {
  if (p.empty())
    return {};
  fs::path q(p);
  return q.is_absolute() ? q : base / q;
}

// An archive URL that is a local path is relative to the config too.
std::string rel_url(const fs::path &base, const std::string &u) {
  if (u.empty() || u.find("://") != std::string::npos)
    return u;
  return rel(base, u).string();
}

} // namespace

Result<BuildConfig> parse_build_config(std::string_view text,
                                       const std::string &name,
                                       const fs::path &base) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error &e) {
    // nlohmann gives a byte offset (1-based, at the bad character); users
    // want the line and column their editor shows.
    std::size_t at = e.byte > 0 ? e.byte - 1 : 0, line = 1, col = 1;
    for (std::size_t i = 0; i < at && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line L, column C:
    // syntax error ..." -> "syntax error ..."
    if (auto c = what.find("column"), q = what.find(": ", c);
        c != std::string::npos && q != std::string::npos)
      what = what.substr(q + 2);
    else if (auto r = what.find("] "); r != std::string::npos)
      what = what.substr(r + 2);
    return bad(name, "not valid JSON at line " + std::to_string(line) +
                         ", column " + std::to_string(col) + ": " + what);
  }
  BTFPACK_CHECK(
      only_keys(j, "the configuration",
                {"archive", "select", "objects", "custom_kernels", "signing",
                 "bundle", "report", "out", "cache_dir", "shard", "jobs",
                 "fetch_jobs", "allow_failures", "$comment"},
                name));
  BuildConfig c;
  if (j.contains("archive")) {
    const auto &a = j["archive"];
    BTFPACK_CHECK(
        only_keys(a, "archive", {"url", "listing", "mirror", "dir"}, name));
    BTFPACK_TRY(url, get_string(a, "url", "archive", name));
    BTFPACK_TRY(listing, get_string(a, "listing", "archive", name));
    BTFPACK_TRY(mirror, get_string(a, "mirror", "archive", name));
    BTFPACK_TRY(dir, get_string(a, "dir", "archive", name));
    if (!url.empty() && !dir.empty())
      return bad(name, "archive.url and archive.dir exclude each other");
    c.archive_url = rel_url(base, url);
    c.listing = rel_url(base, listing);
    c.mirror = rel(base, mirror);
    c.archive_dir = rel(base, dir);
  }
  if (j.contains("select")) {
    const auto &s = j["select"];
    BTFPACK_CHECK(
        only_keys(s, "select", {"distro", "version", "arch", "release"}, name));
    BTFPACK_TRY(d, get_string(s, "distro", "select", name));
    BTFPACK_TRY(v, get_string(s, "version", "select", name));
    BTFPACK_TRY(a, get_string(s, "arch", "select", name));
    BTFPACK_TRY(r, get_string(s, "release", "select", name));
    c.select = Filter{d, v, a, r};
  }
  for (const char *key : {"objects", "custom_kernels"}) {
    if (!j.contains(key))
      continue;
    if (!j[key].is_array())
      return bad(name, std::string(key) + " must be an array of paths");
    for (const auto &o : j[key]) {
      if (!o.is_string())
        return bad(name, std::string(key) + " must be an array of paths");
      auto p = rel(base, o.get<std::string>());
      if (std::string(key) == "objects")
        c.objects.push_back(p.string());
      else
        c.custom_kernels.push_back(p);
    }
  }
  if (j.contains("signing")) {
    const auto &s = j["signing"];
    BTFPACK_CHECK(only_keys(s, "signing", {"key_file", "key_env"}, name));
    BTFPACK_TRY(kf, get_string(s, "key_file", "signing", name));
    BTFPACK_TRY(ke, get_string(s, "key_env", "signing", name));
    c.key_file = rel(base, kf);
    if (!ke.empty())
      c.key_env = ke;
  }
  if (j.contains("bundle")) {
    const auto &b = j["bundle"];
    BTFPACK_CHECK(only_keys(
        b, "bundle",
        {"name", "version", "valid_days", "output", "supplement_of"}, name));
    BTFPACK_TRY(n, get_string(b, "name", "bundle", name));
    if (!n.empty())
      c.name = n;
    BTFPACK_TRY(v, get_uint(b, "version", "bundle", name, 0));
    c.version = v;
    BTFPACK_TRY(d, get_uint(b, "valid_days", "bundle", name, 0));
    if (d > 100 * 365)
      return bad(name, "bundle.valid_days is more than a century");
    c.valid_days = static_cast<std::int64_t>(d);
    BTFPACK_TRY(o, get_string(b, "output", "bundle", name));
    c.bundle = rel(base, o);
    BTFPACK_TRY(so, get_string(b, "supplement_of", "bundle", name));
    c.supplement_of = rel(base, so);
  }
  BTFPACK_TRY(report, get_string(j, "report", "", name));
  c.report = rel(base, report);
  BTFPACK_TRY(out, get_string(j, "out", "", name));
  c.out = rel(base, out);
  BTFPACK_TRY(cache, get_string(j, "cache_dir", "", name));
  c.cache_dir = rel(base, cache);
  BTFPACK_TRY(shard, get_string(j, "shard", "", name));
  c.shard = shard;
  BTFPACK_TRY(jobs, get_uint(j, "jobs", "", name, 0));
  BTFPACK_TRY(fjobs, get_uint(j, "fetch_jobs", "", name, 8));
  if (jobs > 4096 || fjobs > 4096 || fjobs == 0)
    return bad(name, "jobs and fetch_jobs must be 1..4096 (jobs 0: per core)");
  c.jobs = static_cast<unsigned>(jobs);
  c.fetch_jobs = static_cast<unsigned>(fjobs);
  if (j.contains("allow_failures")) {
    if (!j["allow_failures"].is_boolean())
      return bad(name, "allow_failures must be true or false");
    c.allow_failures = j["allow_failures"].get<bool>();
  }
  return c;
}

Result<BuildConfig> read_build_config(const fs::path &path) {
  BTFPACK_TRY(text, read_text_file(path, 1 << 20));
  auto base = path.parent_path();
  if (base.empty())
    base = ".";
  return parse_build_config(text, path.string(), base);
}

Result<std::vector<fs::path>>
expand_objects(const std::vector<std::string> &patterns) {
  std::vector<fs::path> out;
  for (const auto &p : patterns) {
    if (p.find_first_of("*?[") == std::string::npos) {
      out.emplace_back(p);
      continue;
    }
    glob_t g{};
    int rc = ::glob(p.c_str(), 0, nullptr, &g);
    std::unique_ptr<glob_t, CFree<globfree>> owner(&g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0))
      return make_error(Errc::not_found,
                        "object pattern '" + p +
                            "' matches no file: build the BPF objects first");
    if (rc != 0)
      return make_error(Errc::io, "expand object pattern '" + p + "'");
    std::vector<fs::path> found;
    for (std::size_t i = 0; i < g.gl_pathc; i++)
      found.emplace_back(g.gl_pathv[i]);
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

} // namespace btfpack::cli
