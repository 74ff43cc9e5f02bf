// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_archive_index
//
// The remote listing parser (GitHub recursive git tree JSON): untrusted
// input from the network. Whatever it accepts must be entries inside the
// archive layout, sorted, without duplicates.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "btfpack/archive_index.h"

using namespace btfpack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::vector<std::string> skipped;
  auto r = parse_git_tree_listing(text, "fuzz.json", &skipped);
  if (!r.ok())
    return r.error().message.empty() ? (std::abort(), 0) : 0;
  for (std::size_t i = 0; i < r->entries.size(); i++) {
    const auto &e = r->entries[i];
    auto p = parse_archive_path(e.path);
    if (!p.ok() || p->release != e.release || e.git_blob.empty())
      std::abort();
    if (i > 0 && !entry_less(r->entries[i - 1], e))
      std::abort();
  }
  return 0;
}
