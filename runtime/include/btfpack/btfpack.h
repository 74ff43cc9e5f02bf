/* SPDX-License-Identifier: Apache-2.0 */
/*
 * btfpack's C API, for libbpf-tools-style loaders and agents. Two forms:
 *
 * The handle form (preferred): resolve once, hand the path to libbpf, free
 * the handle after bpf_object__load returned. The handle owns the sealed
 * memfd, so copying or reusing the opts structs cannot lose or replace it.
 *
 *   BTFPACK_OPTS(bo, .prefer_bundle = 0);
 *   struct btfpack_btf *btf = btfpack_resolve(&bo);
 *   if (!btf) { ...errno, btfpack_last_error()... }
 *   LIBBPF_OPTS(bpf_object_open_opts, oo,
 *               .btf_custom_path = btfpack_btf__path(btf));
 *   obj = bpf_object__open_file(path, &oo);  ... bpf_object__load(obj);
 *   btfpack_btf__free(btf);
 *
 * The libbpf-tools form: btfpack_ensure_core_btf(&open_opts) before
 * bpf_object__open / <skel>__open_opts and btfpack_cleanup_core_btf after
 * the object is loaded (or destroyed); <btfpack/btf_helpers.h> maps
 * libbpf-tools' ensure_core_btf/cleanup_core_btf names onto these. It is a
 * thin wrapper over the handle form, keyed by the open_opts' address.
 *
 * With native BTF present nothing is set (path NULL); otherwise the path is
 * a sealed memfd (/proc/self/fd/N) holding the verified, minimized BTF for
 * this host.
 *
 * Conventions are libbpf's: functions returning int give 0 or a negative
 * errno and set errno; functions returning a pointer give NULL and set
 * errno. Opts structs carry their size (sz, set by BTFPACK_OPTS); a struct
 * from a newer caller whose unknown fields are non-zero is refused with
 * -EINVAL. No function lets an exception out: allocation failure is
 * -ENOMEM, anything unexpected -EIO, with btfpack_last_error() saying what.
 *
 * libbpf: libbtfpack calls into the libbpf of the process (only
 * libbpf_set_print, for btfpack_route_libbpf_logs). libbtfpack.so does not
 * name libbpf.so as a dependency: the program provides libbpf, linked
 * statically or shared, so there is exactly one libbpf in the process.
 */
#ifndef BTFPACK_BTFPACK_H
#define BTFPACK_BTFPACK_H

#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef BTFPACK_API
#define BTFPACK_API __attribute__((visibility("default")))
#endif

struct bpf_object_open_opts;

/* btfpack_object: the bytes of a BPF object about to be loaded, e.g. what a
 * skeleton embeds (<name>__elf_bytes(&size)), for the staleness check. */
struct btfpack_object {
  const char *name; /* for messages; NULL: "object N" */
  const void *data;
  size_t size;
};

/* btfpack_opts: every field may be zero/NULL for the installed defaults
 * (the bundle of the store /var/lib/btfpack made for the caller, see `name`;
 * keys /etc/btfpack/keys, a trust policy; cache /var/cache/btfpack). The
 * environment ($BTFPACK_STORE, $BTFPACK_KEYS_DIR, $BTFPACK_CACHE_DIR) moves
 * those defaults only with use_env set, and is read with secure_getenv (ignored
 * in set-uid/set-capability programs). Declare with BTFPACK_OPTS(name, .field =
 * value, ...), which sets sz. */
struct btfpack_opts {
  size_t sz;                    /* sizeof(struct btfpack_opts) */
  const char *bundle_path;      /* NULL: the installed store's bundle */
  const char *const *key_paths; /* NULL-terminated list; NULL: keys_dir */
  const char *keys_dir;         /* NULL: /etc/btfpack/keys */
  const char *host_root;        /* e.g. "/host" in a container; NULL: "/" */
  const char *object_path;      /* BPF object file being loaded: refuse a
                                   bundle made for other objects; NULL: no
                                   check */
  const char *cache_dir;        /* with use_cache; NULL: /var/cache/btfpack */
  int prefer_bundle;            /* use the bundle even with native BTF */
  int allow_nearest;            /* neighbours' BTF when provably identical */
  int use_cache;                /* root-owned cache file instead of memfd */
  int allow_expired;            /* accept a bundle past its expiry */
  /* since 0.1.0 (BTFPACK_0.1): */
  const struct btfpack_object *objects; /* objects_cnt objects in memory,
                                           checked like object_path */
  size_t objects_cnt;
  int use_env; /* let $BTFPACK_STORE/_KEYS_DIR/_CACHE_DIR move defaults */
  /* appended after 0.1.0 (older callers pass a smaller sz): */
  const char *name; /* the installed bundle made for this agent (its
                       manifest name); NULL: the one made for the objects,
                       or the only one installed */
  /* A bundle in memory, e.g. linked into the program by
   * btfpack_embed_bundle() (cmake/BtfpackEmbed.cmake, <btfpack_embedded.h>):
   * used instead of bundle_path, verified as a file is. Read only during
   * btfpack_resolve / btfpack_ensure_core_btf_opts. */
  const void *bundle_data;
  size_t bundle_size;
  const char *bundle_data_name; /* for messages; NULL: "in-memory bundle" */
  /* A trusted public key as the bytes of a minisign .pub file (e.g. embedded
   * with the bundle). With key_data and no key_paths, keys_dir is not read. */
  const void *key_data;
  size_t key_size;
  size_t : 0;
};
#define btfpack_opts__last_field key_size

/* BTFPACK_OPTS declares and zeroes a struct btfpack_opts `NAME`, sets sz
 * and the given fields, as libbpf's LIBBPF_OPTS. */
#define BTFPACK_OPTS(NAME, ...)                                                \
  struct btfpack_opts NAME = ({                                                \
    memset(&NAME, 0, sizeof(struct btfpack_opts));                             \
    (struct btfpack_opts){.sz = sizeof(struct btfpack_opts), __VA_ARGS__};     \
  })

/* struct btfpack_btf: one resolution and the hand-off it owns. */
struct btfpack_btf;

/* btfpack_resolve verifies the bundle, identifies the host and prepares the
 * matching BTF. opts may be NULL (defaults). Returns a handle, or NULL with
 * errno: ENOENT (no BTF for this host, no bundle, no keys), EKEYREJECTED
 * (signature), ESTALE (bundle made for other objects), EKEYEXPIRED,
 * EBADMSG (corrupt), EIO, ENOMEM, EINVAL (bad opts). */
BTFPACK_API struct btfpack_btf *
btfpack_resolve(const struct btfpack_opts *opts);

/* btfpack_btf__path is btf_custom_path for libbpf: NULL when the kernel's
 * own BTF is to be used. Valid until btfpack_btf__free. */
BTFPACK_API const char *btfpack_btf__path(const struct btfpack_btf *btf);

/* btfpack_btf__is_native: 1 when the kernel's own BTF is used, else 0. */
BTFPACK_API int btfpack_btf__is_native(const struct btfpack_btf *btf);

/* btfpack_btf__summary: one line saying what was chosen and why. */
BTFPACK_API const char *btfpack_btf__summary(const struct btfpack_btf *btf);

/* btfpack_btf__free closes the hand-off (memfd). NULL is allowed. Call it
 * only after bpf_object__load returned. */
BTFPACK_API void btfpack_btf__free(struct btfpack_btf *btf);

/* btfpack_ensure_core_btf resolves with the installed defaults and sets
 * opts->btf_custom_path, or leaves it NULL when the kernel has its own BTF.
 * Returns 0 or a negative errno (as btfpack_resolve). */
BTFPACK_API int btfpack_ensure_core_btf(struct bpf_object_open_opts *opts);

/* btfpack_ensure_core_btf_opts is btfpack_ensure_core_btf with options. */
BTFPACK_API int btfpack_ensure_core_btf_opts(struct bpf_object_open_opts *opts,
                                             const struct btfpack_opts *bopts);

/* btfpack_cleanup_core_btf releases what ensure set up for `opts` (closes
 * the memfd) and clears btf_custom_path. Safe to call more than once, and
 * when nothing was set. Call it only after bpf_object__load returned. */
BTFPACK_API void btfpack_cleanup_core_btf(struct bpf_object_open_opts *opts);

/* btfpack_last_error returns this thread's last error message ("" if none).
 * Valid until the next btfpack call on this thread. */
BTFPACK_API const char *btfpack_last_error(void);

/* btfpack_route_libbpf_logs sends libbpf's messages to stderr through
 * btfpack's logger at the given verbosity (0 warn, 1 info, 2 debug). */
BTFPACK_API void btfpack_route_libbpf_logs(int verbosity);

#ifdef __cplusplus
}
#endif

#endif /* BTFPACK_BTFPACK_H */
