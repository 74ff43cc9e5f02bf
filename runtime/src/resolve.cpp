// SPDX-License-Identifier: Apache-2.0
#include "btfpack/runtime.h"

#include <algorithm>
#include <set>
#include <sys/utsname.h>

#include "btfpack/btf_check.h"
#include "btfpack/kernel_release.h"
#include "btfpack/paths.h"

namespace btfpack {

namespace fs = std::filesystem;

namespace {
// keys_in_dir lists every *.pub in dir, sorted; none is an error.
Result<std::vector<fs::path>> keys_in_dir(const fs::path &dir) {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec))
    if (it->path().extension() == paths::KEY_SUFFIX)
      paths.push_back(it->path());
  std::sort(paths.begin(), paths.end());
  if (paths.empty())
    return make_error(Errc::not_found,
                      "no trusted keys: no *.pub in " + dir.string() +
                          (ec ? " (" + ec.message() + ")" : "") +
                          "; pass --key PUB or install a key there");
  return paths;
}
} // namespace

// A --key that names a directory means every *.pub in it, wherever keys are
// taken (resolve, explain, install, list, verify).
Result<std::vector<std::pair<fs::path, PublicKey>>>
load_trusted_keys(const std::vector<fs::path> &files, const fs::path &dir) {
  std::vector<fs::path> paths;
  if (files.empty()) {
    BTFPACK_TRY(found, keys_in_dir(dir));
    paths = std::move(found);
  }
  for (const auto &f : files) {
    std::error_code ec;
    if (fs::is_directory(f, ec)) {
      BTFPACK_TRY(found, keys_in_dir(f));
      paths.insert(paths.end(), found.begin(), found.end());
    } else {
      paths.push_back(f);
    }
  }
  std::vector<std::pair<fs::path, PublicKey>> out;
  for (const auto &p : paths) {
    BTFPACK_TRY(k, PublicKey::read_file(p));
    out.emplace_back(p, std::move(k));
  }
  return out;
}

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

// add_supplements opens each supplement with the base's trusted keys and
// adds it to the set (check_supplement refuses a stranger's).
Result<void> add_supplements(const ResolveOptions &o,
                             std::span<const PublicKey> trusted,
                             const OpenOptions &oo, BundleSet &set,
                             BundleInfo &info) {
  for (const auto &p : o.supplements) {
    auto s = Bundle::open(p, trusted, oo);
    if (!s.ok())
      return with_context(s.error(), "open supplement " + p.string());
    std::string line = "supplement \"" + s->meta().name + "\" version " +
                       std::to_string(s->meta().version) + " (" + p.string() +
                       "), " + std::to_string(s->entry_count()) +
                       " kernels, signed by key " + key_id_hex(s->signer());
    BTFPACK_CHECK(set.add_supplement(std::move(*s)));
    info.supplements.push_back(std::move(line));
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
  r.bundle.path = o.bundle.empty() ? paths::current_bundle() : o.bundle;
  BTFPACK_TRY(keys,
              load_trusted_keys(o.keys, o.keys_dir.empty() ? paths::keys_dir()
                                                           : o.keys_dir));
  std::vector<PublicKey> trusted;
  for (auto &k : keys)
    trusted.push_back(k.second);

  // Nothing about the bundle is looked at before it verifies.
  x.stage = "bundle";
  OpenOptions oo;
  oo.allow_expired = o.allow_expired;
  oo.now = o.now;
  auto opened = Bundle::open(r.bundle.path, trusted, oo);
  if (!opened.ok()) {
    std::error_code ec;
    if (o.bundle.empty() && opened.error().code == Errc::not_found &&
        !fs::exists(fs::symlink_status(r.bundle.path, ec)))
      return make_error(Errc::not_found,
                        "no bundle installed in " +
                            paths::store_dir().string() + " (" +
                            r.bundle.path.string() +
                            " does not exist); install one with `btfpack "
                            "install BUNDLE`, or pass --bundle FILE");
    // Say the path once: the reader's message usually names it already.
    if (opened.error().message.find(r.bundle.path.string()) !=
        std::string::npos)
      return opened.error();
    return with_context(opened.error(),
                        "open bundle " + r.bundle.path.string());
  }
  BundleSet set(std::move(*opened));
  const Bundle &b = set.base();
  r.bundle.opened = true;
  r.bundle.signer = key_id_hex(b.signer());
  for (const auto &k : keys)
    if (k.second.id() == b.signer())
      r.bundle.signer_key_file = k.first.string();
  r.bundle.meta = b.meta();
  r.bundle.entries = b.entry_count(); // without reading every chunk
  r.bundle.manifest_sha256 = b.manifest_sha256();
  x.stage = "supplement";
  BTFPACK_CHECK(add_supplements(o, trusted, oo, set, r.bundle));

  x.stage = "staleness";
  // The bundle's object records of the objects about to be loaded, kept for
  // the arch check once an entry is chosen.
  std::vector<std::pair<std::string, const BundleObject *>> loaded;
  std::vector<std::pair<std::string, Sha256>> wanted;
  for (const auto &p : o.objects) {
    BTFPACK_TRY(d, sha256_file(p));
    wanted.emplace_back(p.string(), d);
  }
  for (const auto &d : o.object_digests)
    wanted.emplace_back("object " + to_hex(d).substr(0, 12), d);
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

  x.stage = "match";
  // Fast path for resolve: an exact entry is found by lookup, which reads
  // one manifest chunk instead of every kernel line. explain always scans
  // the whole bundle to list every candidate.
  const BundleEntry *exact = nullptr;
  if (!explaining && r.host.os_id.present()) {
    std::vector<std::string> arches = arch_aliases(r.host.arch.value);
    if (std::find(arches.begin(), arches.end(), r.host.arch.value) ==
        arches.end())
      arches.insert(arches.begin(), r.host.arch.value);
    for (const auto &a : arches) {
      exact = set.find({r.host.os_id.value, r.host.os_version_id.value, a,
                        r.host.kernel_release.value});
      if (exact)
        break;
    }
  }
  if (exact) {
    r.decision.kind = MatchKind::exact;
    r.decision.chosen = *exact;
    r.decision.candidates.push_back(
        {*exact, MatchKind::exact, true,
         "exact match on distro, version, arch and release (found by "
         "lookup; explain lists every candidate)"});
    r.decision.summary = "exact match: " + exact->kernel.distro + "/" +
                         exact->kernel.version + "/" + exact->kernel.arch +
                         "/" + exact->kernel.release;
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

  // Arch confusion: an entry is minimized only with the objects of its own
  // arch (docs/bundle-format.md, "Which objects served a kernel"). An
  // object about to be loaded must be one of those, or the BTF was made
  // for another build of it: refused, never handed over.
  x.stage = "arch";
  const KernelKey &ck = r.decision.chosen->kernel;
  for (const auto &[name, bo] : loaded) {
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

  x.stage = "handoff";
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
