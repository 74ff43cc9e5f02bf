// SPDX-License-Identifier: Apache-2.0
//
// choose_bundle: which installed bundle serves this caller (runtime.h).
#include <algorithm>
#include <tuple>

#include "btfpack/kernel_release.h"
#include "btfpack/paths.h"
#include "btfpack/runtime.h"
#include "btfpack/store.h"

namespace btfpack {

namespace fs = std::filesystem;

namespace {

std::string list_names(const std::vector<NameState> &states) {
  std::string s;
  for (const auto &st : states)
    if (st.installed())
      s += (s.empty() ? "" : ", ") + st.name;
  return s;
}

// host_entry: the bundle holds an exact entry for this host.
bool host_entry(const Bundle &b, const HostFacts &h) {
  if (!h.os_id.present())
    return false;
  auto arches = arch_aliases(h.arch.value);
  if (std::find(arches.begin(), arches.end(), h.arch.value) == arches.end())
    arches.insert(arches.begin(), h.arch.value);
  for (const auto &a : arches)
    if (b.find(
            {h.os_id.value, h.os_version_id.value, a, h.kernel_release.value}))
      return true;
  return false;
}

// made_for: every wanted object is one of the bundle's; else why not.
std::string not_made_for(const Bundle &b, const std::vector<Sha256> &objs) {
  for (const auto &d : objs) {
    bool found = false;
    for (const auto &bo : b.meta().objects)
      found = found || bo.digest == d;
    if (!found)
      return "not made for object " + to_hex(d).substr(0, 12) + " (it was " +
             "made for " + std::to_string(b.meta().objects.size()) +
             " other object(s))";
  }
  return {};
}

// consider opens one name's current bundle; `why` says when it is out.
BundleConsidered consider(const fs::path &path, const NameState &st,
                          const ResolveOptions &o, const HostFacts &host,
                          const TrustPolicy &policy,
                          const std::vector<Sha256> &objs) {
  BundleConsidered c;
  c.name = st.name;
  c.path = path;
  OpenOptions oo;
  oo.allow_expired = o.allow_expired;
  oo.now = o.now;
  auto b = Bundle::open(path, policy.all(), oo);
  if (!b) {
    c.why = "does not verify: " + b.error().message;
    return c;
  }
  c.version = b->meta().version;
  c.created = b->meta().created;
  c.manifest_sha256 = b->manifest_sha256();
  if (auto t = policy.check_signer(b->meta().name, b->signer()); !t) {
    c.why = t.error().message;
    return c;
  }
  if (auto why = not_made_for(*b, objs); !why.empty()) {
    c.why = why;
    return c;
  }
  c.host_kernel = host_entry(*b, host);
  return c;
}

// rank_candidates marks the winner among those made for the objects.
void rank_candidates(std::vector<BundleConsidered> &cs) {
  auto key = [](const BundleConsidered &c) {
    return std::tuple(c.host_kernel, c.created, c.version);
  };
  BundleConsidered *best = nullptr;
  for (auto &c : cs)
    if (c.why.empty() && (!best || key(c) > key(*best)))
      best = &c;
  for (auto &c : cs) {
    if (!c.why.empty())
      continue;
    std::string facts = std::string(c.host_kernel ? "has" : "lacks") +
                        " this host's kernel, created " +
                        std::to_string(c.created) + ", version " +
                        std::to_string(c.version);
    if (&c == best) {
      c.won = true;
      c.why = "made for the objects, " + facts;
    } else if (c.host_kernel != best->host_kernel) {
      c.why =
          "made for the objects but " + facts + " (" + best->name + " has it)";
    } else {
      c.why =
          "made for the objects, " + facts + ": " + best->name + " is newer";
    }
  }
}

} // namespace

Result<fs::path> choose_bundle(const ResolveOptions &o, const HostFacts &host,
                               const TrustPolicy &policy,
                               const std::vector<Sha256> &objs,
                               std::vector<BundleConsidered> &considered) {
  fs::path dir = o.store_dir.empty() ? paths::store_dir() : o.store_dir;
  auto none = [&] {
    return make_error(Errc::not_found,
                      "no bundle installed in " + dir.string() +
                          "; install one with `btfpack install BUNDLE`, or "
                          "pass --bundle FILE");
  };
  auto store = Store::open(dir, false);
  if (!store)
    return store.error().code == Errc::not_found ? none() : store.error();
  // A store from before names (or made by hand): its `current` is the one
  // bundle, whatever its file is called; name and objects are checked on
  // the bundle itself.
  std::error_code ec;
  if (!fs::exists(dir / paths::NAMES_SUBDIR, ec) &&
      fs::exists(fs::symlink_status(dir / paths::CURRENT_NAME, ec))) {
    BundleConsidered c;
    c.path = dir / paths::CURRENT_NAME;
    c.won = true;
    c.why = "the store's only bundle (a store from before names)";
    considered.push_back(c);
    return c.path;
  }
  BTFPACK_TRY(states, store->names());
  std::vector<const NameState *> in;
  for (const auto &st : states)
    if (st.installed() && (o.name.empty() || st.name == o.name))
      in.push_back(&st);
  if (in.empty() && !o.name.empty())
    return make_error(Errc::not_found,
                      "no bundle named '" + o.name + "' is installed in " +
                          dir.string() + " (installed: " +
                          (list_names(states).empty() ? std::string("none")
                                                      : list_names(states)) +
                          "); install it with `btfpack install BUNDLE`");
  if (in.empty())
    return none();
  auto path_of = [&](const NameState *st) {
    return dir / paths::BUNDLES_SUBDIR / *st->current;
  };
  if (in.size() == 1 && (objs.empty() || !o.name.empty())) {
    BundleConsidered c;
    c.name = in[0]->name;
    c.path = path_of(in[0]);
    c.won = true;
    c.why = o.name.empty() ? "the only bundle installed"
                           : "named by the caller (--name)";
    considered.push_back(c);
    return c.path;
  }
  if (objs.empty())
    return make_error(
        Errc::invalid_argument,
        std::to_string(in.size()) + " bundles are installed in " +
            dir.string() + " (" + list_names(states) +
            "): resolve never picks one silently; name the one made for "
            "you (--name NAME; btfpack_opts.name) or pass the objects you "
            "load (--object FILE; btfpack_opts.objects)");
  std::size_t first = considered.size();
  for (const auto *st : in)
    considered.push_back(consider(path_of(st), *st, o, host, policy, objs));
  std::vector<BundleConsidered> mine(considered.begin() + first,
                                     considered.end());
  rank_candidates(mine);
  std::copy(mine.begin(), mine.end(), considered.begin() + first);
  for (const auto &c : mine)
    if (c.won)
      return c.path;
  std::string why;
  for (const auto &c : mine)
    why += "; " + c.name + ": " + c.why;
  return make_error(Errc::stale, "no bundle installed in " + dir.string() +
                                     " was made for the objects given" + why +
                                     ": install the bundle made for them");
}

} // namespace btfpack
