// SPDX-License-Identifier: Apache-2.0
#include "fetch_paths.h"

#include <string_view>

#include "btfpack/sha256.h"

namespace btfpack::fetch {

std::string unsafe_path_reason(const std::string &rel_path) {
  if (rel_path.empty())
    return "empty path";
  if (rel_path.front() == '/')
    return "absolute path";
  for (unsigned char c : rel_path) {
    if (c < 0x20 || c == 0x7f)
      return "control character in path";
    if (c == '\\')
      return "backslash in path";
  }
  std::string_view rest(rel_path);
  while (true) {
    auto slash = rest.find('/');
    std::string_view comp = rest.substr(0, slash);
    if (comp.empty())
      return "empty path component";
    if (comp == "..")
      return "'..' component";
    if (comp == ".")
      return "'.' component";
    if (slash == std::string_view::npos)
      break;
    rest.remove_prefix(slash + 1);
  }
  return {};
}

std::string partial_name(const std::string &rel_path) {
  std::string out;
  for (char c : rel_path) {
    if (c == '%')
      out += "%25";
    else if (c == '/')
      out += "%2F";
    else
      out.push_back(c);
  }
  out += ".part";
  if (out.size() > 240)
    out = "h-" + to_hex(sha256(rel_path)) + ".part";
  return out;
}

namespace {
int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}
} // namespace

std::filesystem::path local_source_dir(const std::string &from) {
  if (from.rfind("file://", 0) != 0)
    return from;
  std::string rest = from.substr(7);
  if (rest.rfind("localhost/", 0) == 0)
    rest = rest.substr(9);
  std::string out;
  for (std::size_t i = 0; i < rest.size(); i++) {
    if (rest[i] == '%' && i + 2 < rest.size() && hexval(rest[i + 1]) >= 0 &&
        hexval(rest[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(hexval(rest[i + 1]) * 16 + hexval(rest[i + 2])));
      i += 2;
    } else {
      out.push_back(rest[i]);
    }
  }
  return out;
}

} // namespace btfpack::fetch
