// SPDX-License-Identifier: Apache-2.0
//
// KernelRelease: a kernel release string as the archive and `uname -r` spell
// it ("5.4.0-1036-aws", "4.18.0-305.3.1.el8.x86_64", "6.12.107+deb12-amd64",
// "a12-5.10-2022-03-arm64"), parsed into its parts with a total order that
// sorts releases the way a person would (numeric runs compare as numbers).
// Parsing never fails: a string that does not look like a release is kept
// as an opaque release that compares equal only to itself.
#pragma once

#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace btfpack {

class KernelRelease {
public:
  KernelRelease() = default;
  // parse keeps the exact input (str() round-trips byte for byte).
  static KernelRelease parse(std::string_view release);

  const std::string &str() const noexcept { return raw_; }
  // opaque is true when the string has no leading "N.N" version.
  bool opaque() const noexcept { return opaque_; }
  // version is the upstream version numbers, e.g. {5, 4, 0}; empty if opaque.
  const std::vector<std::uint64_t> &version() const noexcept {
    return version_;
  }
  // build is the distro's build part: "1036" in 5.4.0-1036-aws,
  // "305.3.1.el8" in 4.18.0-305.3.1.el8.x86_64, "47" in 6.1.0-47-cloud-amd64.
  const std::string &build() const noexcept { return build_; }
  // flavour is the kernel flavour: "aws", "generic", "cloud", "rt",
  // "default", "azure"...; empty when the release names none.
  const std::string &flavour() const noexcept { return flavour_; }
  // arch is the architecture suffix carried by the release ("x86_64",
  // "aarch64", "amd64", "arm64"); empty when there is none.
  const std::string &arch() const noexcept { return arch_; }
  // distro_markers are the distro tags found in the release: "el8", "el8_6",
  // "amzn2", "fc38", "deb12", "ky10", "oe1", "uek"...
  const std::vector<std::string> &distro_markers() const noexcept {
    return markers_;
  }

  // Ordering: non-opaque releases sort by version, then by build and the rest
  // in natural order (numeric runs as numbers); opaque ones sort after all
  // parsed ones, by string. Equal means the strings are identical.
  std::strong_ordering operator<=>(const KernelRelease &o) const;
  bool operator==(const KernelRelease &o) const { return raw_ == o.raw_; }

private:
  std::string raw_;
  bool opaque_ = true;
  std::vector<std::uint64_t> version_;
  std::string build_, flavour_, arch_;
  std::vector<std::string> markers_;
};

// DistroMarker is one row of the one distro-marker table, which both the
// release parser (distro_markers()) and the host matcher use. A token is
// the marker when it is `prefix` followed by a digit ("el8_6", "amzn2",
// "ph4"), or, for a `bare` marker, the prefix itself ("uek", "bclinux").
struct DistroMarker {
  std::string_view prefix;
  // bare: the token may be the prefix alone; digits_too: and prefix+digits.
  bool bare = false;
  bool digits_too = true;
  // distros the marker names to the matcher, space-separated ("" when the
  // archive has no folder for it: the marker is parsed but does not narrow
  // a match, so an ID_LIKE or family match is not refused).
  std::string_view distros;
  // versioned: the digits after the prefix are the distro's version
  // ("amzn2" -> "2", "el8_6" -> "8"), for kernel-first nearest lookups.
  bool versioned = false;
};

// distro_marker_table is the table itself.
std::span<const DistroMarker> distro_marker_table();

// find_distro_marker returns the row a release token is a marker of, or
// nullptr.
const DistroMarker *find_distro_marker(std::string_view token);

// marker_distros lists the distros a token names; empty if none.
std::vector<std::string> marker_distros(std::string_view token);

// marker_version is the distro version a versioned marker carries ("" for
// others).
std::string marker_version(std::string_view token);

// natural_compare compares strings with digit runs compared as numbers
// ("5.4.0-100" > "5.4.0-99").
std::strong_ordering natural_compare(std::string_view a, std::string_view b);

// archive_arch maps a `uname -m` machine name to the btfhub-archive's folder
// name: aarch64 -> arm64, amd64 -> x86_64; others unchanged.
std::string archive_arch(std::string_view machine);

// arch_aliases lists the folder names an archive may use for one arch
// (upstream says arm64, a fork says aarch64).
std::vector<std::string> arch_aliases(std::string_view arch);

} // namespace btfpack
