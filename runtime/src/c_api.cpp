// SPDX-License-Identifier: Apache-2.0
#include "btfpack/btfpack.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <map>
#include <mutex>

#include "btfpack/log.h"
#include "btfpack/runtime.h"

using namespace btfpack;

namespace {

thread_local std::string last_error;

// The hand-offs alive, by the open_opts they were written into: cleanup
// gets only the opts back, as with libbpf-tools.
std::mutex live_mu;
std::map<const bpf_object_open_opts *, CustomBtf> &live() {
  static std::map<const bpf_object_open_opts *, CustomBtf> m;
  return m;
}

int to_errno(Errc c) {
  switch (c) {
  case Errc::no_match:
  case Errc::not_found:
    return -ENOENT;
  case Errc::bad_signature:
    return -EKEYREJECTED;
  case Errc::stale:
    return -ESTALE;
  case Errc::expired:
    return -EKEYEXPIRED;
  case Errc::corrupt:
  case Errc::digest_mismatch:
    return -EBADMSG;
  case Errc::io:
    return -EIO;
  case Errc::unsupported:
    return -ENOTSUP;
  default:
    return -EINVAL;
  }
}

// Field access honours sz, so an older caller's smaller struct works.
template <typename T>
T field(const btfpack_opts *o, T btfpack_opts::*m, std::size_t end_off) {
  if (!o || o->sz < end_off)
    return T{};
  return o->*m;
}

} // namespace

extern "C" int btfpack_ensure_core_btf(struct bpf_object_open_opts *opts) {
  return btfpack_ensure_core_btf_opts(opts, nullptr);
}

extern "C" int btfpack_ensure_core_btf_opts(struct bpf_object_open_opts *opts,
                                            const struct btfpack_opts *bo) {
  last_error.clear();
  if (!opts) {
    last_error = "btfpack_ensure_core_btf: opts is NULL";
    return -EINVAL;
  }
#define BO(name)                                                               \
  field(bo, &btfpack_opts::name,                                               \
        offsetof(btfpack_opts, name) + sizeof(btfpack_opts::name))
  ResolveOptions ro;
  if (const char *s = BO(bundle_path))
    ro.bundle = s;
  if (const char *const *k = BO(key_paths))
    for (; *k; ++k)
      ro.keys.emplace_back(*k);
  if (const char *s = BO(keys_dir))
    ro.keys_dir = s;
  if (const char *s = BO(host_root))
    ro.host.host_root = s;
  if (const char *s = BO(object_path))
    ro.objects.emplace_back(s);
  ro.policy.prefer_bundle = BO(prefer_bundle) != 0;
  ro.policy.allow_nearest = BO(allow_nearest) != 0;
  ro.allow_expired = BO(allow_expired) != 0;
  if (BO(use_cache)) {
    ro.handoff = HandOff::cache;
    if (const char *s = BO(cache_dir))
      ro.cache_dir = s;
  }
#undef BO
  auto r = resolve(ro);
  if (!r.ok()) {
    last_error = r.error().message;
    return to_errno(r.error().code);
  }
  for (const auto &w : r->decision.warnings)
    log::warn(w);
  std::lock_guard<std::mutex> lock(live_mu);
  live().erase(opts);
  if (r->native) {
    opts->btf_custom_path = nullptr;
    return 0;
  }
  auto &slot = live()[opts];
  slot = std::move(r->btf);
  opts->btf_custom_path = slot.path().c_str();
  return 0;
}

extern "C" void btfpack_cleanup_core_btf(struct bpf_object_open_opts *opts) {
  if (!opts)
    return;
  std::lock_guard<std::mutex> lock(live_mu);
  auto it = live().find(opts);
  if (it == live().end())
    return;
  if (opts->btf_custom_path == it->second.path().c_str())
    opts->btf_custom_path = nullptr;
  live().erase(it);
}

extern "C" const char *btfpack_last_error(void) {
  return last_error.c_str();
}

extern "C" void btfpack_route_libbpf_logs(int verbosity) {
  log::set_sink(log::stderr_sink());
  log::set_level(verbosity >= 2   ? log::Level::debug
                 : verbosity == 1 ? log::Level::info
                                  : log::Level::warn);
  route_libbpf_logs();
}
