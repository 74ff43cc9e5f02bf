// SPDX-License-Identifier: Apache-2.0
/*
 * one_libbpf BUNDLE KEY.pub [OBJECT.bpf.o]: an agent that links libbpf.a
 * statically and libbtfpack.so dynamically. libbtfpack.so names no libbpf
 * of its own, so its libbpf calls bind to the program's copy: the process
 * has one libbpf, and no libbpf.so is mapped (/proc/self/maps). Resolves
 * with the bundle (prefer_bundle) and, given OBJECT, loads it with that
 * BTF. Prints "maps: no libbpf.so", "btf PATH", "loaded"; exit 0 when all
 * of it held, 77 when loading is not permitted here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <btfpack/btfpack.h>

static int count_libbpf_so(void) {
  char line[4096];
  int n = 0;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (strstr(line, "libbpf.so"))
      n++;
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: one_libbpf BUNDLE KEY.pub [OBJECT.bpf.o]\n");
    return 2;
  }
  /* Goes through libbtfpack into libbpf_set_print: the program's libbpf. */
  btfpack_route_libbpf_logs(0);
  int n = count_libbpf_so();
  if (n != 0) {
    printf("maps: %d mappings of libbpf.so\n", n);
    return 1;
  }
  printf("maps: no libbpf.so\n");
  const char *keys[] = {argv[2], NULL};
  BTFPACK_OPTS(bo, .bundle_path = argv[1], .key_paths = keys,
               .prefer_bundle = 1);
  struct btfpack_btf *btf = btfpack_resolve(&bo);
  if (!btf) {
    fprintf(stderr, "resolve: %s (%s)\n", btfpack_last_error(),
            strerror(errno));
    return 1;
  }
  printf("btf %s\n", btfpack_btf__path(btf));
  int ret = 0;
  if (argc > 3) {
    LIBBPF_OPTS(bpf_object_open_opts, oo,
                .btf_custom_path = btfpack_btf__path(btf));
    struct bpf_object *obj = bpf_object__open_file(argv[3], &oo);
    if (!obj) {
      fprintf(stderr, "open %s: %s\n", argv[3], strerror(errno));
      ret = 1;
    } else {
      int err = bpf_object__load(obj);
      if (err == -EPERM || err == -EACCES)
        ret = 77;
      else if (err) {
        fprintf(stderr, "load %s: %s\n", argv[3], strerror(-err));
        ret = 1;
      } else
        printf("loaded %s\n", argv[3]);
      bpf_object__close(obj);
    }
  }
  btfpack_btf__free(btf);
  if (count_libbpf_so() != 0) {
    printf("maps: libbpf.so appeared\n");
    ret = 1;
  }
  return ret;
}
