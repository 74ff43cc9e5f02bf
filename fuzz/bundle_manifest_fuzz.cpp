// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_runtime
//
// The manifest text parser (runtime/src/bundle_format.cpp) and the preamble
// line. Beyond "no crash": an accepted 1.0 manifest is canonical, so encoding
// it again gives the input byte for byte; accepted manifests keep their
// invariants (sorted kernels, blobs referenced and bases earlier, delta
// chains within MAX_CHAIN_RAW); an
// accepted preamble re-encodes exactly.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "bundle_format.h"

using namespace btfpack;
using namespace btfpack::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto m = parse_manifest(text, "fuzz");
  if (m) {
    if (m->minor == FORMAT_MINOR && encode_manifest(*m) != text)
      std::abort();
    std::vector<std::uint64_t> chain(m->blobs.size());
    for (std::size_t i = 0; i < m->blobs.size(); i++) {
      if (m->blobs[i].base && *m->blobs[i].base >= i)
        std::abort();
      // A delta chain decompresses to at most MAX_CHAIN_RAW bytes.
      chain[i] =
          m->blobs[i].raw + (m->blobs[i].base ? chain[*m->blobs[i].base] : 0);
      if (chain[i] > MAX_CHAIN_RAW)
        std::abort();
    }
    for (std::size_t i = 0; i < m->kernels.size(); i++) {
      const auto &k = m->kernels[i];
      if (k.blob >= m->blobs.size())
        std::abort();
      if (i > 0) {
        const auto &p = m->kernels[i - 1];
        if (std::tie(p.distro, p.version, p.arch, p.release) >=
            std::tie(k.distro, k.version, k.arch, k.release))
          std::abort();
      }
    }
  }
  auto p = parse_preamble(text, "fuzz");
  if (p) {
    if (p->major != FORMAT_MAJOR || p->length > MAX_PREAMBLE)
      std::abort();
    if (p->minor <= FORMAT_MINOR &&
        encode_preamble(p->sig_size, p->manifest_size, p->minor) !=
            text.substr(0, p->length))
      std::abort();
  }
  return 0;
}
