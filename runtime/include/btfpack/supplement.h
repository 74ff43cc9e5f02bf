// SPDX-License-Identifier: Apache-2.0
//
// Kernels after the release (docs/bundle-format.md "Supplements"): a
// supplement bundle, made for the same objects as a base bundle, holds only
// the kernels missing from or changed since the base. check_supplement says
// whether a supplement may extend a base; BundleSet is a base and its
// accepted supplements seen as one bundle (for a kernel present in several,
// the newest supplement wins). diff_bundles compares two bundles by kernel
// and blob digest (`btfpack diff`).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "btfpack/bundle.h"
#include "btfpack/result.h"

namespace btfpack {

// objects_text lists objects as "name (arch, sha256 prefix)", for messages.
std::string objects_text(const std::vector<BundleObject> &objects);

// check_same_objects refuses (Errc::stale) when `b` was minimized for other
// objects than `a`, naming both bundles (`a_name`, `b_name`) and both
// object lists.
Result<void> check_same_objects(const BundleMeta &a, const std::string &a_name,
                                const BundleMeta &b, const std::string &b_name);

// check_supplement says whether `supp` may extend `base`: both verified,
// `supp` is a supplement (format 1.1 "supplement_of") of exactly this base
// (same name, base version and manifest sha256), its version is newer, it
// was made for the same objects, and it is signed by a key trusted for the
// bundle's name: one of `name_keys` when given, else the key that signed
// the base. Errors: Errc::invalid_argument (not a supplement, wrong name or
// version), Errc::stale (objects differ, digest does not match),
// Errc::bad_signature (signer not trusted for the name).
Result<void> check_supplement(const Bundle &base, const Bundle &supp,
                              std::span<const KeyId> name_keys = {});

// EntrySource says which bundle of a BundleSet an entry comes from.
struct EntrySource {
  const Bundle *bundle = nullptr;
  bool supplement = false;
  std::string label; // "base NAME version N" / "supplement version N (PATH)"
};

// BundleSet is a base bundle and its supplements, seen as one bundle.
class BundleSet {
public:
  explicit BundleSet(Bundle base);
  // add_supplement checks `supp` against the base (check_supplement) and
  // adds it; a kernel it holds then overrides the base's and any older
  // supplement's. Two supplements of one version are refused.
  Result<void> add_supplement(Bundle supp,
                              std::span<const KeyId> name_keys = {});

  const Bundle &base() const { return base_; }
  std::size_t supplement_count() const { return supps_.size(); }
  // entries is every kernel once (sorted), each with the blob of the
  // newest bundle holding it. With no supplement it is base().entries().
  std::span<const BundleEntry> entries() const;
  // find returns the winning entry for exactly this kernel, or nullptr;
  // it reads one manifest chunk per bundle, not every kernel line.
  const BundleEntry *find(const KernelKey &kernel) const;
  // source returns where the winning entry of `kernel` comes from.
  EntrySource source(const KernelKey &kernel) const;
  // read_blob reads the winning entry's blob from the bundle it came from.
  Result<std::vector<std::uint8_t>> read_blob(const BundleEntry &entry) const;

private:
  const Bundle *owner(const KernelKey &kernel) const;
  Bundle base_;
  std::vector<Bundle> supps_; // oldest version first
  mutable std::vector<BundleEntry> merged_;
  mutable bool merged_ready_ = false;
};

// BundleDiff is what changed between two bundles, by kernel and blob.
struct BundleDiff {
  std::vector<BundleEntry> added;   // in NEW only
  std::vector<BundleEntry> removed; // in OLD only
  struct Changed {
    KernelKey kernel;
    Sha256 old_blob{}, new_blob{};
  };
  std::vector<Changed> changed; // in both, another blob
  std::size_t unchanged = 0;
  bool empty() const {
    return added.empty() && removed.empty() && changed.empty();
  }
};

// diff_entries compares two sorted entry lists.
BundleDiff diff_entries(std::span<const BundleEntry> old_entries,
                        std::span<const BundleEntry> new_entries);

} // namespace btfpack
