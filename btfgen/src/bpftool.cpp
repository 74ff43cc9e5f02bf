// SPDX-License-Identifier: Apache-2.0
//
// Locating bpftool and checking that it can `gen min_core_btf` (bpftool
// 5.18+ / v6.8+); its version goes into the cache key and the bundle meta.
#include <cstdlib>
#include <sstream>
#include <unistd.h>

#include "btfpack/btfgen.h"
#include "subprocess.h"

namespace btfpack::btfgen {

namespace {

fs::path search_path(const std::string &name) {
  std::vector<std::string> dirs;
  if (const char *p = std::getenv("PATH")) {
    std::stringstream ss(p);
    std::string d;
    while (std::getline(ss, d, ':'))
      if (!d.empty())
        dirs.push_back(d);
  }
  dirs.push_back("/usr/sbin");
  dirs.push_back("/sbin");
  dirs.push_back("/usr/local/sbin");
  for (const auto &d : dirs) {
    fs::path c = fs::path(d) / name;
    if (::access(c.c_str(), X_OK) == 0)
      return c;
  }
  return {};
}

} // namespace

Result<Bpftool> find_bpftool(const fs::path &explicit_path) {
  Bpftool b;
  if (!explicit_path.empty()) {
    b.path = explicit_path;
    if (b.path.filename() == b.path && !fs::exists(b.path))
      b.path = search_path(explicit_path.string());
    if (b.path.empty() || ::access(b.path.c_str(), X_OK) != 0)
      return make_error(Errc::not_found,
                        "bpftool " + explicit_path.string() +
                            ": not an executable file (check --bpftool)");
  } else {
    b.path = search_path("bpftool");
    if (b.path.empty())
      return make_error(Errc::not_found,
                        "bpftool not found on PATH, /usr/sbin or /sbin: "
                        "apt-get install bpftool, or pass --bpftool PATH");
  }
  b.path = fs::absolute(b.path);
  BTFPACK_TRY(ver, run_process({b.path.string(), "version"},
                               std::chrono::seconds(20), 1 << 20));
  if (ver.exit_code != 0)
    return make_error(Errc::failed, "run " + b.path.string() +
                                        " version: exit status " +
                                        std::to_string(ver.exit_code) + ": " +
                                        ver.err.substr(0, 200));
  std::istringstream lines(ver.out);
  std::string line;
  // "<argv0> v7.1.0" (bpftool prints its own argv[0]), "using libbpf v1.1".
  bool first = true;
  while (std::getline(lines, line)) {
    auto v = line.rfind(" v");
    if (first && v != std::string::npos)
      b.version = line.substr(v + 1);
    else if (line.rfind("using libbpf ", 0) == 0)
      b.libbpf = line.substr(13);
    first = false;
  }
  if (b.version.empty())
    return make_error(Errc::unsupported,
                      "bpftool " + b.path.string() +
                          ": cannot read its version from `bpftool version`");
  // `bpftool gen help` prints the usage (on stderr) naming the subcommands.
  BTFPACK_TRY(help, run_process({b.path.string(), "gen", "help"},
                                std::chrono::seconds(20), 1 << 20));
  if ((help.out + help.err).find("min_core_btf") == std::string::npos)
    return make_error(Errc::unsupported,
                      "bpftool " + b.path.string() + " " + b.version +
                          " has no `gen min_core_btf`: install bpftool 7.0 "
                          "or newer");
  return b;
}

} // namespace btfpack::btfgen
