// SPDX-License-Identifier: Apache-2.0
#include "trusted_keys.h"

#include "btfpack/paths.h"

namespace btfpack::cli {

Result<TrustPolicy> trust_policy(const std::vector<std::string> &keys) {
  std::vector<std::filesystem::path> files(keys.begin(), keys.end());
  return load_trust_policy(files, paths::keys_dir());
}

} // namespace btfpack::cli
