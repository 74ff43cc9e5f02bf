// SPDX-License-Identifier: Apache-2.0
#include "btfpack/match.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "btfpack/kernel_release.h"
#include "btfpack/text_util.h"

namespace btfpack {

namespace {

std::string key_str(const KernelKey &k) {
  return k.distro + "/" + k.version + "/" + k.arch + "/" + k.release;
}

std::string short_digest(const Sha256 &d) {
  return to_hex(d).substr(0, 12);
}

bool has(const std::vector<std::string> &v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Rebuild families: distros that ship the same kernels under another name.
// Used like ID_LIKE, and like it only for identical release strings.
const std::vector<std::vector<std::string>> &families() {
  // The RHEL and openEuler families are the distros their release markers
  // name (the one table in kernel_release.h).
  static const std::vector<std::vector<std::string>> f = {
      marker_distros("el8"),
      {"sles", "sled", "opensuse-leap", "opensuse", "sle-micro"},
      marker_distros("oe1"),
  };
  return f;
}

bool same_family(std::string_view a, std::string_view b) {
  for (const auto &fam : families())
    if (has(fam, a) && has(fam, b))
      return true;
  return false;
}

// tokens splits a release on . - + _ ~ into its (non-empty) parts.
std::vector<std::string> tokens(std::string_view s) {
  auto parts = split_any(s, ".-+_~", EmptyParts::drop);
  return {parts.begin(), parts.end()};
}

std::vector<std::string> release_markers(std::string_view release) {
  std::vector<std::string> out;
  const KernelRelease kr = KernelRelease::parse(release);
  for (const auto &m : kr.distro_markers())
    if (!has(out, m))
      out.push_back(m);
  for (const auto &t : tokens(release))
    if (!marker_distros(t).empty() && !has(out, t))
      out.push_back(t);
  return out;
}

// hint_distro_known: the archive can hold DISTRO: the bundle has it (it
// was built from the archive) or btfhub-archive keeps such a folder.
bool hint_distro_known(std::string_view distro,
                       std::span<const BundleEntry> entries) {
  for (const auto &e : entries)
    if (e.kernel.distro == distro)
      return true;
  static const std::vector<std::string> btfhub = {
      "amzn", "centos", "debian", "fedora", "ol", "sles", "ubuntu"};
  return has(btfhub, distro);
}

bool arch_ok(std::string_view entry_arch, std::string_view host_arch) {
  return archive_arch(entry_arch) == host_arch ||
         has(arch_aliases(host_arch), entry_arch);
}

int rank(MatchKind k) {
  switch (k) {
  case MatchKind::exact:
    return 0;
  case MatchKind::version_normalized:
    return 1;
  case MatchKind::other_version:
    return 2;
  case MatchKind::id_like:
    return 3;
  case MatchKind::kernel_first:
    return 4;
  default:
    return 9;
  }
}

// numeric_distance describes how far two releases are apart at their first
// differing numeric part ("12 builds").
std::string numeric_distance(std::string_view a, std::string_view b) {
  auto ta = tokens(a), tb = tokens(b);
  for (std::size_t i = 0; i < std::min(ta.size(), tb.size()); i++) {
    if (ta[i] == tb[i])
      continue;
    bool na =
        !ta[i].empty() && std::all_of(ta[i].begin(), ta[i].end(), ::isdigit);
    bool nb =
        !tb[i].empty() && std::all_of(tb[i].begin(), tb[i].end(), ::isdigit);
    if (na && nb && ta[i].size() < 18 && tb[i].size() < 18) {
      auto x = std::stoull(ta[i]), y = std::stoull(tb[i]);
      auto d = x > y ? x - y : y - x;
      return std::to_string(d) + " apart in part " + std::to_string(i + 1) +
             " (" + ta[i] + " vs " + tb[i] + ")";
    }
    return "differs at part " + std::to_string(i + 1);
  }
  return "differs in suffix";
}

std::string host_line(const HostFacts &h) {
  std::string s =
      "kernel " + h.kernel_release.value + ", arch " + h.arch.value + ", os ";
  if (h.os_id.present())
    s +=
        h.os_id.value + " " +
        (h.os_version_id.present() ? h.os_version_id.value : "(no VERSION_ID)");
  else
    s += "unknown (" + h.os_id.source + ")";
  return s;
}

} // namespace

const char *match_kind_name(MatchKind k) noexcept {
  switch (k) {
  case MatchKind::none:
    return "none";
  case MatchKind::native:
    return "native";
  case MatchKind::exact:
    return "exact";
  case MatchKind::version_normalized:
    return "version_normalized";
  case MatchKind::other_version:
    return "other_version";
  case MatchKind::id_like:
    return "id_like";
  case MatchKind::kernel_first:
    return "kernel_first";
  case MatchKind::nearest:
    return "nearest";
  case MatchKind::nearest_unsafe:
    return "nearest_unsafe";
  }
  return "none";
}

std::vector<std::string> release_distros(std::string_view release) {
  std::vector<std::string> out;
  for (const auto &m : release_markers(release))
    for (auto &d : marker_distros(m))
      if (!has(out, d))
        out.push_back(d);
  return out;
}

std::string normalize_version(std::string_view version_id,
                              std::span<const std::string> bundle_versions) {
  std::string v(version_id);
  while (!v.empty()) {
    if (std::find(bundle_versions.begin(), bundle_versions.end(), v) !=
        bundle_versions.end())
      return v;
    auto dot = v.find_last_of(".");
    if (dot == std::string::npos)
      break;
    v.resize(dot);
  }
  return {};
}

MatchDecision match_host(const HostFacts &host,
                         std::span<const BundleEntry> entries,
                         const MatchPolicy &policy) {
  MatchDecision d;
  d.entries_scanned = entries.size();
  const std::string &R = host.kernel_release.value;
  const std::string &A = host.arch.value;
  const std::string &D = host.os_id.value;
  const std::string &V = host.os_version_id.value;
  const auto L = host.id_like();
  const auto markers = release_markers(R);
  const auto marker_ds = release_distros(R);

  // The versions the bundle keeps for the host's distro (its layout).
  std::vector<std::string> versions;
  for (const auto &e : entries)
    if (e.kernel.distro == D && !has(versions, e.kernel.version))
      versions.push_back(e.kernel.version);
  std::string normV =
      D.empty() ? std::string() : normalize_version(V, versions);
  if (!normV.empty() && normV != V)
    d.normalized_version = normV;

  // 1. Every entry with the identical release string, anywhere.
  for (const auto &e : entries) {
    if (e.kernel.release != R)
      continue;
    Candidate c{e, MatchKind::none, false, {}};
    const auto &k = e.kernel;
    if (!arch_ok(k.arch, A)) {
      c.reason = "arch " + k.arch + " is not the host's " + A;
    } else if (!D.empty() && k.distro == D && k.version == V) {
      c.kind = MatchKind::exact;
    } else if (!D.empty() && k.distro == D && !normV.empty() &&
               k.version == normV) {
      c.kind = MatchKind::version_normalized;
    } else if (!D.empty() && k.distro == D) {
      c.kind = MatchKind::other_version;
    } else if (!D.empty() && (has(L, k.distro) || same_family(D, k.distro))) {
      c.kind = MatchKind::id_like;
    } else if (!marker_ds.empty() && !has(marker_ds, k.distro)) {
      std::string ms;
      for (const auto &m : markers)
        ms += (ms.empty() ? "" : ", ") + m;
      c.reason = "release markers (" + ms + ") do not name " + k.distro;
    } else {
      c.kind = MatchKind::kernel_first;
    }
    d.candidates.push_back(std::move(c));
  }

  // Pick the best tier; inside it, ID_LIKE order decides, then the blob must
  // be the same for every remaining candidate or the choice is ambiguous.
  int best = 9;
  for (const auto &c : d.candidates)
    if (c.kind != MatchKind::none)
      best = std::min(best, rank(c.kind));
  if (best < 9) {
    std::vector<Candidate *> tier;
    for (auto &c : d.candidates)
      if (c.kind != MatchKind::none && rank(c.kind) == best)
        tier.push_back(&c);
    if (tier.front()->kind == MatchKind::id_like) {
      // ID_LIKE lists the closest distro first.
      auto pos = [&](const Candidate *c) {
        auto it = std::find(L.begin(), L.end(), c->entry.kernel.distro);
        return it == L.end() ? L.size() : std::size_t(it - L.begin());
      };
      std::size_t first = pos(tier.front());
      for (auto *c : tier)
        first = std::min(first, pos(c));
      std::erase_if(tier, [&](Candidate *c) {
        if (pos(c) == first)
          return false;
        c->reason =
            "ID_LIKE lists another distro before " + c->entry.kernel.distro;
        return true;
      });
    }
    if (tier.front()->kind == MatchKind::kernel_first && !marker_ds.empty()) {
      std::erase_if(tier, [&](Candidate *c) {
        if (has(marker_ds, c->entry.kernel.distro))
          return false;
        c->reason = "release markers do not name " + c->entry.kernel.distro;
        return true;
      });
    }
    std::set<Sha256> blobs;
    for (auto *c : tier)
      blobs.insert(c->entry.blob);
    if (blobs.size() > 1) {
      std::string names;
      for (auto *c : tier) {
        names += (names.empty() ? "" : ", ") + key_str(c->entry.kernel) + " (" +
                 short_digest(c->entry.blob) + ")";
        c->reason = "ambiguous: same release with different BTFs";
      }
      d.error = make_error(
          Errc::no_match,
          "ambiguous match for " + host_line(host) + ": " + names +
              " hold different BTFs for the same release; set the os "
              "facts (--os-release or a correct /etc/os-release) to choose");
    } else if (!tier.empty()) {
      Candidate *win = tier.front();
      win->won = true;
      d.kind = win->kind;
      d.chosen = win->entry;
      const auto &k = win->entry.kernel;
      switch (d.kind) {
      case MatchKind::exact:
        win->reason = "exact match on distro, version, arch and release";
        break;
      case MatchKind::version_normalized:
        win->reason = "VERSION_ID " + V + " normalised to " + normV +
                      " (the bundle keeps " + D + " versions as folders " +
                      [&] {
                        std::string s;
                        for (const auto &v : versions)
                          s += (s.empty() ? "" : ", ") + v;
                        return s;
                      }() +
                      "), identical release";
        break;
      case MatchKind::other_version:
        win->reason = "identical release under " + D + " version " + k.version +
                      " (host says " +
                      (V.empty() ? std::string("no VERSION_ID") : V) + ")";
        break;
      case MatchKind::id_like:
        win->reason = (has(L, k.distro) ? "ID_LIKE names " + k.distro
                                        : D + " and " + k.distro +
                                              " are one rebuild family") +
                      ", identical release";
        break;
      case MatchKind::kernel_first: {
        std::string why =
            marker_ds.empty()
                ? "the release is in the bundle only under " + k.distro
                : "release markers name " + k.distro;
        win->reason = "kernel-first: identical release; " + why;
        d.os_release_overruled = true;
        std::string os =
            D.empty() ? "os-release gave no ID (" + host.os_id.source + ")"
                      : "os-release says " + D + " " + V + " (" +
                            host.os_id.source + ")";
        d.warnings.push_back(os + "; overruled by the kernel release: " + why +
                             ", so " + key_str(k) + " is used");
        break;
      }
      default:
        break;
      }
      for (auto &c : d.candidates) {
        if (c.won || !c.reason.empty())
          continue;
        if (c.entry.blob == win->entry.blob)
          c.reason = std::string("same BTF as the winner, weaker match (") +
                     match_kind_name(c.kind) + ")";
        else
          c.reason = std::string("weaker match (") + match_kind_name(c.kind) +
                     ") than " + match_kind_name(d.kind);
      }
      d.summary = std::string(match_kind_name(d.kind)) +
                  " match: " + key_str(k) + " (" + win->reason + ")";
    }
  }

  // 2. No identical release: neighbours of the same distro/version/arch/
  // flavour, only when the caller allows it.
  if (!d.matched() && !d.error) {
    // Scope: the host's distro and (normalised) version, or what the
    // release's markers name when os-release is missing.
    std::string sd = D, sv = normV.empty() ? V : normV;
    bool scope_ok = false;
    for (const auto &e : entries)
      if (e.kernel.distro == sd && e.kernel.version == sv &&
          arch_ok(e.kernel.arch, A))
        scope_ok = true;
    if (!scope_ok) {
      for (const auto &m : markers) {
        std::string mv = marker_version(m);
        for (const auto &md : marker_distros(m)) {
          for (const auto &e : entries) {
            if (e.kernel.distro == md && arch_ok(e.kernel.arch, A) &&
                (mv.empty() || e.kernel.version == mv ||
                 normalize_version(
                     mv, std::vector<std::string>{e.kernel.version}) ==
                     e.kernel.version)) {
              sd = md;
              sv = e.kernel.version;
              scope_ok = true;
              break;
            }
          }
          if (scope_ok)
            break;
        }
        if (scope_ok)
          break;
      }
    }
    KernelRelease kr = KernelRelease::parse(R);
    const BundleEntry *lo = nullptr, *hi = nullptr;
    std::vector<const BundleEntry *> any_lo, any_hi; // same flavour, for errors
    if (scope_ok) {
      for (const auto &e : entries) {
        const auto &k = e.kernel;
        if (k.distro != sd || k.version != sv || !arch_ok(k.arch, A))
          continue;
        KernelRelease er = KernelRelease::parse(k.release);
        bool below = er < kr;
        if (er.flavour() != kr.flavour())
          continue;
        (below ? any_lo : any_hi).push_back(&e);
        if (below && (!lo || KernelRelease::parse(lo->kernel.release) < er))
          lo = &e;
        if (!below && (!hi || er < KernelRelease::parse(hi->kernel.release)))
          hi = &e;
      }
    }
    std::string flav = kr.flavour().empty() ? "(none)" : kr.flavour();
    std::string scope = sd + "/" + sv + "/" + A + " flavour " + flav;
    auto add_neighbour = [&](const BundleEntry *e, const char *side) {
      if (!e)
        return;
      Candidate c{*e, MatchKind::none, false, {}};
      c.reason = std::string("nearest ") + side + " release in " + scope +
                 " (distance " + numeric_distance(R, e->kernel.release) + ")";
      d.candidates.push_back(std::move(c));
    };
    add_neighbour(lo, "lower");
    add_neighbour(hi, "higher");
    bool safe = lo && hi && lo->blob == hi->blob;
    if (lo || hi) {
      d.distance = std::string("lower ") +
                   (lo ? lo->kernel.release + " (" +
                             numeric_distance(R, lo->kernel.release) + ")"
                       : "none") +
                   ", higher " +
                   (hi ? hi->kernel.release + " (" +
                             numeric_distance(R, hi->kernel.release) + ")"
                       : "none");
    }
    if ((policy.allow_nearest || policy.allow_nearest_unsafe) && safe) {
      auto &c = d.candidates[d.candidates.size() - 2];
      c.won = true;
      c.kind = MatchKind::nearest;
      c.reason += "; its neighbours " + lo->kernel.release + " and " +
                  hi->kernel.release + " share one BTF (" +
                  short_digest(lo->blob) + ")";
      d.candidates.back().kind = MatchKind::nearest;
      d.candidates.back().reason += "; same BTF as the lower neighbour";
      d.kind = MatchKind::nearest;
      d.chosen = *lo;
      d.warnings.push_back("WARNING: kernel " + R +
                           " is not in the bundle; using the BTF its "
                           "neighbours " +
                           lo->kernel.release + " and " + hi->kernel.release +
                           " share (--allow-nearest; " + d.distance + ")");
      d.summary = "nearest match: " + R + " between " + lo->kernel.release +
                  " and " + hi->kernel.release + " in " + scope +
                  ", which minimized to the same BTF";
    } else if (policy.allow_nearest_unsafe && (lo || hi)) {
      const BundleEntry *pick = lo ? lo : hi;
      for (auto &c : d.candidates)
        if (c.entry.kernel == pick->kernel && c.kind == MatchKind::none &&
            !c.won) {
          c.won = true;
          c.kind = MatchKind::nearest_unsafe;
          c.reason += "; chosen UNSAFELY: its neighbours differ";
          break;
        }
      d.kind = MatchKind::nearest_unsafe;
      d.chosen = *pick;
      d.unsafe = true;
      d.warnings.push_back(
          "WARNING: UNSAFE: kernel " + R + " is not in the bundle; using " +
          pick->kernel.release +
          "'s BTF although its neighbours do not share one BTF "
          "(--allow-nearest-unsafe; " +
          d.distance + "); CO-RE reads may return garbage");
      d.summary =
          "UNSAFE nearest match: " + key_str(pick->kernel) + " for kernel " + R;
    } else {
      for (auto &c : d.candidates)
        if (c.kind == MatchKind::none && c.reason.find("nearest") == 0) {
          if (!policy.allow_nearest)
            c.reason += "; not used: a different release needs --allow-nearest";
          else if (!safe)
            c.reason += lo && hi ? "; refused: the neighbours " +
                                       lo->kernel.release + " and " +
                                       hi->kernel.release +
                                       " minimized to different BTFs"
                                 : std::string("; refused: the release has a "
                                               "neighbour on one side only");
        }
      std::string near;
      auto list = [&](const std::vector<const BundleEntry *> &v, bool low) {
        std::vector<const BundleEntry *> s = v;
        std::sort(s.begin(), s.end(), [](auto *a, auto *b) {
          return KernelRelease::parse(a->kernel.release) <
                 KernelRelease::parse(b->kernel.release);
        });
        if (low && s.size() > 2)
          s.erase(s.begin(), s.end() - 2);
        if (!low && s.size() > 2)
          s.resize(2);
        for (auto *e : s)
          near += (near.empty() ? "" : ", ") + key_str(e->kernel);
      };
      list(any_lo, true);
      list(any_hi, false);
      // The host's own distro group: its ID, the distro its release
      // markers led to, and the ID_LIKE distros (never other groups).
      std::vector<std::string> group;
      for (const auto &g : {D, sd})
        if (!g.empty() && !has(group, g))
          group.push_back(g);
      for (const auto &l : L)
        if (!has(group, l))
          group.push_back(l);
      if (near.empty() && scope_ok) {
        near = "none of flavour " + flav + " in " + sd + "/" + sv + "/" + A;
      } else if (near.empty()) {
        // Nothing in scope: show the host group's versions for this arch.
        std::vector<std::string> ds;
        for (const auto &e : entries)
          if (arch_ok(e.kernel.arch, A) && has(group, e.kernel.distro)) {
            std::string k = e.kernel.distro + "/" + e.kernel.version;
            if (!has(ds, k))
              ds.push_back(k);
          }
        for (std::size_t i = 0; i < ds.size() && i < 8; i++)
          near += (near.empty() ? "" : ", ") + ds[i] + "/" + A;
        if (ds.size() > 8)
          near += ", ...";
        bool arch_known = false;
        for (const auto &e : entries)
          arch_known = arch_known || arch_ok(e.kernel.arch, A);
        if (near.empty() && !arch_known) {
          near = "none for arch " + A;
        } else if (near.empty()) {
          std::string gs;
          for (const auto &g : group)
            gs += (gs.empty() ? "" : " or ") + g;
          near = "none for " + (gs.empty() ? std::string("this distro") : gs) +
                 " on " + A;
        }
      }
      // The archive path to look for: a distro the archive can have (the
      // bundle's, else btfhub's), the ID_LIKE one when the host's ID is not.
      std::string hd = sd, hv = sv;
      if (!hd.empty() && !hint_distro_known(hd, entries)) {
        std::vector<std::string> tries(L.begin(), L.end());
        for (const auto &fam : families())
          if (has(fam, D))
            for (const auto &f : fam)
              if (!has(tries, f))
                tries.push_back(f);
        for (const auto &t : tries)
          if (t != hd && hint_distro_known(t, entries)) {
            std::vector<std::string> tv;
            for (const auto &e : entries)
              if (e.kernel.distro == t && !has(tv, e.kernel.version))
                tv.push_back(e.kernel.version);
            hv = normalize_version(V, tv);
            if (hv.empty())
              hv = V.substr(0, V.find('.'));
            hd = t;
            break;
          }
      }
      std::string why;
      if (policy.allow_nearest && (lo || hi) && !safe)
        why = "; --allow-nearest refused: " +
              (lo && hi ? "the neighbouring releases " + lo->kernel.release +
                              " and " + hi->kernel.release +
                              " minimized to different BTFs"
                        : std::string("the release has a neighbour on one side "
                                      "only")) +
              " (--allow-nearest-unsafe would take one anyway)";
      d.error = make_error(
          Errc::no_match,
          "no BTF for this host: " + host_line(host) +
              "; nearest entries: " + near + why +
              "; regenerate the bundle with this kernel's BTF (btfpack gen), "
              "or check that the archive has " +
              (hd.empty() ? std::string("<distro>/<version>") : hd + "/" + hv) +
              "/" + A + "/" + R + ".btf.tar.xz");
    }
  }

  if (host.has_native_btf() && !policy.prefer_bundle) {
    std::string would =
        d.chosen ? "the bundle would give " + key_str(d.chosen->kernel) +
                       " (--prefer-bundle uses it)"
                 : std::string("the bundle has no match either");
    for (auto &c : d.candidates)
      if (c.won) {
        c.won = false;
        c.reason += "; not used: native BTF comes first";
      }
    d.kind = MatchKind::native;
    d.chosen.reset();
    d.error.reset();
    d.warnings.clear();
    d.summary = "native: the kernel has its own BTF (" +
                host.native_btf.source + "); " + would;
  }
  return d;
}

} // namespace btfpack
