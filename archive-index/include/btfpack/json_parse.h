// SPDX-License-Identifier: Apache-2.0
//
// Parsing untrusted JSON text with nlohmann/json without letting any of its
// exceptions escape: syntax errors and number overflows ("1e999") alike
// become Errc::corrupt errors naming the file and the line. Every JSON file
// btfpack reads (listings, indexes, reports, cache records) goes through
// parse_json, so its depth and size bounds hold everywhere.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "btfpack/result.h"

namespace btfpack {

// btfpack's JSON files nest 4 deep (a listing: object, tree array, entry).
inline constexpr std::size_t JSON_MAX_DEPTH = 64;
// A full archive listing holds about 1M values; 16M bounds a document to a
// few hundred MB of nodes whatever its text.
inline constexpr std::size_t JSON_MAX_VALUES = 16u << 20;

// parse_json returns the document, or "NAME:LINE: not valid JSON: cause".
// Nesting deeper than JSON_MAX_DEPTH or more than JSON_MAX_VALUES values is
// refused as it is read (Errc::corrupt, with the limit): a few hundred KB
// of brackets would otherwise build gigabytes of nodes.
Result<nlohmann::json> parse_json(std::string_view text, std::string_view name);

// line_of_offset is the 1-based line holding byte `off` of text.
std::size_t line_of_offset(std::string_view text, std::size_t off);

namespace detail {
using btfpack::line_of_offset;
using btfpack::parse_json;
} // namespace detail

} // namespace btfpack
