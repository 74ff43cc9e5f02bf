// SPDX-License-Identifier: Apache-2.0
#include "btfpack/supplement.h"

#include <algorithm>
#include <tuple>

namespace btfpack {

namespace {

std::vector<BundleObject> sorted_objects(std::vector<BundleObject> v) {
  std::sort(v.begin(), v.end(), [](const auto &a, const auto &b) {
    return std::tie(a.name, a.digest, a.arch) <
           std::tie(b.name, b.digest, b.arch);
  });
  return v;
}

bool same_object(const BundleObject &a, const BundleObject &b) {
  return a.name == b.name && a.digest == b.digest && a.arch == b.arch;
}

std::string describe(const Bundle &b) {
  return "bundle \"" + b.meta().name + "\" version " +
         std::to_string(b.meta().version) + " (" + b.path().string() + ")";
}

} // namespace

std::string objects_text(const std::vector<BundleObject> &objects) {
  std::string out;
  for (const auto &o : objects)
    out += (out.empty() ? "" : ", ") + o.name + " (" +
           (o.arch.empty() ? std::string("any arch") : o.arch) + ", sha256 " +
           to_hex(o.digest).substr(0, 12) + ")";
  return out.empty() ? std::string("no recorded objects") : out;
}

Result<void> check_same_objects(const BundleMeta &a, const std::string &a_name,
                                const BundleMeta &b,
                                const std::string &b_name) {
  auto x = sorted_objects(a.objects), y = sorted_objects(b.objects);
  if (std::equal(x.begin(), x.end(), y.begin(), y.end(), same_object))
    return ok();
  return make_error(Errc::stale,
                    "objects differ: " + a_name + " was made for " +
                        objects_text(x) + ", but " + b_name + " was made for " +
                        objects_text(y) +
                        "; a supplement must be generated for exactly the "
                        "base's objects (btfpack gen --supplement-of BASE "
                        "with the same --object files)");
}

Result<void> check_supplement(const Bundle &base, const Bundle &supp,
                              std::span<const KeyId> name_keys) {
  const auto &bm = base.meta(), &sm = supp.meta();
  const std::string sn = "supplement " + supp.path().string();
  if (!base.verified() || !supp.verified())
    return make_error(Errc::bad_signature,
                      sn + ": base and supplement must both be verified "
                           "against trusted keys");
  if (!sm.supplement_of)
    return make_error(Errc::invalid_argument,
                      sn + " is not a supplement (its manifest has no "
                           "\"supplement_of\" line): use it as a bundle of "
                           "its own (--bundle) instead");
  const auto &of = *sm.supplement_of;
  if (sm.name != bm.name || of.name != bm.name)
    return make_error(Errc::invalid_argument,
                      sn + " is for bundle \"" + of.name + "\" (named \"" +
                          sm.name + "\"), not for " + describe(base));
  if (to_hex(of.base_manifest) != base.manifest_sha256())
    return make_error(
        Errc::stale, sn + " supplements \"" + of.name + "\" version " +
                         std::to_string(of.version) + " with manifest sha256 " +
                         to_hex(of.base_manifest) + ", but " + describe(base) +
                         " has manifest sha256 " + base.manifest_sha256() +
                         ": fetch the supplement made for this base, or the "
                         "base it was made for");
  if (sm.version <= bm.version)
    return make_error(Errc::invalid_argument,
                      sn + " has version " + std::to_string(sm.version) +
                          ", not newer than its base's " +
                          std::to_string(bm.version));
  BTFPACK_CHECK(check_same_objects(bm, describe(base), sm, sn));
  bool trusted = name_keys.empty()
                     ? supp.signer() == base.signer()
                     : std::find(name_keys.begin(), name_keys.end(),
                                 supp.signer()) != name_keys.end();
  if (!trusted)
    return make_error(
        Errc::bad_signature,
        sn + " is signed by key " + key_id_hex(supp.signer()) +
            ", which is not trusted for bundle \"" + bm.name + "\" (" +
            (name_keys.empty()
                 ? "the base is signed by key " + key_id_hex(base.signer())
                 : std::string("not one of the keys bound to "
                               "the name")) +
            "); a supplement must be signed by a key trusted for its "
            "bundle's name");
  return ok();
}

BundleSet::BundleSet(Bundle base) : base_(std::move(base)) {}

Result<void> BundleSet::add_supplement(Bundle supp,
                                       std::span<const KeyId> name_keys) {
  BTFPACK_CHECK(check_supplement(base_, supp, name_keys));
  for (const auto &s : supps_)
    if (s.meta().version == supp.meta().version)
      return make_error(Errc::invalid_argument,
                        "supplements " + s.path().string() + " and " +
                            supp.path().string() + " both have version " +
                            std::to_string(s.meta().version) +
                            ": pass one of them");
  auto at = std::find_if(supps_.begin(), supps_.end(), [&](const Bundle &s) {
    return s.meta().version > supp.meta().version;
  });
  supps_.insert(at, std::move(supp));
  merged_ready_ = false;
  return ok();
}

const Bundle *BundleSet::owner(const KernelKey &kernel) const {
  for (auto it = supps_.rbegin(); it != supps_.rend(); ++it)
    if (it->find(kernel))
      return &*it;
  return base_.find(kernel) ? &base_ : nullptr;
}

std::span<const BundleEntry> BundleSet::entries() const {
  if (supps_.empty())
    return base_.entries();
  if (!merged_ready_) {
    // Newest first, so the first occurrence of a kernel is the winner.
    std::vector<BundleEntry> all;
    for (auto it = supps_.rbegin(); it != supps_.rend(); ++it)
      all.insert(all.end(), it->entries().begin(), it->entries().end());
    all.insert(all.end(), base_.entries().begin(), base_.entries().end());
    std::stable_sort(all.begin(), all.end(), [](const auto &a, const auto &b) {
      return a.kernel < b.kernel;
    });
    auto end = std::unique(all.begin(), all.end(), [](auto &a, auto &b) {
      return a.kernel == b.kernel;
    });
    all.erase(end, all.end());
    merged_ = std::move(all);
    merged_ready_ = true;
  }
  return merged_;
}

const BundleEntry *BundleSet::find(const KernelKey &kernel) const {
  const Bundle *b = owner(kernel);
  return b ? b->find(kernel) : nullptr;
}

EntrySource BundleSet::source(const KernelKey &kernel) const {
  EntrySource s;
  s.bundle = owner(kernel);
  if (!s.bundle)
    return s;
  s.supplement = s.bundle != &base_;
  const auto &m = s.bundle->meta();
  s.label = std::string(s.supplement ? "supplement" : "base") + " \"" + m.name +
            "\" version " + std::to_string(m.version) + " (" +
            s.bundle->path().string() + ")";
  return s;
}

Result<std::vector<std::uint8_t>>
BundleSet::read_blob(const BundleEntry &entry) const {
  const Bundle *b = owner(entry.kernel);
  if (!b)
    return make_error(Errc::not_found, "no bundle of the set holds kernel " +
                                           entry.kernel.release);
  return b->read_blob(entry.blob);
}

BundleDiff diff_entries(std::span<const BundleEntry> old_entries,
                        std::span<const BundleEntry> new_entries) {
  BundleDiff d;
  auto o = old_entries.begin(), n = new_entries.begin();
  while (o != old_entries.end() || n != new_entries.end()) {
    if (n == new_entries.end() ||
        (o != old_entries.end() && o->kernel < n->kernel)) {
      d.removed.push_back(*o++);
    } else if (o == old_entries.end() || n->kernel < o->kernel) {
      d.added.push_back(*n++);
    } else {
      if (o->blob == n->blob)
        d.unchanged++;
      else
        d.changed.push_back({n->kernel, o->blob, n->blob});
      ++o;
      ++n;
    }
  }
  return d;
}

} // namespace btfpack
