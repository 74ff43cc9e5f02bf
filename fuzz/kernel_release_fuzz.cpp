// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_archive_index
//
// Kernel release strings (from uname, os-release-adjacent files, archive
// paths and listings). Input is up to three releases separated by '\n':
// parsing must round-trip byte for byte, and the order must be a strict
// total order (equal only when identical, antisymmetric, transitive).
// Archive paths are checked on the same input.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "btfpack/archive_index.h"
#include "btfpack/kernel_release.h"

using namespace btfpack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size() && parts.size() < 3; i++) {
    if (i == text.size() || text[i] == '\n') {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  std::vector<KernelRelease> ks;
  for (auto p : parts) {
    auto k = KernelRelease::parse(p);
    if (k.str() != p)
      std::abort();
    if (k.opaque() != k.version().empty())
      std::abort();
    if (!k.opaque() && k.version().size() < 2)
      std::abort();
    if ((k <=> k) != 0)
      std::abort();
    ks.push_back(std::move(k));
    // the same text as an archive path: accepted paths re-split exactly
    auto e = parse_archive_path(p);
    if (e.ok() && (e->distro + "/" + e->version + "/" + e->arch + "/" +
                   e->release + ".btf.tar.xz") != p)
      std::abort();
  }
  for (const auto &a : ks)
    for (const auto &b : ks) {
      auto ab = a <=> b, ba = b <=> a;
      if ((ab == 0) != (a.str() == b.str()))
        std::abort();
      if ((ab < 0) != (ba > 0))
        std::abort();
      auto n = natural_compare(a.str(), b.str());
      if ((n == 0) != (a.str() == b.str()))
        std::abort();
      for (const auto &c : ks)
        if (a < b && b < c && !(a < c))
          std::abort();
    }
  return 0;
}
