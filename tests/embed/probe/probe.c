// SPDX-License-Identifier: Apache-2.0
/* embed_probe BUNDLE_OUT KEY_OUT: writes the embedded bundle and key back
 * out and prints their sizes, the name, and what btfpack_embedded_opts
 * set. */
#include <stdio.h>
#include <string.h>

#include <btfpack_embedded.h>

static int put(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    perror(path);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s BUNDLE_OUT KEY_OUT\n", argv[0]);
    return 2;
  }
  struct btfpack_embedded e = btfpack_embedded_get();
  BTFPACK_OPTS(bo, .prefer_bundle = 1);
  btfpack_embedded_opts(&bo);
  printf("bundle %zu bytes, key %zu bytes (%s), name \"%s\"\n", e.bundle_size,
         e.key_size, e.key[e.key_size] == '\0' ? "NUL-terminated" : "open",
         e.name);
  printf("opts: %s\n",
         bo.bundle_data == e.bundle && bo.bundle_size == e.bundle_size &&
                 bo.key_data == e.key && bo.key_size == e.key_size &&
                 strcmp(bo.bundle_data_name, e.name) == 0
             ? "set"
             : "WRONG");
  return put(argv[1], e.bundle, e.bundle_size) |
         put(argv[2], e.key, e.key_size);
}
