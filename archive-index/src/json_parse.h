// SPDX-License-Identifier: Apache-2.0
//
// Parsing untrusted JSON text with nlohmann/json without letting any of its
// exceptions escape: syntax errors and number overflows ("1e999") alike
// become Errc::corrupt errors naming the file and the line.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "btfpack/result.h"

namespace btfpack::detail {

// parse_json returns the document, or "NAME:LINE: not valid JSON: cause".
Result<nlohmann::json> parse_json(std::string_view text, std::string_view name);

// line_of_offset is the 1-based line holding byte `off` of text.
std::size_t line_of_offset(std::string_view text, std::size_t off);

} // namespace btfpack::detail
