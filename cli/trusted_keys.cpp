// SPDX-License-Identifier: Apache-2.0
#include "trusted_keys.h"

#include "btfpack/runtime.h"

#include <filesystem>

namespace btfpack::cli {

Result<std::vector<PublicKey>>
load_trusted_keys(const std::vector<std::string> &paths) {
  std::vector<PublicKey> keys;
  for (const auto &p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      BTFPACK_TRY(k, PublicKey::read_file(p));
      keys.push_back(std::move(k));
      continue;
    }
    // A directory of keys: every *.pub in it, as the runtime reads them.
    BTFPACK_TRY(found, btfpack::load_trusted_keys({}, p));
    for (auto &k : found)
      keys.push_back(std::move(k.second));
  }
  return keys;
}

} // namespace btfpack::cli
