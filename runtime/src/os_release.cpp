// SPDX-License-Identifier: Apache-2.0
#include "btfpack/os_release.h"

#include "btfpack/file_util.h"
#include "btfpack/text_util.h"

namespace btfpack {

namespace {

bool valid_key(std::string_view k) {
  if (k.empty() || (k[0] >= '0' && k[0] <= '9'))
    return false;
  for (char c : k)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

// parse_value decodes a shell-style value the way os-release(5) allows:
// concatenated unquoted, "double" (backslash escapes $ " \ ` and newline) and
// 'single' (literal) parts. Returns false with a reason for an unterminated
// quote or unquoted whitespace inside the value.
bool parse_value(std::string_view v, std::string &out, std::string &why) {
  out.clear();
  std::size_t i = 0;
  // Trailing whitespace after the value is tolerated (systemd does too).
  while (!v.empty() && is_space(v.back()))
    v.remove_suffix(1);
  while (i < v.size()) {
    char c = v[i];
    if (c == '"') {
      ++i;
      bool closed = false;
      while (i < v.size()) {
        char d = v[i];
        if (d == '\\' && i + 1 < v.size()) {
          char e = v[i + 1];
          if (e == '"' || e == '\\' || e == '$' || e == '`') {
            out += e;
            i += 2;
            continue;
          }
          out += d;
          ++i;
          continue;
        }
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        out += d;
        ++i;
      }
      if (!closed) {
        why = "unterminated double quote";
        return false;
      }
    } else if (c == '\'') {
      auto end = v.find('\'', i + 1);
      if (end == std::string_view::npos) {
        why = "unterminated single quote";
        return false;
      }
      out.append(v.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '\\' && i + 1 < v.size()) {
      out += v[i + 1];
      i += 2;
    } else if (is_space(c)) {
      why = "unquoted whitespace in value";
      return false;
    } else {
      out += c;
      ++i;
    }
  }
  return true;
}

} // namespace

std::string OsRelease::get(std::string_view key) const {
  auto it = fields.find(std::string(key));
  return it == fields.end() ? std::string() : it->second;
}

std::vector<std::string> OsRelease::id_like() const {
  const std::string value = get("ID_LIKE");
  auto parts = split_any(value, " \t\r\f\v\n", EmptyParts::drop);
  return {parts.begin(), parts.end()};
}

Result<OsRelease> parse_os_release(std::string_view text,
                                   std::string_view name) {
  if (text.size() > OS_RELEASE_MAX_BYTES)
    return make_error(Errc::corrupt,
                      "parse os-release " + std::string(name) + ": file is " +
                          std::to_string(text.size()) + " bytes, limit is " +
                          std::to_string(OS_RELEASE_MAX_BYTES) +
                          " (not an os-release file?)");
  if (text.find('\0') != std::string_view::npos)
    return make_error(Errc::corrupt,
                      "parse os-release " + std::string(name) +
                          ": binary content (NUL byte); expected KEY=VALUE "
                          "text per os-release(5)");
  OsRelease os;
  std::size_t pos = 0;
  std::size_t lineno = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line = text.substr(
        pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineno;
    while (!line.empty() && is_space(line.front()))
      line.remove_prefix(1);
    while (!line.empty() && is_space(line.back()))
      line.remove_suffix(1);
    if (line.empty() || line.front() == '#')
      continue;
    auto eq = line.find('=');
    std::string where = "line " + std::to_string(lineno) + ": ";
    if (eq == std::string_view::npos) {
      os.skipped.push_back(where + "no '='");
      continue;
    }
    auto key = line.substr(0, eq);
    if (!valid_key(key)) {
      os.skipped.push_back(where + "invalid key");
      continue;
    }
    std::string value, why;
    if (!parse_value(line.substr(eq + 1), value, why)) {
      os.skipped.push_back(where + why);
      continue;
    }
    os.fields[std::string(key)] = std::move(value);
  }
  return os;
}

Result<OsRelease> read_os_release(const std::filesystem::path &path,
                                  Symlinks links) {
  // One byte over the limit so parse_os_release reports the size.
  auto text = read_text_file(path, OS_RELEASE_MAX_BYTES + 1, links);
  if (!text.ok()) {
    auto e = text.error();
    if (e.code == Errc::corrupt)
      e.message = "read os-release " + path.string() + ": larger than " +
                  std::to_string(OS_RELEASE_MAX_BYTES) +
                  " bytes (not an os-release file?)";
    return e;
  }
  return parse_os_release(*text, path.string());
}

} // namespace btfpack
