// SPDX-License-Identifier: Apache-2.0
#include "index_fast_reader.h"

#include <charconv>
#include <cstdint>
#include <string>

namespace btfpack::detail {

namespace {

bool is_hex(std::string_view s, std::size_t len) {
  if (s.size() != len)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

// Every method returns false to give up; the strict reader takes over.
class FastReader {
public:
  explicit FastReader(std::string_view t)
      : p_(t.data()), end_(t.data() + t.size()) {}

  bool read(Index &idx) {
    ws();
    if (!eat('{'))
      return false;
    bool have_version = false, have_entries = false, have_schema = false,
         have_source = false;
    std::string key;
    ws();
    if (peek() == '}')
      return false; // no schema_version
    for (;;) {
      ws();
      if (!string(key))
        return false;
      ws();
      if (!eat(':'))
        return false;
      ws();
      if (key == "schema_version") {
        std::int64_t v;
        if (have_version || !integer(v) || v != Index::SCHEMA_VERSION)
          return false;
        have_version = true;
      } else if (key == "schema") {
        std::string s;
        if (have_schema || !string(s) || s != "btfpack-index")
          return false;
        have_schema = true;
      } else if (key == "source") {
        if (have_source || !string(idx.source))
          return false;
        have_source = true;
      } else if (key == "entries") {
        if (have_entries || !entries(idx))
          return false;
        have_entries = true;
      } else if (!skip_value(0)) {
        return false;
      }
      ws();
      if (eat(','))
        continue;
      if (eat('}'))
        break;
      return false;
    }
    ws();
    return p_ == end_ && have_version && have_entries;
  }

private:
  char peek() const { return p_ < end_ ? *p_ : '\0'; }
  bool eat(char c) {
    if (p_ < end_ && *p_ == c) {
      p_++;
      return true;
    }
    return false;
  }
  void ws() {
    while (p_ < end_ &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r'))
      p_++;
  }

  // ASCII strings only; \uXXXX and non-ASCII bytes are left to the strict
  // reader (which validates UTF-8).
  bool string(std::string &out) {
    if (!eat('"'))
      return false;
    out.clear();
    const char *start = p_;
    while (p_ < end_ && *p_ != '"' && *p_ != '\\') {
      auto u = static_cast<unsigned char>(*p_);
      if (u < 0x20 || u >= 0x80)
        return false;
      p_++;
    }
    out.assign(start, p_);
    while (p_ < end_) {
      char c = *p_++;
      if (c == '"')
        return true;
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x80)
        return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (p_ >= end_)
        return false;
      switch (*p_++) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      default:
        return false;
      }
    }
    return false;
  }

  // Non-negative JSON integers without leading zeros, fraction or exponent.
  bool unsigned_int(std::uint64_t &v) {
    if (p_ >= end_ || *p_ < '0' || *p_ > '9')
      return false;
    if (*p_ == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9')
      return false;
    auto [end, ec] = std::from_chars(p_, end_, v);
    if (ec != std::errc())
      return false; // more than 64 bits
    p_ = end;
    return p_ >= end_ || (*p_ != '.' && *p_ != 'e' && *p_ != 'E');
  }
  bool integer(std::int64_t &v) {
    bool neg = eat('-');
    std::uint64_t u;
    if (!unsigned_int(u) || u > static_cast<std::uint64_t>(INT64_MAX))
      return false;
    if (neg && u == 0)
      return false; // "-0": leave the odd cases to the strict reader
    v = neg ? -static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u);
    return true;
  }

  bool skip_value(int depth) {
    if (depth > 32)
      return false;
    ws();
    char c = peek();
    if (c == '"') {
      std::string s;
      return string(s);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      p_++;
      ws();
      if (eat(close))
        return true;
      for (;;) {
        ws();
        if (c == '{') {
          std::string k;
          if (!string(k))
            return false;
          ws();
          if (!eat(':'))
            return false;
        }
        if (!skip_value(depth + 1))
          return false;
        ws();
        if (eat(','))
          continue;
        return eat(close);
      }
    }
    for (std::string_view lit : {"true", "false", "null"}) {
      if (static_cast<std::size_t>(end_ - p_) >= lit.size() &&
          std::string_view(p_, lit.size()) == lit) {
        p_ += lit.size();
        return true;
      }
    }
    std::int64_t v;
    return integer(v);
  }

  bool entries(Index &idx) {
    if (!eat('['))
      return false;
    ws();
    if (eat(']'))
      return true;
    for (;;) {
      ws();
      if (!entry(idx))
        return false;
      ws();
      if (eat(','))
        continue;
      return eat(']');
    }
  }

  bool entry(Index &idx) {
    if (!eat('{'))
      return false;
    enum : unsigned {
      PATH = 1,
      DISTRO = 2,
      VERSION = 4,
      ARCH = 8,
      RELEASE = 16,
      SIZE = 32,
      SHA = 64,
      BLOB = 128,
      MTIME = 256,
      CTIME = 512,
      INODE = 1024
    };
    unsigned seen = 0;
    std::string path, distro, version, arch, release, sha, blob;
    std::uint64_t size = 0;
    std::int64_t mtime = 0, ctime = 0;
    std::uint64_t inode = 0;
    ws();
    if (peek() == '}')
      return false; // no path
    for (;;) {
      ws();
      if (!string(key_))
        return false;
      ws();
      if (!eat(':'))
        return false;
      ws();
      unsigned bit = 0;
      bool ok = true;
      if (key_ == "path")
        bit = PATH, ok = string(path);
      else if (key_ == "distro")
        bit = DISTRO, ok = string(distro);
      else if (key_ == "version")
        bit = VERSION, ok = string(version);
      else if (key_ == "arch")
        bit = ARCH, ok = string(arch);
      else if (key_ == "release")
        bit = RELEASE, ok = string(release);
      else if (key_ == "size")
        bit = SIZE, ok = unsigned_int(size);
      else if (key_ == "sha256")
        bit = SHA, ok = string(sha);
      else if (key_ == "git_blob")
        bit = BLOB, ok = string(blob);
      else if (key_ == "mtime_ns")
        bit = MTIME, ok = integer(mtime);
      else if (key_ == "ctime_ns")
        bit = CTIME, ok = integer(ctime);
      else if (key_ == "inode")
        bit = INODE, ok = unsigned_int(inode);
      else
        ok = skip_value(1);
      if (!ok || (seen & bit))
        return false;
      seen |= bit;
      ws();
      if (eat(','))
        continue;
      if (eat('}'))
        break;
      return false;
    }
    if (!(seen & PATH) || !(seen & SIZE))
      return false;
    auto parsed = parse_archive_path(path);
    if (!parsed)
      return false;
    IndexEntry &e = parsed.value();
    if (((seen & DISTRO) && distro != e.distro) ||
        ((seen & VERSION) && version != e.version) ||
        ((seen & ARCH) && arch != e.arch) ||
        ((seen & RELEASE) && release != e.release))
      return false;
    if (!sha.empty() && !is_hex(sha, 64))
      return false;
    if (!blob.empty() && !is_hex(blob, 40) && !is_hex(blob, 64))
      return false;
    e.size = size;
    e.sha256 = std::move(sha);
    e.git_blob = std::move(blob);
    e.mtime_ns = mtime;
    e.ctime_ns = ctime;
    e.inode = inode;
    idx.entries.push_back(std::move(e));
    return true;
  }

  const char *p_, *end_;
  std::string key_;
};

} // namespace

std::optional<Index> fast_read_index(std::string_view text) {
  Index idx;
  if (!FastReader(text).read(idx))
    return std::nullopt;
  return idx;
}

} // namespace btfpack::detail
