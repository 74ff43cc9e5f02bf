// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_runtime
//
// os-release parsing (untrusted: a container may mount anything at /host).
// Parsing must not crash, must refuse oversized or binary input, and must
// round-trip: every parsed field, written back double-quoted with
// os-release(5)'s escapes, parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "btfpack/os_release.h"

using namespace btfpack;

namespace {

std::string quote(const std::string &v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\' || c == '$' || c == '`')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto os = parse_os_release(text, "fuzz");
  bool has_nul = text.find('\0') != std::string_view::npos;
  if (os.ok() == (has_nul || size > OS_RELEASE_MAX_BYTES))
    std::abort();
  if (!os.ok())
    return 0;
  std::string again;
  for (const auto &[k, v] : os->fields) {
    if (k.empty() || v.find('\n') != std::string::npos)
      std::abort(); // values never span lines
    again += k + "=" + quote(v) + "\n";
  }
  auto os2 = parse_os_release(again, "fuzz-again");
  if (!os2.ok() || os2->fields != os->fields || !os2->skipped.empty())
    std::abort();
  (void)os->id_like();
  return 0;
}
