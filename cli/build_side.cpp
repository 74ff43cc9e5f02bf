// SPDX-License-Identifier: Apache-2.0
#include "build_side.h"
#include "cli.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace btfpack::cli {

namespace {
constexpr BuildSideCommand kCommands[] = {
    {"index", "index a local archive mirror: path, distro, version, arch, "
              "release, size, sha256 of every kernel"},
    {"fetch", "mirror the btfhub-archive (or a filtered part of it) into a "
              "directory, verifying every file against the listing"},
    {"gen", "minimize each archive kernel's BTF for BPF objects (bpftool gen "
            "min_core_btf), into --out DIR and/or a bundle"},
    {"merge", "join `gen --shard K/N --out DIR` outputs into one bundle, "
              "byte-identical to a single run's"},
    {"build", "fetch -> gen -> bundle -> sign from a configuration file "
              "(docs/build-config.md), for CI"},
};

std::string self_dir() {
  std::vector<char> buf(4096);
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0)
    return ".";
  std::string path(buf.data(), static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool wants_json(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--json" || a == "--pretty")
      return true;
    if (a.size() > 1 && a[0] == '-' && a[1] != '-' &&
        (a.find('j') != a.npos || a.find('p') != a.npos))
      return true;
    if (a.empty() || a[0] != '-')
      return false; // the subcommand: its own -j means jobs
  }
  return false;
}
} // namespace

std::span<const BuildSideCommand> build_side_commands() {
  return kCommands;
}

const char *build_side_description(std::string_view name) {
  for (const auto &c : kCommands)
    if (name == c.name)
      return c.description;
  return "";
}

const BuildSideCommand *build_side_command_in(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (!a.empty() && a[0] == '-')
      continue; // global flags take no values
    for (const auto &c : kCommands)
      if (a == c.name)
        return &c;
    return nullptr;
  }
  return nullptr;
}

int exec_build_side(int argc, char **argv, const BuildSideCommand &cmd) {
  std::vector<std::string> tried;
  if (const char *env = std::getenv("BTFPACK_BUILD_PROGRAM"); env && *env) {
    tried.emplace_back(env);
  } else {
    std::string dir = self_dir();
    tried.push_back(dir + "/btfpack-build"); // build tree
    tried.push_back(dir + "/" BTFPACK_LIBEXEC_FROM_BINDIR "/btfpack-build");
  }
  std::vector<char *> args(argv, argv + argc);
  args.push_back(nullptr);
  std::string errors;
  for (const auto &path : tried) {
    ::execv(path.c_str(), args.data()); // returns only on failure
    errors +=
        (errors.empty() ? "" : ", ") + path + " (" + std::strerror(errno) + ")";
  }
  std::string msg =
      std::string("`btfpack ") + cmd.name +
      "` is a build-side command, run by the program btfpack-build, which "
      "could not be started: tried " +
      errors +
      "; install the full btfpack package on build machines (hosts need "
      "only resolve, explain, install, list, rollback and remove), or set "
      "BTFPACK_BUILD_PROGRAM to its path";
  Cli cli;
  cli.json = wants_json(argc, argv);
  fail(cli, make_error(Errc::not_found, msg));
  return cli.exit_code;
}

} // namespace btfpack::cli
