// SPDX-License-Identifier: Apache-2.0
//
// The index file: versioned JSON (docs/index-format.md). Reading is strict
// (every field typed and checked, paths re-validated against the layout, an
// entry's fields must agree with its path) because fetcher and btfgen trust
// what it says; every error names the file and the line.
#include <nlohmann/json.hpp>

#include "btfpack/archive_index.h"
#include "btfpack/file_util.h"
#include "btfpack/json_parse.h"
#include "index_fast_reader.h"

namespace btfpack {

namespace {

using json = nlohmann::json;

constexpr std::string_view SCHEMA_NAME = "btfpack-index";

// entry_line finds the line where the n-th object of the top-level
// "entries" array starts, for messages about one entry. Only called on
// errors, so a second pass over the text is fine.
std::size_t entry_line(std::string_view text, std::size_t n) {
  std::string stack; // '{' or '['
  bool in_str = false, esc = false;
  std::size_t count = 0, line = 1;
  for (char c : text) {
    if (c == '\n')
      line++;
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    switch (c) {
    case '"':
      in_str = true;
      break;
    case '{':
      if (stack == "{[" && count++ == n)
        return line;
      stack.push_back(c);
      break;
    case '[':
      stack.push_back(c);
      break;
    case '}':
    case ']':
      if (!stack.empty())
        stack.pop_back();
      break;
    default:
      break;
    }
  }
  return 0;
}

bool is_hex(std::string_view s, std::size_t len) {
  if (s.size() != len)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

class Reader {
public:
  Reader(std::string_view text, std::string_view name)
      : text_(text), name_(name) {}

  Error at_entry(std::size_t i, const std::string &why) const {
    std::size_t line = entry_line(text_, i);
    std::string where = std::string(name_);
    if (line)
      where += ":" + std::to_string(line);
    return make_error(Errc::corrupt, where + ": entry " + std::to_string(i) +
                                         ": " + why +
                                         " (regenerate the index)");
  }
  Error at_top(const std::string &why) const {
    return make_error(Errc::corrupt, std::string(name_) + ": " + why +
                                         " (regenerate the index)");
  }

  Result<Index> read() {
    auto parsed = detail::parse_json(text_, name_);
    if (!parsed)
      return make_error(Errc::corrupt,
                        parsed.error().message + " (regenerate the index)");
    const json &doc = parsed.value();
    if (!doc.is_object())
      return at_top("line 1: expected a JSON object");
    auto sv = doc.find("schema_version");
    if (sv == doc.end())
      return at_top("no schema_version: not a btfpack index");
    if (!sv->is_number_integer() && !sv->is_number_unsigned())
      return at_top("schema_version is not an integer");
    auto ver = sv->get<std::int64_t>();
    if (ver != Index::SCHEMA_VERSION)
      return make_error(Errc::unsupported,
                        std::string(name_) + ": unknown index schema version " +
                            std::to_string(ver) + " (this btfpack reads " +
                            std::to_string(Index::SCHEMA_VERSION) +
                            "): upgrade btfpack or regenerate the index");
    if (auto s = doc.find("schema"); s != doc.end()) {
      if (!s->is_string() || s->get_ref<const std::string &>() != SCHEMA_NAME)
        return at_top("schema is not \"btfpack-index\"");
    }
    Index idx;
    if (auto s = doc.find("source"); s != doc.end()) {
      if (!s->is_string())
        return at_top("source is not a string");
      idx.source = s->get<std::string>();
    }
    auto es = doc.find("entries");
    if (es == doc.end() || !es->is_array())
      return at_top("no entries array");
    idx.entries.reserve(es->size());
    for (std::size_t i = 0; i < es->size(); i++) {
      BTFPACK_TRY(e, read_entry((*es)[i], i));
      idx.entries.push_back(std::move(e));
    }
    idx.sort();
    for (std::size_t i = 1; i < idx.entries.size(); i++)
      if (idx.entries[i].path == idx.entries[i - 1].path)
        return at_top("duplicate entry for " + idx.entries[i].path);
    return idx;
  }

private:
  Result<IndexEntry> read_entry(const json &j, std::size_t i) const {
    if (!j.is_object())
      return at_entry(i, "not an object");
    auto str = [&](const char *key, bool required,
                   std::string &out) -> Result<void> {
      auto it = j.find(key);
      if (it == j.end()) {
        if (required)
          return at_entry(i, std::string("missing \"") + key + "\"");
        return ok();
      }
      if (!it->is_string())
        return at_entry(i, std::string("\"") + key + "\" is not a string");
      out = it->get<std::string>();
      return ok();
    };
    std::string path;
    BTFPACK_CHECK(str("path", true, path));
    auto parsed = parse_archive_path(path);
    if (!parsed)
      return at_entry(i, parsed.error().message);
    IndexEntry e = std::move(parsed).value();
    // Redundant fields, written for readers with jq; they must agree.
    for (auto [key, want] :
         {std::pair<const char *, const std::string *>{"distro", &e.distro},
          {"version", &e.version},
          {"arch", &e.arch},
          {"release", &e.release}}) {
      std::string v;
      BTFPACK_CHECK(str(key, false, v));
      if (j.contains(key) && v != *want)
        return at_entry(i, std::string("\"") + key + "\" is '" + v +
                               "' but the path says '" + *want + "'");
    }
    auto sz = j.find("size");
    if (sz == j.end())
      return at_entry(i, "missing \"size\"");
    if (!sz->is_number_unsigned())
      return at_entry(i, "\"size\" is not a non-negative integer");
    e.size = sz->get<std::uint64_t>();
    BTFPACK_CHECK(str("sha256", false, e.sha256));
    if (!e.sha256.empty() && !is_hex(e.sha256, 64))
      return at_entry(i, "\"sha256\" is not 64 lowercase hex digits");
    BTFPACK_CHECK(str("git_blob", false, e.git_blob));
    if (!e.git_blob.empty() && !is_hex(e.git_blob, 40) &&
        !is_hex(e.git_blob, 64))
      return at_entry(i, "\"git_blob\" is not 40 or 64 lowercase hex digits");
    if (auto mt = j.find("mtime_ns"); mt != j.end()) {
      if (!mt->is_number_integer() ||
          (mt->is_number_unsigned() &&
           mt->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
        return at_entry(i, "\"mtime_ns\" is not a 64-bit integer");
      e.mtime_ns = mt->get<std::int64_t>();
    }
    if (auto ct = j.find("ctime_ns"); ct != j.end()) {
      if (!ct->is_number_integer() ||
          (ct->is_number_unsigned() &&
           ct->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
        return at_entry(i, "\"ctime_ns\" is not a 64-bit integer");
      e.ctime_ns = ct->get<std::int64_t>();
    }
    if (auto in = j.find("inode"); in != j.end()) {
      if (!in->is_number_unsigned())
        return at_entry(i, "\"inode\" is not an unsigned 64-bit integer");
      e.inode = in->get<std::uint64_t>();
    }
    return e;
  }

  std::string_view text_, name_;
};

} // namespace

std::string Index::to_json(bool pretty) const {
  // Invalid UTF-8 in a path is replaced rather than thrown: paths come from
  // the file system and must not make writing the index fail.
  auto dump = [](const auto &j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  // One entry per line when pretty: diffs stay readable and an error's
  // line number points at one entry.
  std::string out = "{\"schema\":\"" + std::string(SCHEMA_NAME) +
                    "\",\"schema_version\":" + std::to_string(SCHEMA_VERSION) +
                    ",\"source\":" + dump(json(source)) + ",\"entries\":[";
  const char *nl = pretty ? "\n" : "";
  for (std::size_t i = 0; i < entries.size(); i++) {
    const auto &e = entries[i];
    nlohmann::ordered_json j;
    j["path"] = e.path;
    j["distro"] = e.distro;
    j["version"] = e.version;
    j["arch"] = e.arch;
    j["release"] = e.release;
    j["size"] = e.size;
    if (!e.sha256.empty())
      j["sha256"] = e.sha256;
    if (!e.git_blob.empty())
      j["git_blob"] = e.git_blob;
    if (e.mtime_ns != 0)
      j["mtime_ns"] = e.mtime_ns;
    if (e.ctime_ns != 0)
      j["ctime_ns"] = e.ctime_ns;
    if (e.inode != 0)
      j["inode"] = e.inode;
    out += i ? "," : "";
    out += nl;
    out += dump(j);
  }
  out += nl;
  out += "]}\n";
  return out;
}

Result<Index> Index::from_json(std::string_view text, std::string_view name) {
  if (auto fast = detail::fast_read_index(text)) {
    fast->sort();
    bool dup = false;
    for (std::size_t i = 1; i < fast->entries.size() && !dup; i++)
      dup = fast->entries[i].path == fast->entries[i - 1].path;
    if (!dup)
      return std::move(*fast);
  }
  // Declined by the fast path: the strict reader decides, and explains.
  return Reader(text, name).read();
}

Result<Index> detail::strict_read_index(std::string_view text,
                                        std::string_view name) {
  return Reader(text, name).read();
}

Result<Index> Index::read_file(const std::filesystem::path &path) {
  BTFPACK_TRY(text, read_text_file(path, 1ull << 30));
  return from_json(text, path.string());
}

Result<void> Index::write_file(const std::filesystem::path &path) const {
  return write_file_atomic(path, to_json(true));
}

} // namespace btfpack
