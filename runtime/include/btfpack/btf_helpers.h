/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drop-in for libbpf-tools' btf_helpers.h: a loader that calls
 * ensure_core_btf(&open_opts) / cleanup_core_btf(&open_opts) switches to
 * btfpack by including <btfpack/btf_helpers.h> instead and linking
 * btfpack_runtime. The BTF comes from the signed bundle of the installed
 * store rather than an embedded tarball.
 */
#ifndef BTFPACK_BTF_HELPERS_H
#define BTFPACK_BTF_HELPERS_H

#include <btfpack/btfpack.h>

static inline int ensure_core_btf(struct bpf_object_open_opts *opts) {
  return btfpack_ensure_core_btf(opts);
}

static inline void cleanup_core_btf(struct bpf_object_open_opts *opts) {
  btfpack_cleanup_core_btf(opts);
}

#endif /* BTFPACK_BTF_HELPERS_H */
