// SPDX-License-Identifier: Apache-2.0
//
// The matching policy (docs/matching.md): which bundle entry, if any, holds
// the BTF for a host. Pure: it works on the host facts and a list of entries,
// so it is tested on plain lists as well as on real bundles. Every entry it
// looked at comes back as a Candidate with why it won or lost, and every
// fallback is named, so explain can answer "which BTF and why".
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "btfpack/bundle.h"
#include "btfpack/host.h"
#include "btfpack/result.h"

namespace btfpack {

// MatchKind says how the chosen BTF matched, strongest first.
enum class MatchKind {
  none,               // nothing matched (see MatchDecision::error)
  native,             // the kernel's own BTF is used, no bundle entry
  exact,              // (distro, version, arch, release) all equal
  version_normalized, // VERSION_ID mapped to the bundle's layout (7.9 -> 7)
  other_version,      // same distro and release, another version folder
  id_like,            // ID_LIKE / rebuild family, identical release
  kernel_first,       // release found under another distro; os-release
                      // missing or overruled, confirmed by distro markers
  nearest,            // --allow-nearest: neighbours share one blob (safe)
  nearest_unsafe,     // --allow-nearest-unsafe: a different kernel's BTF
};

// match_kind_name returns a stable lowercase name ("version_normalized").
const char *match_kind_name(MatchKind k) noexcept;

// MatchPolicy is what the caller allows.
struct MatchPolicy {
  bool prefer_bundle = false; // use the bundle even when native BTF exists
  bool allow_nearest = false; // a missing release may use its neighbours'
                              // BTF when both neighbours share one blob
  // allow_nearest_unsafe: take the closest neighbour even when the
  // neighbours differ. Named explicitly; the result is marked unsafe.
  bool allow_nearest_unsafe = false;
};

// Candidate is one entry the policy looked at.
struct Candidate {
  BundleEntry entry;
  MatchKind kind = MatchKind::none; // how it would have matched
  bool won = false;
  std::string reason; // why it won or lost
  // source: which bundle the entry comes from, set by resolve/explain
  // ("base \"NAME\" version N (PATH)" or "supplement ..."); empty from
  // match_host, which sees entries only.
  std::string source;
};

// MatchDecision is the policy's answer with its reasons.
struct MatchDecision {
  MatchKind kind = MatchKind::none;
  std::optional<BundleEntry> chosen;
  std::vector<Candidate> candidates;
  std::string summary; // one line saying what was decided and why
  // warnings are loud notes: os-release overruled, nearest kernel used.
  std::vector<std::string> warnings;
  bool os_release_overruled = false;
  std::string normalized_version; // set when version normalisation applied
  std::string distance;           // nearest: how far the neighbours are
  bool unsafe = false;            // a different kernel's BTF, unsafely
  std::size_t entries_scanned = 0;
  std::optional<Error> error; // Errc::no_match when nothing matched

  bool matched() const { return kind != MatchKind::none; }
};

// match_host applies the policy. It never fails as a call: when nothing
// matches, `error` holds an Errc::no_match error naming the host facts, the
// nearest entries and what to do.
MatchDecision match_host(const HostFacts &host,
                         std::span<const BundleEntry> entries,
                         const MatchPolicy &policy);

// release_distros lists the distros a release's markers point to
// ("...el8_6..." -> centos, rhel, rocky, almalinux, ol); empty when the
// release names none.
std::vector<std::string> release_distros(std::string_view release);

// normalize_version maps a host VERSION_ID onto the versions a bundle
// keeps for that distro: the longest dotted prefix present among
// `bundle_versions` ("7.9.2009" -> "7.9" -> "7"). Empty when none fits.
std::string normalize_version(std::string_view version_id,
                              std::span<const std::string> bundle_versions);

} // namespace btfpack
