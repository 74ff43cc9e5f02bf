// SPDX-License-Identifier: Apache-2.0
#include "trusted_keys.h"

#include <algorithm>
#include <filesystem>

namespace btfpack::cli {

Result<std::vector<PublicKey>>
load_trusted_keys(const std::vector<std::string> &paths) {
  std::vector<PublicKey> keys;
  for (const auto &p : paths) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p, ec)) {
      for (const auto &e : std::filesystem::directory_iterator(p, ec))
        if (e.path().extension() == ".pub")
          files.push_back(e.path());
      std::sort(files.begin(), files.end());
      if (files.empty())
        return make_error(Errc::not_found,
                          "no *.pub key file in directory " + p);
    } else {
      files.push_back(p);
    }
    for (const auto &f : files) {
      BTFPACK_TRY(k, PublicKey::read_file(f));
      keys.push_back(k);
    }
  }
  return keys;
}

} // namespace btfpack::cli
