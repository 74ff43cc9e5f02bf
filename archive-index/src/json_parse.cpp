// SPDX-License-Identifier: Apache-2.0
#include "json_parse.h"

#include <algorithm>

namespace btfpack::detail {

std::size_t line_of_offset(std::string_view text, std::size_t off) {
  off = std::min(off, text.size());
  return 1 + static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + off, '\n'));
}

Result<nlohmann::json> parse_json(std::string_view text,
                                  std::string_view name) {
  using json = nlohmann::json;
  std::size_t off = 0;
  std::string what;
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error &e) {
    off = e.byte > 0 ? e.byte - 1 : 0; // e.byte is 1-based
    what = e.what();
  } catch (const json::exception &e) {
    // out_of_range.406 "number overflow parsing '69e6187'" has no position:
    // find the quoted token in the text.
    what = e.what();
    auto q1 = what.find('\'');
    auto q2 = what.rfind('\'');
    if (q1 != std::string::npos && q2 > q1 + 1) {
      auto tok = std::string_view(what).substr(q1 + 1, q2 - q1 - 1);
      auto at = text.find(tok);
      off = at == std::string_view::npos ? 0 : at;
    }
  }
  // Drop nlohmann's "[json.exception.parse_error.101] parse error at line
  // 3, column 5: " prefix; the position is given our way.
  if (auto at = what.find("parse error at line"); at != std::string::npos) {
    if (auto p = what.find(": ", at); p != std::string::npos)
      what = what.substr(p + 2);
  } else if (auto b = what.find("] "); b != std::string::npos) {
    what = what.substr(b + 2);
  }
  return make_error(Errc::corrupt,
                    std::string(name) + ":" +
                        std::to_string(line_of_offset(text, off)) +
                        ": not valid JSON: " + what);
}

} // namespace btfpack::detail
