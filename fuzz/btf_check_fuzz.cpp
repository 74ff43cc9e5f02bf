// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_runtime
//
// The structural BTF check that stands between a bundle blob and libbpf
// (libbpf 1.1.2 segfaults on out-of-range type ids). It must not crash on
// any input, and whatever it accepts must be safe for libbpf to parse:
// btf__new() runs on every accepted input under ASan.
#include <bpf/btf.h>
#include <cstdint>
#include <span>

#include "btfpack/btf_check.h"

using namespace btfpack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::span<const std::uint8_t> in(data, size);
  auto r = check_btf(in, "fuzz");
  if (!r.ok() || r->elf)
    return 0;
  struct btf *b = btf__new(data, static_cast<std::uint32_t>(size));
  if (b) {
    // Walk every type the way a CO-RE relocation would.
    std::uint32_t n = btf__type_cnt(b);
    for (std::uint32_t id = 1; id < n; id++)
      (void)btf__resolve_size(b, id);
    btf__free(b);
  }
  return 0;
}
