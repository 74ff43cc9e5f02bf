// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_archive_index
//
// The index file reader (Index::from_json). Differential: the fast path and
// the strict nlohmann/json reader must agree on every input the fast path
// accepts, and whatever is accepted must survive a write/read round trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "btfpack/archive_index.h"
#include "index_fast_reader.h"

using namespace btfpack;

namespace {
bool same(const Index &a, const Index &b) {
  if (a.source != b.source || a.entries.size() != b.entries.size())
    return false;
  for (std::size_t i = 0; i < a.entries.size(); i++) {
    const auto &x = a.entries[i], &y = b.entries[i];
    if (x.path != y.path || x.distro != y.distro || x.version != y.version ||
        x.arch != y.arch || x.release != y.release || x.size != y.size ||
        x.sha256 != y.sha256 || x.git_blob != y.git_blob ||
        x.mtime_ns != y.mtime_ns)
      return false;
  }
  return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto strict = detail::strict_read_index(text, "fuzz.json");
  if (auto fast = detail::fast_read_index(text)) {
    fast->sort();
    bool dup = false;
    for (std::size_t i = 1; i < fast->entries.size(); i++)
      dup |= fast->entries[i].path == fast->entries[i - 1].path;
    if (!dup && (!strict.ok() || !same(*fast, *strict)))
      std::abort(); // the fast path accepted what the strict one did not
  }
  auto r = Index::from_json(text, "fuzz.json");
  if (r.ok() != strict.ok())
    std::abort();
  if (!r.ok()) {
    if (r.error().message.empty())
      std::abort();
    return 0;
  }
  for (std::size_t i = 0; i < r->entries.size(); i++) {
    if (!parse_archive_path(r->entries[i].path).ok())
      std::abort();
    // Index::sort's quick sortedness check must leave a strictly sorted index
    if (i > 0 && !entry_less(r->entries[i - 1], r->entries[i]))
      std::abort();
  }
  // Round trip: what was read is written and read back identically
  // (sources with invalid UTF-8 are written with replacement characters).
  auto again = Index::from_json(r->to_json(true), "again.json");
  if (!again.ok())
    std::abort();
  if (again->entries.size() != r->entries.size())
    std::abort();
  return 0;
}
