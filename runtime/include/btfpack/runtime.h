// SPDX-License-Identifier: Apache-2.0
//
// The host side of btfpack in one call: verify the bundle, identify the
// host, match (docs/matching.md), check the BTF and hand it to libbpf.
//
//   btfpack::ResolveOptions o;              // defaults: installed store/keys
//   o.objects = {"exec.bpf.o"};             // refuse a stale bundle
//   auto r = btfpack::resolve(o);
//   if (!r.ok()) { ...r.error().message... }
//   opts.btf_custom_path = r->native ? nullptr : r->btf.path().c_str();
//   // keep `r` (its CustomBtf) alive until bpf_object__load() returns
//
// explain() runs the same steps and never fails as a call: it returns what
// it learned up to the failure, for `btfpack explain`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "btfpack/bundle.h"
#include "btfpack/handoff.h"
#include "btfpack/host.h"
#include "btfpack/match.h"
#include "btfpack/result.h"
#include "btfpack/supplement.h"
#include "btfpack/trust.h"

namespace btfpack {

// HandOff says how the chosen BTF reaches libbpf.
enum class HandOff {
  memfd, // sealed memfd, /proc/self/fd/N (default; in-process loaders)
  cache, // root-owned cache file (other processes, scripts)
  none,  // resolve only: no path (the digest and entry are still given)
};

struct ResolveOptions {
  // bundle: a bundle file; empty = the installed store's bundle made for
  // the caller (choose_bundle: `name`, else the objects, else the only
  // name installed).
  std::filesystem::path bundle;
  std::string name;                // the bundle name to use from the store
  std::filesystem::path store_dir; // empty = paths::store_dir()
  // bundle_bytes: a bundle in memory (e.g. linked into the agent by
  // btfpack_embed_bundle, cmake/BtfpackEmbed.cmake), used instead of
  // `bundle` and the store when not empty; verified as a file is
  // (Bundle::open_view). Read only during resolve(): the result does not
  // point into it.
  std::span<const std::uint8_t> bundle_bytes;
  // bundle_bytes_name names it in messages; empty: "in-memory bundle".
  std::string bundle_bytes_name;
  // supplements: supplement bundles of that bundle (docs/bundle-format.md
  // "Supplements"), each checked with check_supplement against it and the
  // same trust policy; for a kernel in several, the newest version wins.
  std::vector<std::filesystem::path> supplements;
  // keys: trusted key files or policy directories; empty = keys_dir, read
  // as a trust policy (trust.h: <name>/*.pub bind keys to names), unless
  // key_texts is given.
  std::vector<std::filesystem::path> keys;
  std::filesystem::path keys_dir; // empty = paths::keys_dir()
  // key_texts: public keys as the contents of minisign .pub files (e.g.
  // embedded with the bundle), trusted besides `keys`. With key_texts and
  // no `keys`, keys_dir is not read.
  std::vector<std::string> key_texts;
  HostOptions host;
  MatchPolicy policy;
  // objects: the BPF object files about to be loaded; object_digests: or
  // their sha256. A bundle minimized for other objects is refused
  // (Errc::stale). Both empty: not checked.
  std::vector<std::filesystem::path> objects;
  std::vector<Sha256> object_digests;
  HandOff handoff = HandOff::memfd;
  std::filesystem::path cache_dir; // empty = paths::cache_dir()
  bool allow_expired = false;
  std::int64_t now = 0; // 0 = the clock (tests set it)
};

// BundleConsidered is one installed bundle choose_bundle looked at, and why
// it won or lost.
struct BundleConsidered {
  std::string name;
  std::filesystem::path path;
  std::uint64_t version = 0;
  std::int64_t created = 0;
  std::string manifest_sha256;
  bool host_kernel = false; // has an exact entry for this host
  bool won = false;
  std::string why;
};

// BundleInfo is what explain shows about the bundle.
struct BundleInfo {
  bool opened = false;
  std::filesystem::path path;
  std::string signer; // key id, minisign style
  std::string signer_key_file;
  BundleMeta meta;
  std::size_t entries = 0;
  std::string manifest_sha256;
  // supplements: one line per supplement used ("supplement \"NAME\"
  // version N (PATH), K kernels").
  std::vector<std::string> supplements;
};

// Resolution is the answer: native, or a bundle entry handed over.
struct Resolution {
  HostFacts host;
  BundleInfo bundle;
  MatchDecision decision;
  bool native = false; // use the kernel's own BTF: no custom path
  Sha256 digest{};     // the chosen blob's sha256
  std::uint32_t btf_types = 0;
  std::string source;             // which bundle the chosen BTF came from
  CustomBtf btf;                  // owns the hand-off; btf.path() for libbpf
  std::vector<std::string> notes; // staleness check, cache events
  std::vector<BundleConsidered> considered; // store bundles looked at

  // custom_path is btf_custom_path for libbpf: nullptr when native.
  const char *custom_path() const {
    return native || btf.empty() ? nullptr : btf.path().c_str();
  }
};

// resolve runs verify -> identify -> match -> check -> hand-off. Errors:
// whatever Bundle::open returns (before any matching), Errc::stale,
// Errc::no_match (naming host facts, nearest entries, what to do),
// Errc::corrupt (BTF failed the structural check), Errc::io.
Result<Resolution> resolve(const ResolveOptions &opts);

// Explanation is resolve's result plus the error that stopped it, if any.
struct Explanation {
  Resolution r;
  std::optional<Error> error;
  std::string stage; // where it stopped: "host", "keys", "bundle", ...
};
// explain never fails as a call. Unlike resolve, it opens the bundle even
// when native BTF is present, to show what the bundle would give.
Explanation explain(const ResolveOptions &opts);

// choose_bundle picks the store bundle made for the caller: the one named
// `o.name`; else, with objects, only bundles made for all of them, the one
// with the host's kernel first, then the newest (`created`, version);
// else the only name installed. Several names and neither a name nor
// objects: Errc::invalid_argument listing the names (never a silent pick).
// Every bundle looked at is appended to `considered` with why.
Result<std::filesystem::path>
choose_bundle(const ResolveOptions &o, const HostFacts &host,
              const TrustPolicy &policy, const std::vector<Sha256> &objects,
              std::vector<BundleConsidered> &considered);

// route_libbpf_logs sends libbpf's messages to btfpack::log (warn → warn,
// info → info, debug → debug), so parse reasons reach the operator.
void route_libbpf_logs();

} // namespace btfpack
