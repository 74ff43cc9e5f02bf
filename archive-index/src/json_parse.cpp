// SPDX-License-Identifier: Apache-2.0
#include "btfpack/json_parse.h"

#include <algorithm>

namespace btfpack {

std::size_t line_of_offset(std::string_view text, std::size_t off) {
  off = std::min(off, text.size());
  return 1 + static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + off, '\n'));
}

namespace {

using json = nlohmann::json;

// BoundedSax builds the document with nlohmann's own DOM builder and stops
// the parse (returns false) at the first value past a limit.
class BoundedSax {
public:
  explicit BoundedSax(json &out) : dom_(out, true) {}
  std::string limit_hit; // set when a limit stopped the parse

  bool null() { return count() && dom_.null(); }
  bool boolean(bool v) { return count() && dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) {
    return count() && dom_.number_integer(v);
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return count() && dom_.number_unsigned(v);
  }
  bool number_float(json::number_float_t v, const json::string_t &s) {
    return count() && dom_.number_float(v, s);
  }
  bool string(json::string_t &v) { return count() && dom_.string(v); }
  bool binary(json::binary_t &v) { return count() && dom_.binary(v); }
  bool start_object(std::size_t n) { return enter() && dom_.start_object(n); }
  bool key(json::string_t &v) { return dom_.key(v); }
  bool end_object() {
    depth_--;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    depth_--;
    return dom_.end_array();
  }
  bool parse_error(std::size_t pos, const std::string &tok,
                   const nlohmann::detail::exception &e) {
    return dom_.parse_error(pos, tok, e); // throws it
  }

private:
  bool count() {
    if (++values_ <= JSON_MAX_VALUES)
      return true;
    limit_hit = "more than " + std::to_string(JSON_MAX_VALUES) +
                " values (the limit for a btfpack JSON file)";
    return false;
  }
  bool enter() {
    if (++depth_ > JSON_MAX_DEPTH) {
      limit_hit = "nested more than " + std::to_string(JSON_MAX_DEPTH) +
                  " levels deep (the limit for a btfpack JSON file)";
      return false;
    }
    return count();
  }
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::size_t depth_ = 0, values_ = 0;
};

} // namespace

Result<nlohmann::json> parse_json(std::string_view text,
                                  std::string_view name) {
  std::size_t off = 0;
  std::string what;
  try {
    json out;
    BoundedSax sax(out);
    bool done = json::sax_parse(text.begin(), text.end(), &sax);
    if (done)
      return out;
    // Stopped by a limit: the position is the end of what was read, which
    // the SAX interface does not give; name the limit.
    return make_error(Errc::corrupt,
                      std::string(name) + ": not accepted: " +
                          (sax.limit_hit.empty() ? std::string("parse stopped")
                                                 : sax.limit_hit));
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

} // namespace btfpack
