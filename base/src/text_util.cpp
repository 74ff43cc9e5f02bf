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

std::string terminal_safe(std::string_view s) {
  static constexpr char HEX[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      out += "\\x";
      out += HEX[c >> 4];
      out += HEX[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

} // namespace btfpack
