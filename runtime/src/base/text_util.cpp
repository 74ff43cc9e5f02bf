// SPDX-License-Identifier: Apache-2.0
#include "btfpack/text_util.h"

namespace btfpack {

std::vector<std::string_view>
split_any(std::string_view s, std::string_view seps, EmptyParts empty) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); i++) {
    if (i == s.size() || seps.find(s[i]) != std::string_view::npos) {
      if (i > start || empty == EmptyParts::keep)
        out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

} // namespace btfpack
