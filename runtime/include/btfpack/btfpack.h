/* SPDX-License-Identifier: Apache-2.0 */
/*
 * btfpack's C API, for libbpf-tools-style loaders. It has the shape of
 * libbpf-tools' btf_helpers.h: call btfpack_ensure_core_btf(&open_opts)
 * before bpf_object__open / <skel>__open_opts and btfpack_cleanup_core_btf
 * after the object is loaded (or destroyed). With native BTF present nothing
 * is set; otherwise btf_custom_path points at a sealed memfd
 * (/proc/self/fd/N) holding the verified, minimized BTF for this host, which
 * stays open until cleanup. <btfpack/btf_helpers.h> maps libbpf-tools'
 * ensure_core_btf/cleanup_core_btf names onto these.
 *
 * Functions return 0 on success or a negative errno; btfpack_last_error()
 * gives the message (naming host facts, bundle and what to do).
 */
#ifndef BTFPACK_BTFPACK_H
#define BTFPACK_BTFPACK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpf_object_open_opts;

/* btfpack_opts: every field may be zero/NULL for the installed defaults
 * (bundle /var/lib/btfpack/bundles/current, keys /etc/btfpack/keys/\*.pub,
 * or $BTFPACK_STORE / $BTFPACK_KEYS_DIR). Set sz = sizeof(struct
 * btfpack_opts). */
struct btfpack_opts {
  size_t sz;
  const char *bundle_path;      /* NULL: installed store's current bundle */
  const char *const *key_paths; /* NULL-terminated list; NULL: keys_dir */
  const char *keys_dir;         /* NULL: /etc/btfpack/keys */
  const char *host_root;        /* e.g. "/host" in a container; NULL: "/" */
  const char *object_path;      /* BPF object being loaded: refuse a bundle
                                   made for other objects; NULL: no check */
  const char *cache_dir;        /* with use_cache; NULL: /var/cache/btfpack */
  int prefer_bundle;            /* use the bundle even with native BTF */
  int allow_nearest;            /* neighbours' BTF when provably identical */
  int use_cache;                /* root-owned cache file instead of memfd */
  int allow_expired;            /* accept a bundle past its expiry */
};

/* btfpack_ensure_core_btf resolves with the installed defaults and sets
 * opts->btf_custom_path, or leaves it NULL when the kernel has its own BTF.
 * Returns 0, or -ENOENT (no BTF for this host), -EKEYREJECTED (signature),
 * -ESTALE (bundle made for other objects), -EKEYEXPIRED, -EBADMSG (corrupt),
 * -EIO, -EINVAL. */
int btfpack_ensure_core_btf(struct bpf_object_open_opts *opts);

/* btfpack_ensure_core_btf_opts is btfpack_ensure_core_btf with options. */
int btfpack_ensure_core_btf_opts(struct bpf_object_open_opts *opts,
                                 const struct btfpack_opts *bopts);

/* btfpack_cleanup_core_btf releases what ensure set up for `opts` (closes
 * the memfd) and clears btf_custom_path. Safe to call more than once, and
 * when nothing was set. Call it only after bpf_object__load returned. */
void btfpack_cleanup_core_btf(struct bpf_object_open_opts *opts);

/* btfpack_last_error returns this thread's last error message ("" if none).
 * Valid until the next btfpack call on this thread. */
const char *btfpack_last_error(void);

/* btfpack_route_libbpf_logs sends libbpf's messages to stderr through
 * btfpack's logger at the given verbosity (0 warn, 1 info, 2 debug). */
void btfpack_route_libbpf_logs(int verbosity);

#ifdef __cplusplus
}
#endif

#endif /* BTFPACK_BTFPACK_H */
