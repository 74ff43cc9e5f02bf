// SPDX-License-Identifier: Apache-2.0
#include "minimize.h"

#include <bpf/libbpf.h>
#include <charconv>
#include <sstream>

namespace btfpack::btfgen {

// translate_libbpf_errno: bpftool prints libbpf's own error codes (4000 and
// up) through strerror, as "Unknown error 4001"; say what libbpf means.
std::string translate_libbpf_errno(const std::string &msg) {
  static const std::string UNKNOWN = "Unknown error ";
  auto at = msg.find(UNKNOWN);
  if (at == std::string::npos)
    return msg;
  std::size_t end = at + UNKNOWN.size();
  int code = 0;
  if (end < msg.size() && msg[end] >= '0' && msg[end] <= '9') {
    auto [p, ec] =
        std::from_chars(msg.data() + end, msg.data() + msg.size(), code);
    if (ec != std::errc())
      return msg; // beyond int: no libbpf code
    end = static_cast<std::size_t>(p - msg.data());
  }
  if (code < __LIBBPF_ERRNO__START || code >= __LIBBPF_ERRNO__END)
    return msg;
  char text[128] = {};
  if (libbpf_strerror(code, text, sizeof text) != 0)
    return msg;
  return msg.substr(0, at) + text + " (libbpf error " + std::to_string(code) +
         ")" + msg.substr(end);
}

namespace {

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// LogLine is "libbpf: prog 'S': relo #N: REST".
struct LogLine {
  std::string section;
  std::int64_t relo = -1;
  std::string rest;
};

bool parse_line(std::string_view line, LogLine &out) {
  if (starts_with(line, "libbpf: "))
    line.remove_prefix(8);
  if (!starts_with(line, "prog '"))
    return false;
  line.remove_prefix(6);
  auto q = line.find("': relo #");
  if (q == std::string_view::npos)
    return false;
  out.section = std::string(line.substr(0, q));
  line.remove_prefix(q + 9);
  std::int64_t n = 0;
  if (line.empty() || line[0] < '0' || line[0] > '9')
    return false;
  auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), n);
  auto i = static_cast<std::size_t>(p - line.data());
  if (ec != std::errc() || line.substr(i, 2) != ": ")
    return false;
  out.relo = n;
  out.rest = std::string(line.substr(i + 2));
  return true;
}

// kind_and_spec splits "<byte_off> [5] struct x.y (0:1 @ offset 8)".
void kind_and_spec(std::string_view s, std::string &kind, std::string &spec) {
  if (starts_with(s, "<")) {
    auto e = s.find('>');
    if (e != std::string_view::npos) {
      kind = std::string(s.substr(1, e - 1));
      s.remove_prefix(e + 1);
      while (!s.empty() && s.front() == ' ')
        s.remove_prefix(1);
    }
  }
  spec = normalize_spec(s);
}

} // namespace

std::string normalize_spec(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    // "[123] " -> ""
    if (s[i] == '[') {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9')
        j++;
      if (j > i + 1 && j < s.size() && s[j] == ']') {
        i = j + 1;
        if (i < s.size() && s[i] == ' ')
          i++;
        continue;
      }
    }
    // "(0:1:2 @ " -> "(@ "
    if (s[i] == '(') {
      std::size_t j = i + 1;
      while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == ':'))
        j++;
      if (j > i + 1 && s.substr(j, 3) == " @ ") {
        out += "(@ ";
        i = j + 3;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

std::vector<ReloOutcome>
parse_relo_log(const std::string &log,
               const std::vector<const ObjectInfo *> &objects) {
  // The expected order of relocations: objects in argv order, each in
  // .BTF.ext order (bpftool's btfgen_record_obj walks it so).
  struct Expected {
    const ObjectInfo *obj;
    const CoreRelo *relo;
  };
  std::vector<Expected> expected;
  for (const auto *o : objects)
    for (const auto &r : o->relos)
      expected.push_back({o, &r});
  std::size_t cursor = 0;

  std::vector<ReloOutcome> out;
  std::istringstream in(log);
  std::string raw;
  while (std::getline(in, raw)) {
    LogLine l;
    if (!parse_line(raw, l))
      continue;
    bool is_new = !starts_with(l.rest, "matching candidate") &&
                  !starts_with(l.rest, "non-matching candidate") &&
                  !starts_with(l.rest, "no matching targets") &&
                  !starts_with(l.rest, "failed") &&
                  !starts_with(l.rest, "relocation decision") &&
                  !starts_with(l.rest, "candidate") && starts_with(l.rest, "<");
    ReloOutcome *cur = nullptr;
    if (!out.empty() && out.back().section == l.section &&
        out.back().relo == l.relo && !is_new)
      cur = &out.back();
    if (!cur) {
      ReloOutcome o;
      o.section = l.section;
      o.relo = l.relo;
      for (std::size_t i = cursor; i < expected.size(); i++) {
        if (expected[i].relo->section == l.section &&
            expected[i].relo->index == l.relo) {
          o.object = expected[i].obj->name;
          if (o.kind.empty())
            o.kind = core_relo_kind_name(expected[i].relo->kind);
          cursor = i + 1;
          break;
        }
      }
      out.push_back(std::move(o));
      cur = &out.back();
      if (is_new) {
        std::string kind;
        kind_and_spec(l.rest, kind, cur->local);
        if (!kind.empty())
          cur->kind = kind;
        continue;
      }
    }
    if (starts_with(l.rest, "matching candidate")) {
      // "matching candidate #0 <byte_off> [132] struct x.y (0:67 @ offset 8)"
      auto lt = l.rest.find('<');
      std::string kind, spec;
      kind_and_spec(lt == std::string::npos
                        ? std::string_view(l.rest)
                        : std::string_view(l.rest).substr(lt),
                    kind, spec);
      cur->targets.push_back(spec);
    } else if (starts_with(l.rest, "no matching targets")) {
      cur->no_match = true;
    } else if (!starts_with(l.rest, "non-matching candidate") &&
               !starts_with(l.rest, "<")) {
      cur->failed = true; // an error about this relocation
      if (cur->local.empty())
        cur->local = l.rest;
      else
        cur->local += " (" + l.rest + ")";
    }
  }
  return out;
}

Result<MinimizeRun> minimize(const Bpftool &bpftool, const fs::path &input,
                             const fs::path &output,
                             const std::vector<const ObjectInfo *> &objects,
                             std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {
      bpftool.path.string(), "-d",           "gen",
      "min_core_btf",        input.string(), output.string()};
  for (const auto *o : objects)
    argv.push_back(o->path.string());
  MinimizeRun run;
  BTFPACK_TRY(proc, run_process(argv, timeout));
  run.proc = std::move(proc);
  run.relos = parse_relo_log(run.proc.err, objects);
  std::istringstream in(run.proc.err);
  std::string line;
  while (std::getline(in, line))
    if (starts_with(line, "Error: "))
      run.error = translate_libbpf_errno(line.substr(7));
  return run;
}

} // namespace btfpack::btfgen
