// SPDX-License-Identifier: Apache-2.0
#include "btfpack/runtime.h"

#include <algorithm>
#include <set>
#include <sys/utsname.h>

#include "btfpack/btf_check.h"
#include "btfpack/kernel_release.h"
#include "btfpack/paths.h"
#include "btfpack/supplement.h"
#include "btfpack/trust.h"

namespace btfpack {

namespace fs = std::filesystem;

namespace {

std::string key_str(const KernelKey &k) {
  return k.distro + "/" + k.version + "/" + k.arch + "/" + k.release;
}

// no_arch_hint explains a miss on a bundle that has no kernel of the host's
// arch at all: typically it was generated with other arches' objects only.
std::string no_arch_hint(const Bundle &b, const std::string &host_arch) {
  std::set<std::string> arches;
  for (const auto &e : b.entries()) {
    if (archive_arch(e.kernel.arch) == archive_arch(host_arch))
      return {};
    arches.insert(archive_arch(e.kernel.arch));
  }
  std::string objs, have;
  for (const auto &o : b.meta().objects)
    objs += (objs.empty() ? "" : ", ") + o.name + " (" +
            (o.arch.empty() ? std::string("any arch") : o.arch) + ")";
  for (const auto &a : arches)
    have += (have.empty() ? "" : ", ") + a;
  return "; the bundle has no " + archive_arch(host_arch) +
         " kernels at all (only " + have +
         "; objects: " + (objs.empty() ? std::string("none recorded") : objs) +
         "): generate it with the " + archive_arch(host_arch) +
         " builds of the objects too (btfpack gen --object " +
         archive_arch(host_arch) + ":PATH)";
}

// bundle_source_name is what messages call the bundle: its path, or the
// name given to bytes in memory.
fs::path bundle_source_name(const ResolveOptions &o) {
  if (!o.bundle_bytes.empty())
    return o.bundle_bytes_name.empty()
               ? "in-memory bundle (" + std::to_string(o.bundle_bytes.size()) +
                     " bytes)"
               : o.bundle_bytes_name;
  return o.bundle;
}

// resolve_keys loads the trust policy: key files (or keys_dir, whose
// <name>/ directories bind keys to names) and key texts, trusted for every
// name. key_texts alone do not read keys_dir.
Result<TrustPolicy> resolve_keys(const ResolveOptions &o) {
  TrustPolicy policy;
  if (o.key_texts.empty() || !o.keys.empty()) {
    BTFPACK_TRY(p,
                load_trust_policy(o.keys, o.keys_dir.empty() ? paths::keys_dir()
                                                             : o.keys_dir));
    policy = std::move(p);
  }
  for (std::size_t i = 0; i < o.key_texts.size(); ++i) {
    std::string what = "public key " + std::to_string(i + 1) + " of " +
                       std::to_string(o.key_texts.size()) + " given as text";
    if (!o.bundle_bytes_name.empty())
      what += " (with " + o.bundle_bytes_name + ")";
    BTFPACK_CHECK(policy.add_text(o.key_texts[i], what));
  }
  return policy;
}

// check_caller_bundle: the bundle's signer is trusted for its name, and it
// is the bundle the caller named.
Result<void> check_caller_bundle(const Bundle &b, const std::string &source,
                                 const ResolveOptions &o,
                                 const TrustPolicy &policy) {
  if (auto t = policy.check_signer(b.meta().name, b.signer()); !t)
    return with_context(std::move(t).error(), "refusing bundle " + source);
  if (!o.name.empty() && b.meta().name != o.name)
    return make_error(Errc::stale, "bundle " + source + " is named '" +
                                       b.meta().name + "', not '" + o.name +
                                       "' (--name): it was made for another "
                                       "agent");
  return ok();
}

// open_bundle verifies the bundle (file or bytes: the same verifier) and
// fills r.bundle. Nothing about the bundle is looked at before it verifies.
Result<Bundle> open_bundle(const ResolveOptions &o, const TrustPolicy &policy,
                           Resolution &r) {
  OpenOptions oo;
  oo.allow_expired = o.allow_expired;
  oo.now = o.now;
  const std::string name = r.bundle.path.string();
  auto opened = o.bundle_bytes.empty()
                    ? Bundle::open(r.bundle.path, policy.all(), oo)
                    : Bundle::open_view(o.bundle_bytes, name, policy.all(), oo);
  if (!opened.ok()) {
    Error e = policy.about(std::move(opened).error());
    // Say the source once: the reader's message usually names it already.
    if (e.message.find(name) != std::string::npos)
      return e;
    return with_context(e, "open bundle " + name);
  }
  BTFPACK_CHECK(check_caller_bundle(*opened, name, o, policy));
  const Bundle &b = *opened;
  r.bundle.opened = true;
  r.bundle.signer = key_id_hex(b.signer());
  if (const auto *k = policy.find(b.signer()))
    r.bundle.signer_key_file = k->file.string();
  r.bundle.meta = b.meta();
  r.bundle.entries = b.entry_count(); // without reading every chunk
  r.bundle.manifest_sha256 = b.manifest_sha256();
  return opened;
}

// add_supplements opens each supplement with the policy's keys and adds it
// to the set: check_supplement refuses a stranger's (only the base's signer
// or a key bound to the base's name may sign one), and the policy must
// trust its signer for the name.
Result<void> add_supplements(const ResolveOptions &o, const TrustPolicy &policy,
                             BundleSet &set, BundleInfo &info) {
  OpenOptions oo;
  oo.allow_expired = o.allow_expired;
  oo.now = o.now;
  std::vector<KeyId> name_keys;
  for (const auto &k : policy.entries())
    if (k.name == set.base().meta().name)
      name_keys.push_back(k.key.id());
  for (const auto &p : o.supplements) {
    auto s = Bundle::open(p, policy.all(), oo);
    if (!s.ok())
      return with_context(policy.about(std::move(s).error()),
                          "open supplement " + p.string());
    if (auto t = policy.check_signer(s->meta().name, s->signer()); !t)
      return with_context(std::move(t).error(),
                          "refusing supplement " + p.string());
    std::string line = "supplement \"" + s->meta().name + "\" version " +
                       std::to_string(s->meta().version) + " (" + p.string() +
                       "), " + std::to_string(s->entry_count()) +
                       " kernels, signed by key " + key_id_hex(s->signer());
    BTFPACK_CHECK(set.add_supplement(std::move(*s), name_keys));
    info.supplements.push_back(std::move(line));
  }
  return ok();
}

// LoadedObject: an object about to be loaded and the bundle's record of it,
// kept for the arch check once an entry is chosen.
using LoadedObject = std::pair<std::string, const BundleObject *>;

// WantedObject: an object about to be loaded (its name for messages) and
// its sha256.
using WantedObject = std::pair<std::string, Sha256>;

// wanted_objects hashes the objects about to be loaded, once.
Result<std::vector<WantedObject>> wanted_objects(const ResolveOptions &o) {
  std::vector<WantedObject> wanted;
  for (const auto &p : o.objects) {
    BTFPACK_TRY(d, sha256_file(p));
    wanted.emplace_back(p.string(), d);
  }
  for (const auto &d : o.object_digests)
    wanted.emplace_back("object " + to_hex(d).substr(0, 12), d);
  return wanted;
}

// check_staleness refuses a bundle made for other objects than those about
// to be loaded (Errc::stale) and returns the bundle's records of them.
Result<std::vector<LoadedObject>>
check_staleness(const std::vector<WantedObject> &wanted, const Bundle &b,
                Resolution &r) {
  std::vector<LoadedObject> loaded;
  for (const auto &[name, dg] : wanted) {
    const BundleObject *found = nullptr;
    for (const auto &bo : b.meta().objects)
      if (!found && bo.digest == dg)
        found = &bo;
    if (!found) {
      std::string made;
      for (const auto &bo : b.meta().objects)
        made += (made.empty() ? "" : ", ") + bo.name + " (" +
                to_hex(bo.digest).substr(0, 12) + ")";
      if (made.empty())
        made = "no recorded objects";
      return make_error(Errc::stale,
                        "bundle " + r.bundle.path.string() +
                            " is stale: it was made for " + made + ", not " +
                            name + " (sha256 " + to_hex(dg) +
                            "); regenerate it with btfpack gen --object " +
                            "for the objects you load");
    }
    r.notes.push_back(
        name + " is one of the bundle's objects (sha256 " +
        to_hex(dg).substr(0, 12) + ", " +
        (found->arch.empty() ? std::string("any arch") : found->arch) + ")");
    loaded.emplace_back(name, found);
  }
  return loaded;
}

// find_exact is resolve's fast path: an exact entry found by lookup, which
// reads one manifest chunk instead of every kernel line.
const BundleEntry *find_exact(const BundleSet &b, const HostFacts &h) {
  if (!h.os_id.present())
    return nullptr;
  std::vector<std::string> arches = arch_aliases(h.arch.value);
  if (std::find(arches.begin(), arches.end(), h.arch.value) == arches.end())
    arches.insert(arches.begin(), h.arch.value);
  for (const auto &a : arches)
    if (const BundleEntry *e = b.find(
            {h.os_id.value, h.os_version_id.value, a, h.kernel_release.value}))
      return e;
  return nullptr;
}

// choose_entry matches the host against the bundle (r.decision). explain
// always scans the whole bundle to list every candidate.
Result<void> choose_entry(const ResolveOptions &o, const BundleSet &set,
                          Resolution &r, bool explaining) {
  const Bundle &b = set.base();
  const BundleEntry *exact = explaining ? nullptr : find_exact(set, r.host);
  if (exact) {
    r.decision.kind = MatchKind::exact;
    r.decision.chosen = *exact;
    r.decision.candidates.push_back(
        {*exact, MatchKind::exact, true,
         "exact match on distro, version, arch and release (found by "
         "lookup; explain lists every candidate)"});
    r.decision.summary = "exact match: " + key_str(exact->kernel);
  } else {
    r.decision = match_host(r.host, set.entries(), o.policy);
  }
  for (auto &c : r.decision.candidates)
    c.source = set.source(c.entry.kernel).label;
  if (r.decision.kind == MatchKind::native) {
    r.native = true;
    return ok();
  }
  if (r.decision.error) {
    Error e = *r.decision.error;
    if (e.code == Errc::no_match)
      e.message += no_arch_hint(b, r.host.arch.value);
    return with_context(e, "resolve with bundle " + r.bundle.path.string());
  }
  r.digest = r.decision.chosen->blob;
  r.source = set.source(r.decision.chosen->kernel).label;
  return ok();
}

// check_arch: an entry is minimized only with the objects of its own arch
// (docs/bundle-format.md, "Which objects served a kernel"). An object about
// to be loaded must be one of those, or the BTF was made for another build
// of it: refused, never handed over.
Result<void> check_arch(const Bundle &b, const std::vector<LoadedObject> &ld,
                        Resolution &r) {
  const KernelKey &ck = r.decision.chosen->kernel;
  for (const auto &[name, bo] : ld) {
    if (object_serves(*bo, ck.arch))
      continue;
    std::string served;
    for (const auto &so : b.meta().objects)
      if (object_serves(so, ck.arch))
        served += (served.empty() ? "" : ", ") + so.name + " (" +
                  to_hex(so.digest).substr(0, 12) + ")";
    return make_error(
        Errc::stale,
        "arch mismatch: " + name + " (sha256 " +
            to_hex(bo->digest).substr(0, 12) + ") is the " + bo->arch +
            " build, but the entry chosen for this " + "host, " + key_str(ck) +
            ", is an " + archive_arch(ck.arch) +
            " kernel, whose BTF in bundle " + r.bundle.path.string() +
            " was minimized only with " + archive_arch(ck.arch) + " objects (" +
            (served.empty() ? std::string("none") : served) + "); load the " +
            archive_arch(ck.arch) + " build of " + bo->name +
            (r.host.machine.source == "--arch"
                 ? ", or fix --arch " + r.host.machine.value
                 : std::string()));
  }
  // A BTF chosen for another machine than this one (an --arch override
  // that uname(2) contradicts) is only for looking: say so.
  if (r.host.machine.source == "--arch") {
    struct utsname u {};
    if (::uname(&u) == 0 && archive_arch(u.machine) != archive_arch(ck.arch))
      r.notes.push_back("this machine is " + std::string(u.machine) +
                        " but the entry chosen (" + key_str(ck) + ") is for " +
                        archive_arch(ck.arch) + " (--arch " +
                        r.host.machine.value +
                        "): do not load it here; libbpf on this machine "
                        "needs its own arch's entry");
  }
  return ok();
}

// hand_off reads the chosen blob, checks its structure and hands it over
// (memfd, cache file or nothing), the same for a file and bytes.
Result<void> hand_off(const ResolveOptions &o, const BundleSet &set,
                      Resolution &r) {
  auto read_checked = [&]() -> Result<std::vector<std::uint8_t>> {
    BTFPACK_TRY(blob, set.read_blob(*r.decision.chosen));
    BTFPACK_TRY(sum, check_btf(blob, "blob " + to_hex(r.digest)));
    r.btf_types = sum.types;
    return blob;
  };
  switch (o.handoff) {
  case HandOff::none: {
    BTFPACK_TRY(blob, read_checked());
    (void)blob;
    break;
  }
  case HandOff::memfd: {
    BTFPACK_TRY(blob, read_checked());
    BTFPACK_TRY(m, CustomBtf::memfd(blob, r.digest));
    r.btf = std::move(m);
    break;
  }
  case HandOff::cache: {
    fs::path dir = o.cache_dir.empty() ? paths::cache_dir() : o.cache_dir;
    BTFPACK_TRY(c, CustomBtf::cache(dir, r.digest, read_checked));
    r.notes.push_back(c.note());
    r.btf = std::move(c);
    break;
  }
  }
  return ok();
}

// run does the work for resolve and explain; it fills `x` as it goes and
// returns the first error.
Result<void> run(const ResolveOptions &o, Explanation &x, bool explaining) {
  Resolution &r = x.r;
  x.stage = "host";
  BTFPACK_TRY(host, detect_host(o.host));
  r.host = std::move(host);
  bool need_bundle = o.policy.prefer_bundle || !r.host.has_native_btf();
  if (!need_bundle && !explaining) {
    r.native = true;
    r.decision.kind = MatchKind::native;
    r.decision.summary =
        "native: the kernel has its own BTF (" + r.host.native_btf.source + ")";
    return ok();
  }
  x.stage = "keys";
  BTFPACK_TRY(policy, resolve_keys(o));
  BTFPACK_TRY(wanted, wanted_objects(o));
  // Nothing about the bundle is looked at before it verifies.
  x.stage = "bundle";
  r.bundle.path = bundle_source_name(o);
  if (r.bundle.path.empty()) {
    std::vector<Sha256> digests;
    for (const auto &w : wanted)
      digests.push_back(w.second);
    BTFPACK_TRY(chosen,
                choose_bundle(o, r.host, policy, digests, r.considered));
    r.bundle.path = chosen;
  }
  BTFPACK_TRY(opened, open_bundle(o, policy, r));
  BundleSet set(std::move(opened));
  const Bundle &b = set.base();
  x.stage = "supplement";
  BTFPACK_CHECK(add_supplements(o, policy, set, r.bundle));
  x.stage = "staleness";
  BTFPACK_TRY(loaded, check_staleness(wanted, b, r));
  x.stage = "match";
  BTFPACK_CHECK(choose_entry(o, set, r, explaining));
  if (r.native)
    return ok();
  x.stage = "arch";
  BTFPACK_CHECK(check_arch(b, loaded, r));
  x.stage = "handoff";
  return hand_off(o, set, r);
}

} // namespace

Result<Resolution> resolve(const ResolveOptions &opts) {
  Explanation x;
  auto rc = run(opts, x, false);
  if (!rc.ok())
    return std::move(rc).error();
  return std::move(x.r);
}

Explanation explain(const ResolveOptions &opts) {
  Explanation x;
  auto rc = run(opts, x, true);
  if (!rc.ok())
    x.error = rc.error();
  else
    x.stage = "done";
  return x;
}

} // namespace btfpack
