// SPDX-License-Identifier: Apache-2.0
//
// The C API (btfpack/btfpack.h). Every entry point runs its body inside
// guarded(): no exception ever leaves the library into the agent (a C
// caller cannot catch it; it would abort the process). Messages live in a
// fixed thread-local buffer, so reporting an error cannot throw either.
#include "btfpack/btfpack.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>

#include "btfpack/log.h"
#include "btfpack/paths.h"
#include "btfpack/runtime.h"
#include "btfpack/sha256.h"

using namespace btfpack;

struct btfpack_btf {
  Resolution r;
  std::string summary;
};

namespace {

thread_local char last_error[2048];

void set_error(const char *msg) noexcept {
  std::snprintf(last_error, sizeof(last_error), "%s", msg ? msg : "");
}

// fail records the message and returns -err with errno set (libbpf style).
int fail(int err, const char *msg) noexcept {
  set_error(msg);
  errno = err;
  return -err;
}
int fail(int err, const std::string &msg) noexcept {
  return fail(err, msg.c_str());
}

// guarded runs `body` (returning 0 or -errno) and turns any exception into
// a negative errno with a message.
template <typename F> int guarded(const char *fn, F &&body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "%s: out of memory; free memory or raise the process's "
                  "memory limit and retry",
                  fn);
    return fail(ENOMEM, buf);
  } catch (const std::system_error &e) {
    int c = e.code().category() == std::generic_category() ||
                    e.code().category() == std::system_category()
                ? e.code().value()
                : EIO;
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%s: %s", fn, e.what());
    return fail(c > 0 ? c : EIO, buf);
  } catch (const std::exception &e) {
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "%s: internal error: %s (a btfpack bug: please report it)",
                  fn, e.what());
    return fail(EIO, buf);
  } catch (...) {
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "%s: internal error (a btfpack bug: please report it)", fn);
    return fail(EIO, buf);
  }
}

int to_errno(Errc c) {
  switch (c) {
  case Errc::no_match:
  case Errc::not_found:
    return ENOENT;
  case Errc::bad_signature:
    return EKEYREJECTED;
  case Errc::stale:
    return ESTALE;
  case Errc::expired:
    return EKEYEXPIRED;
  case Errc::corrupt:
  case Errc::digest_mismatch:
    return EBADMSG;
  case Errc::io:
    return EIO;
  case Errc::unsupported:
    return ENOTSUP;
  default:
    return EINVAL;
  }
}

// opts_valid is libbpf's OPTS_VALID: sz at least covers sz itself, and a
// struct larger than this version's has only zero bytes past it.
bool opts_valid(const btfpack_opts *o, std::string &why) {
  if (!o)
    return true;
  if (o->sz < sizeof(o->sz)) {
    why = "btfpack_opts.sz is " + std::to_string(o->sz) +
          ": declare the struct with BTFPACK_OPTS() or set sz = "
          "sizeof(struct btfpack_opts)";
    return false;
  }
  const auto *b = reinterpret_cast<const unsigned char *>(o);
  for (std::size_t i = sizeof(btfpack_opts); i < o->sz; ++i)
    if (b[i] != 0) {
      why = "btfpack_opts has a non-zero field at byte " + std::to_string(i) +
            " that this libbtfpack (" + std::to_string(sizeof(btfpack_opts)) +
            "-byte opts) does not know: the program was built against a "
            "newer btfpack; install that version or leave the field unset";
      return false;
    }
  return true;
}

// Field access honours sz, so an older caller's smaller struct works.
template <typename T>
T field(const btfpack_opts *o, T btfpack_opts::*m, std::size_t end_off) {
  if (!o || o->sz < end_off)
    return T{};
  return o->*m;
}

#define BO(name)                                                               \
  field(bo, &btfpack_opts::name,                                               \
        offsetof(btfpack_opts, name) + sizeof(btfpack_opts::name))

// both_or_neither: a pointer field and its size are given together; 0 or
// -EINVAL naming both fields.
int both_or_neither(const void *p, std::size_t n, const char *pf,
                    const char *nf, const char *what) {
  if (!p == !n)
    return 0;
  return fail(EINVAL, std::string("btfpack_opts.") + pf + " is " +
                          (p ? "set" : "NULL") + " but " + nf + " is " +
                          std::to_string(n) + ": give both (" + what +
                          ") or neither");
}

// in_memory_fields takes the embedded bundle and key into `ro`; 0 or
// -errno. The bytes are read during resolve only.
int in_memory_fields(const btfpack_opts *bo, ResolveOptions &ro) {
  const void *data = BO(bundle_data);
  std::size_t size = BO(bundle_size);
  if (int rc = both_or_neither(data, size, "bundle_data", "bundle_size",
                               "the embedded bundle and its size"))
    return rc;
  if (data) {
    ro.bundle_bytes = {static_cast<const std::uint8_t *>(data), size};
    const char *n = BO(bundle_data_name);
    ro.bundle_bytes_name =
        n ? n : "in-memory bundle (" + std::to_string(size) + " bytes)";
  }
  const void *key = BO(key_data);
  std::size_t key_size = BO(key_size);
  if (int rc = both_or_neither(key, key_size, "key_data", "key_size",
                               "the public key file's bytes and their count"))
    return rc;
  if (key)
    ro.key_texts.emplace_back(static_cast<const char *>(key), key_size);
  return 0;
}

// resolve_handle does btfpack_resolve's work; 0 or -errno.
int resolve_handle(const btfpack_opts *bo, std::unique_ptr<btfpack_btf> &out) {
  set_error("");
  std::string why;
  if (!opts_valid(bo, why))
    return fail(EINVAL, why);
  ResolveOptions ro;
  // Trust roots: the compiled-in defaults unless the caller opts in to the
  // environment (then paths:: reads it with secure_getenv).
  if (!BO(use_env)) {
    ro.store_dir = paths::DEFAULT_STORE_DIR;
    ro.keys_dir = paths::DEFAULT_KEYS_DIR;
    ro.cache_dir = paths::DEFAULT_CACHE_DIR;
  }
  if (const char *s = BO(bundle_path))
    ro.bundle = s;
  if (const char *s = BO(name))
    ro.name = s;
  if (const char *const *k = BO(key_paths))
    for (; *k; ++k)
      ro.keys.emplace_back(*k);
  if (const char *s = BO(keys_dir))
    ro.keys_dir = s;
  if (const char *s = BO(host_root))
    ro.host.host_root = s;
  if (const char *s = BO(object_path))
    ro.objects.emplace_back(s);
  const btfpack_object *objs = BO(objects);
  std::size_t n = BO(objects_cnt);
  if (n && !objs)
    return fail(EINVAL, "btfpack_opts.objects is NULL but objects_cnt is " +
                            std::to_string(n));
  for (std::size_t i = 0; i < n; ++i) {
    if (!objs[i].data || !objs[i].size)
      return fail(EINVAL, "btfpack_opts.objects[" + std::to_string(i) +
                              "] has no bytes (data NULL or size 0)");
    ro.object_digests.push_back(sha256(std::string_view(
        static_cast<const char *>(objs[i].data), objs[i].size)));
  }
  if (int err = in_memory_fields(bo, ro))
    return err;
  ro.policy.prefer_bundle = BO(prefer_bundle) != 0;
  ro.policy.allow_nearest = BO(allow_nearest) != 0;
  ro.allow_expired = BO(allow_expired) != 0;
  if (BO(use_cache)) {
    ro.handoff = HandOff::cache;
    if (const char *s = BO(cache_dir))
      ro.cache_dir = s;
  }
  auto r = resolve(ro);
  if (!r.ok()) {
    std::string msg = r.error().message;
    // Name the in-memory objects as the caller did.
    for (std::size_t i = 0; i < n; ++i) {
      std::string tag = "object " + to_hex(ro.object_digests[i]).substr(0, 12);
      std::string name = objs[i].name ? objs[i].name : tag;
      if (auto p = msg.find(tag); p != std::string::npos && name != tag)
        msg.replace(p, tag.size(), name);
    }
    return fail(to_errno(r.error().code), msg);
  }
  for (const auto &w : r->decision.warnings)
    log::warn(w);
  auto h = std::make_unique<btfpack_btf>();
  h->r = std::move(*r);
  h->summary = h->r.decision.summary;
  out = std::move(h);
  return 0;
}

#undef BO

// The ensure/cleanup form: handles alive, by the open_opts they were
// written into (cleanup gets only the opts back, as with libbpf-tools).
std::mutex live_mu;
std::map<const bpf_object_open_opts *, std::unique_ptr<btfpack_btf>> &live() {
  static std::map<const bpf_object_open_opts *, std::unique_ptr<btfpack_btf>> m;
  return m;
}

} // namespace

extern "C" struct btfpack_btf *btfpack_resolve(const struct btfpack_opts *bo) {
  btfpack_btf *ret = nullptr;
  guarded("btfpack_resolve", [&] {
    std::unique_ptr<btfpack_btf> h;
    int err = resolve_handle(bo, h);
    if (err == 0)
      ret = h.release();
    return err;
  });
  return ret;
}

extern "C" const char *btfpack_btf__path(const struct btfpack_btf *btf) {
  return btf ? btf->r.custom_path() : nullptr;
}

extern "C" int btfpack_btf__is_native(const struct btfpack_btf *btf) {
  return btf && btf->r.native ? 1 : 0;
}

extern "C" const char *btfpack_btf__summary(const struct btfpack_btf *btf) {
  return btf ? btf->summary.c_str() : "";
}

extern "C" void btfpack_btf__free(struct btfpack_btf *btf) {
  guarded("btfpack_btf__free", [&] {
    delete btf;
    return 0;
  });
}

extern "C" int btfpack_ensure_core_btf(struct bpf_object_open_opts *opts) {
  return btfpack_ensure_core_btf_opts(opts, nullptr);
}

extern "C" int btfpack_ensure_core_btf_opts(struct bpf_object_open_opts *opts,
                                            const struct btfpack_opts *bo) {
  return guarded("btfpack_ensure_core_btf", [&] {
    if (!opts)
      return fail(EINVAL, "btfpack_ensure_core_btf: opts is NULL");
    std::unique_ptr<btfpack_btf> h;
    if (int err = resolve_handle(bo, h))
      return err;
    std::lock_guard<std::mutex> lock(live_mu);
    live().erase(opts);
    opts->btf_custom_path = h->r.custom_path();
    if (!h->r.native)
      live()[opts] = std::move(h);
    return 0;
  });
}

extern "C" void btfpack_cleanup_core_btf(struct bpf_object_open_opts *opts) {
  guarded("btfpack_cleanup_core_btf", [&] {
    if (!opts)
      return 0;
    std::lock_guard<std::mutex> lock(live_mu);
    auto it = live().find(opts);
    if (it == live().end())
      return 0;
    if (opts->btf_custom_path == it->second->r.custom_path())
      opts->btf_custom_path = nullptr;
    live().erase(it);
    return 0;
  });
}

extern "C" const char *btfpack_last_error(void) {
  return last_error;
}

extern "C" void btfpack_route_libbpf_logs(int verbosity) {
  guarded("btfpack_route_libbpf_logs", [&] {
    log::set_sink(log::stderr_sink());
    log::set_level(verbosity >= 2   ? log::Level::debug
                   : verbosity == 1 ? log::Level::info
                                    : log::Level::warn);
    route_libbpf_logs();
    return 0;
  });
}
