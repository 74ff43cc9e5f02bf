// SPDX-License-Identifier: Apache-2.0
//
// The archive entry model: layout paths, the entry order, filters and the
// in-memory index.
#include <algorithm>
#include <fnmatch.h>
#include <optional>

#include "btfpack/archive_index.h"

namespace btfpack {

namespace {
constexpr std::string_view SUFFIX = ".btf.tar.xz";

Error bad_path(std::string_view path, const std::string &why) {
  return make_error(Errc::invalid_argument,
                    "archive path '" + std::string(path) + "': " + why);
}
} // namespace

bool entry_less(const IndexEntry &a, const IndexEntry &b) {
  if (int c = a.distro.compare(b.distro); c != 0)
    return c < 0;
  if (auto c = natural_compare(a.version, b.version); c != 0)
    return c < 0;
  if (int c = a.arch.compare(b.arch); c != 0)
    return c < 0;
  if (a.release != b.release)
    return KernelRelease::parse(a.release) < KernelRelease::parse(b.release);
  return a.path < b.path;
}

Result<IndexEntry> parse_archive_path(std::string_view rel) {
  if (rel.empty())
    return bad_path(rel, "empty path");
  if (rel.front() == '/')
    return bad_path(rel, "absolute path, expected "
                         "distro/version/arch/release.btf.tar.xz");
  for (char c : rel) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      return bad_path(rel, "control character in path");
    if (c == '\\')
      return bad_path(rel, "backslash in path");
  }
  std::vector<std::string_view> comps;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= rel.size(); i++) {
    if (i == rel.size() || rel[i] == '/') {
      comps.push_back(rel.substr(start, i - start));
      start = i + 1;
    }
  }
  for (auto c : comps) {
    if (c.empty())
      return bad_path(rel, "empty path component");
    if (c == "..")
      return bad_path(rel, "'..' component");
    if (c == ".")
      return bad_path(rel, "'.' component");
    if (c.front() == '.')
      return bad_path(rel, "hidden file or directory");
  }
  if (comps.size() != 4)
    return bad_path(rel, "wrong depth: " + std::to_string(comps.size()) +
                             " components, expected "
                             "distro/version/arch/release.btf.tar.xz");
  auto file = comps[3];
  if (file.size() <= SUFFIX.size() || !file.ends_with(SUFFIX))
    return bad_path(rel, "wrong suffix, expected <release>.btf.tar.xz");
  IndexEntry e;
  e.distro = std::string(comps[0]);
  e.version = std::string(comps[1]);
  e.arch = std::string(comps[2]);
  e.release = std::string(file.substr(0, file.size() - SUFFIX.size()));
  e.path = std::string(rel);
  // The bundle holds each part as a field of 1..255 printable ASCII bytes
  // without spaces (docs/bundle-format.md): a name it cannot hold is refused
  // here, where the scan skips it with this reason, not after every kernel
  // was minimized.
  for (auto [what, v] :
       {std::pair<const char *, const std::string *>{"distro", &e.distro},
        {"version", &e.version},
        {"arch", &e.arch},
        {"release", &e.release}}) {
    bool ok = v->size() <= 255;
    for (unsigned char c : *v)
      ok = ok && c > 0x20 && c < 0x7f;
    if (!ok)
      return bad_path(rel, std::string(what) + " '" + *v +
                               "' is not 1..255 printable ASCII bytes "
                               "without spaces, which a bundle cannot hold");
  }
  return e;
}

bool Filter::matches(const IndexEntry &e) const {
  if (!distro.empty() && e.distro != distro)
    return false;
  if (!version.empty() && e.version != version)
    return false;
  if (!arch.empty()) {
    // --arch aarch64 finds the upstream "arm64" folder and the fork's
    // "aarch64" folder alike.
    auto aliases = arch_aliases(arch);
    if (e.arch != arch &&
        std::find(aliases.begin(), aliases.end(), e.arch) == aliases.end())
      return false;
  }
  if (!release_glob.empty() &&
      ::fnmatch(release_glob.c_str(), e.release.c_str(), 0) != 0)
    return false;
  return true;
}

void Index::sort() {
  // Index files are written sorted: check that first, parsing each release
  // at most once, and sort only when needed.
  {
    bool sorted = true;
    std::optional<KernelRelease> prev;
    for (std::size_t i = 1; i < entries.size() && sorted; i++) {
      const auto &a = entries[i - 1], &b = entries[i];
      std::strong_ordering c = std::strong_ordering::equal;
      if (int d = a.distro.compare(b.distro); d != 0)
        c = d <=> 0;
      else if (auto v = natural_compare(a.version, b.version); v != 0)
        c = v;
      else if (int r = a.arch.compare(b.arch); r != 0)
        c = r <=> 0;
      if (c != 0) {
        sorted = c < 0;
        prev.reset();
        continue;
      }
      if (!prev)
        prev = KernelRelease::parse(a.release);
      auto kb = KernelRelease::parse(b.release);
      c = *prev <=> kb;
      sorted = c < 0 || (c == 0 && a.path <= b.path);
      prev = std::move(kb);
    }
    if (sorted)
      return;
  }
  // entry_less parses releases on every comparison; parse each once here.
  struct Keyed {
    KernelRelease kr;
    IndexEntry *e;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(entries.size());
  for (auto &e : entries)
    keyed.push_back({KernelRelease::parse(e.release), &e});
  std::sort(keyed.begin(), keyed.end(), [](const Keyed &a, const Keyed &b) {
    if (int c = a.e->distro.compare(b.e->distro); c != 0)
      return c < 0;
    if (auto c = natural_compare(a.e->version, b.e->version); c != 0)
      return c < 0;
    if (int c = a.e->arch.compare(b.e->arch); c != 0)
      return c < 0;
    if (auto c = a.kr <=> b.kr; c != 0)
      return c < 0;
    return a.e->path < b.e->path;
  });
  std::vector<IndexEntry> sorted;
  sorted.reserve(entries.size());
  for (auto &k : keyed)
    sorted.push_back(std::move(*k.e));
  entries = std::move(sorted);
}

std::vector<IndexEntry> Index::select(const Filter &f) const {
  std::vector<IndexEntry> out;
  for (const auto &e : entries)
    if (f.matches(e))
      out.push_back(e);
  return out;
}

const IndexEntry *Index::find_path(std::string_view rel_path) const {
  for (const auto &e : entries)
    if (e.path == rel_path)
      return &e;
  return nullptr;
}

} // namespace btfpack
