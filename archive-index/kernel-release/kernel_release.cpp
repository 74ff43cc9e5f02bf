// SPDX-License-Identifier: Apache-2.0
//
// Kernel release parsing. The grammar is loose on purpose: distros agree only
// on a leading "N.N[.N]" upstream version; everything after it is split into
// the distro's build part, a flavour and an architecture suffix by the
// conventions the archive's distros actually use (see kernel_release.h).
#include "btfpack/kernel_release.h"
#include "btfpack/text_util.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace btfpack {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Architecture suffixes as releases spell them, longest first so that
// "armmp-lpae" wins over "lpae" and "686-pae" over "686".
constexpr std::array<std::string_view, 17> ARCH_SUFFIXES = {
    "armmp-lpae", "686-pae", "loongarch64", "aarch64", "ppc64le", "ppc64el",
    "riscv64",    "armv7hl", "x86_64",      "armv7l",  "s390x",   "armmp",
    "amd64",      "arm64",   "i686",        "i386",    "686"};

// The distro markers: el8, amzn2, fc38, deb12, ky10, oe1, an8 (anolis),
// ph4 (photon), lp152 (openSUSE leap), al8 (alinux), uel20 (UnionTech),
// ctl2 (CTyunOS), tl3 (TencentOS), and the bare uek and bclinux.
constexpr std::array<DistroMarker, 15> MARKERS = {{
    {"el", false, true,
     "rhel centos rocky almalinux ol oracle eurolinux circle virtuozzo", true},
    {"amzn", true, true, "amzn", true},
    {"fc", false, true, "fedora", true},
    {"deb", false, true, "debian", true},
    {"ky", false, true, "kylin", false},
    {"oe", false, true, "openeuler bclinux", false},
    {"an", false, true, "anolis", false},
    {"ph", false, true, "photon", false},
    {"lp", false, true, "", false},
    {"al", false, true, "", false},
    {"uel", false, true, "", false},
    {"ctl", false, true, "", false},
    {"tl", false, true, "", false},
    {"uek", true, false, "ol", false},
    {"bclinux", true, false, "bclinux", false},
}};

bool prefix_digit(std::string_view t, std::string_view prefix) {
  return t.size() > prefix.size() && t.substr(0, prefix.size()) == prefix &&
         t[prefix.size()] >= '0' && t[prefix.size()] <= '9';
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// A token "g1a2b3c4..." is a git describe hash, not a flavour.
bool is_git_hash(std::string_view t) {
  if (t.size() < 8 || t[0] != 'g')
    return false;
  return std::all_of(t.begin() + 1, t.end(), [](char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f');
  });
}

void find_markers(std::string_view build, std::vector<std::string> &out) {
  auto comps = split_any(build, ".-+~", EmptyParts::keep);
  for (auto c : comps) {
    // elN, elN_M, elNuek, elN_Muek
    if (c.size() > 2 && c.substr(0, 2) == "el" && is_digit(c[2])) {
      std::size_t i = 2;
      while (i < c.size() && is_digit(c[i]))
        i++;
      if (i + 1 < c.size() && c[i] == '_' && is_digit(c[i + 1])) {
        i++;
        while (i < c.size() && is_digit(c[i]))
          i++;
      }
      auto rest = c.substr(i);
      if (rest.empty() || rest == "uek") {
        out.emplace_back(c.substr(0, i));
        if (rest == "uek")
          out.emplace_back("uek");
      }
      continue;
    }
    for (const auto &m : MARKERS) {
      if (m.prefix == "el")
        continue; // parsed above, with its _M and uek forms
      bool bare = m.bare && c == m.prefix;
      bool digits = m.digits_too && c.size() > m.prefix.size() &&
                    c.substr(0, m.prefix.size()) == m.prefix &&
                    all_digits(c.substr(m.prefix.size()));
      // A bare prefix that also takes digits ("amzn") is a marker to the
      // matcher only, as a release token; the parser keeps "amzn2".
      if ((bare && !m.digits_too) || digits) {
        out.emplace_back(c);
        break;
      }
    }
  }
}

} // namespace

std::span<const DistroMarker> distro_marker_table() {
  return MARKERS;
}

const DistroMarker *find_distro_marker(std::string_view token) {
  for (const auto &m : distro_marker_table())
    if ((m.bare && token == m.prefix) ||
        (m.digits_too && prefix_digit(token, m.prefix)))
      return &m;
  return nullptr;
}

std::vector<std::string> marker_distros(std::string_view token) {
  const DistroMarker *m = find_distro_marker(token);
  if (!m)
    return {};
  auto parts = split_any(m->distros, " ", EmptyParts::drop);
  return {parts.begin(), parts.end()};
}

std::string marker_version(std::string_view token) {
  const DistroMarker *m = find_distro_marker(token);
  if (!m || !m->versioned || !prefix_digit(token, m->prefix))
    return {};
  std::string v;
  for (char c : token.substr(m->prefix.size())) {
    if (!is_digit(c))
      break;
    v += c;
  }
  return v;
}

namespace {

// compare_numeric compares two digit runs as numbers of any length.
std::strong_ordering compare_numeric(std::string_view a, std::string_view b) {
  auto strip = [](std::string_view s) {
    std::size_t i = 0;
    while (i + 1 < s.size() && s[i] == '0')
      i++;
    return s.substr(i);
  };
  a = strip(a);
  b = strip(b);
  if (a.size() != b.size())
    return a.size() <=> b.size();
  int c = a.compare(b);
  return c < 0   ? std::strong_ordering::less
         : c > 0 ? std::strong_ordering::greater
                 : std::strong_ordering::equal;
}

// natural_order is natural_compare without the final byte-wise tie-break.
std::strong_ordering natural_order(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    bool da = is_digit(a[i]), db = is_digit(b[j]);
    if (da && db) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && is_digit(a[ie]))
        ie++;
      while (je < b.size() && is_digit(b[je]))
        je++;
      auto c = compare_numeric(a.substr(i, ie - i), b.substr(j, je - j));
      if (c != 0)
        return c;
      i = ie;
      j = je;
      continue;
    }
    // rpm's rule: a number is newer than anything else at the same place
    // (3.10.0-1160.2.1.el7 after 3.10.0-1160.el7).
    if (da != db)
      return da ? std::strong_ordering::greater : std::strong_ordering::less;
    auto ca = static_cast<unsigned char>(a[i]);
    auto cb = static_cast<unsigned char>(b[j]);
    if (ca != cb)
      return ca <=> cb;
    i++;
    j++;
  }
  return (a.size() - i) <=> (b.size() - j);
}

} // namespace

std::strong_ordering natural_compare(std::string_view a, std::string_view b) {
  auto c = natural_order(a, b);
  if (c != 0)
    return c;
  int r = a.compare(b); // "01" vs "1": equal as numbers, not as strings
  return r < 0   ? std::strong_ordering::less
         : r > 0 ? std::strong_ordering::greater
                 : std::strong_ordering::equal;
}

KernelRelease KernelRelease::parse(std::string_view release) {
  KernelRelease k;
  k.raw_ = std::string(release);

  // Upstream version: at least two dot-separated numbers.
  std::size_t i = 0;
  std::vector<std::uint64_t> ver;
  while (true) {
    std::size_t start = i;
    std::uint64_t n = 0;
    if (i < release.size() && is_digit(release[i])) {
      const char *end = release.data() + release.size();
      auto [p, ec] = std::from_chars(release.data() + i, end, n);
      if (ec != std::errc())
        return k; // absurd number: not a release, keep it opaque
      i = static_cast<std::size_t>(p - release.data());
    }
    if (i == start) {
      // "5.4." is not a version: back off to before the dot
      if (start > 0 && release[start - 1] == '.')
        i = start - 1;
      break;
    }
    ver.push_back(n);
    if (i + 1 < release.size() && release[i] == '.' && is_digit(release[i + 1]))
      i++;
    else
      break;
  }
  if (ver.size() < 2)
    return k;
  // The version must end at a separator ("5.4.0-1036", "6.12.107+deb12",
  // "4.18.0.x86_64") or the end, not inside a word ("5.10abc").
  std::string_view rest = release.substr(i);
  if (!rest.empty() && rest[0] != '-' && rest[0] != '+' && rest[0] != '.' &&
      rest[0] != '_' && rest[0] != '~')
    return k;
  k.opaque_ = false;
  k.version_ = std::move(ver);

  // RHEL debug kernels: "4.18.0-305.el8.x86_64+debug".
  for (std::string_view f : {"+debug", "+rt", "+64k"}) {
    if (rest.size() > f.size() && rest.ends_with(f)) {
      k.flavour_ = std::string(f.substr(1));
      rest.remove_suffix(f.size());
      break;
    }
  }

  // Architecture suffix: ".x86_64" (rpm) or "-amd64" (deb).
  for (auto a : ARCH_SUFFIXES) {
    if (rest.size() > a.size() && rest.ends_with(a)) {
      char sep = rest[rest.size() - a.size() - 1];
      if (sep == '.' || sep == '-' || sep == '_') {
        k.arch_ = std::string(a);
        rest.remove_suffix(a.size() + 1);
        break;
      }
    }
  }

  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+' || rest[0] == '.' ||
                        rest[0] == '_' || rest[0] == '~'))
    rest.remove_prefix(1);

  // Build part, then flavour: the flavour starts at the first '-'-token
  // after the first that begins with a letter and is not a git hash
  // ("1036-aws", "47-cloud", "1008-generic-64k", "150300.59.87-default").
  std::vector<std::string_view> toks;
  if (!rest.empty())
    toks = split_any(rest, "-", EmptyParts::keep);
  std::size_t fl = toks.size();
  for (std::size_t t = 1; t < toks.size(); t++) {
    if (!toks[t].empty() && is_alpha(toks[t][0]) && !is_git_hash(toks[t])) {
      fl = t;
      break;
    }
  }
  std::string build, flavour;
  for (std::size_t t = 0; t < toks.size(); t++) {
    std::string &dst = t < fl ? build : flavour;
    if (!dst.empty())
      dst += '-';
    dst += toks[t];
  }
  // RHEL real-time kernels carry the flavour inside the build:
  // "4.18.0-305.rt7.72.el8".
  if (flavour.empty() && k.flavour_.empty()) {
    auto comps = split_any(build, ".", EmptyParts::keep);
    for (auto c : comps) {
      if (c.size() > 2 && c.substr(0, 2) == "rt" && all_digits(c.substr(2))) {
        flavour = "rt";
        break;
      }
    }
  }
  k.build_ = std::move(build);
  if (k.flavour_.empty())
    k.flavour_ = std::move(flavour);
  find_markers(k.build_, k.markers_);
  return k;
}

std::strong_ordering KernelRelease::operator<=>(const KernelRelease &o) const {
  if (opaque_ != o.opaque_)
    return opaque_ ? std::strong_ordering::greater : std::strong_ordering::less;
  if (!opaque_) {
    if (auto c = std::lexicographical_compare_three_way(
            version_.begin(), version_.end(), o.version_.begin(),
            o.version_.end());
        c != 0)
      return c;
    if (auto c = natural_order(build_, o.build_); c != 0)
      return c;
    if (auto c = natural_order(flavour_, o.flavour_); c != 0)
      return c;
    if (auto c = natural_order(arch_, o.arch_); c != 0)
      return c;
  }
  return natural_compare(raw_, o.raw_);
}

std::string archive_arch(std::string_view machine) {
  if (machine == "aarch64" || machine == "arm64")
    return "arm64";
  if (machine == "amd64" || machine == "x86_64")
    return "x86_64";
  return std::string(machine);
}

std::vector<std::string> arch_aliases(std::string_view arch) {
  std::string a = archive_arch(arch);
  if (a == "arm64")
    return {"arm64", "aarch64"};
  if (a == "x86_64")
    return {"x86_64", "amd64"};
  return {a};
}

} // namespace btfpack
