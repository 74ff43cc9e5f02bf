// SPDX-License-Identifier: Apache-2.0
//
// consumer BUNDLE KEY.pub EXPECTED_BTF: a third-party program on the
// installed package's public API (btfpack/btfpack.h) only: resolves this
// host's BTF from BUNDLE with prefer_bundle, reads what the handle hands
// over and checks it equals EXPECTED_BTF. Built twice, against
// btfpack::runtime (libbtfpack.so) and btfpack::runtime_static
// (libbtfpack.a, one static executable).
#include <btfpack/btfpack.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

static std::string slurp(const char *p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: consumer BUNDLE KEY.pub EXPECTED_BTF\n");
    return 2;
  }
  const char *keys[] = {argv[2], nullptr};
  BTFPACK_OPTS(bo, .bundle_path = argv[1], .key_paths = keys,
               .prefer_bundle = 1);
  struct btfpack_btf *btf = btfpack_resolve(&bo);
  if (!btf) {
    std::fprintf(stderr, "resolve: %s (%s)\n", btfpack_last_error(),
                 std::strerror(errno));
    return 1;
  }
  const char *path = btfpack_btf__path(btf);
  if (!path || slurp(path) != slurp(argv[3])) {
    std::fprintf(stderr, "the BTF handed over differs from %s\n", argv[3]);
    btfpack_btf__free(btf);
    return 1;
  }
  std::printf("ok consumer %s\n", btfpack_btf__summary(btf));
  btfpack_btf__free(btf);
  return 0;
}
