// SPDX-License-Identifier: Apache-2.0
//
// The build-side subcommands (index, fetch, gen, merge, build) link libcurl,
// libarchive and libbpf; hosts never need them. They live in a second
// program, btfpack-build (installed under libexec), and the host `btfpack`
// replaces itself with it for those names, with the same arguments. So
// `btfpack resolve` starts with only the runtime's libraries loaded, while
// users and scripts keep one `btfpack` command (ARCHITECTURE.md).
#pragma once

#include <span>
#include <string_view>

namespace btfpack::cli {

struct BuildSideCommand {
  const char *name;
  const char *description;
};

// The build-side commands in help order; the one source of their names and
// one-line descriptions for both programs.
std::span<const BuildSideCommand> build_side_commands();
const char *build_side_description(std::string_view name);

// build_side_command_in returns the build-side command named by argv (the
// first argument that is not a global flag), or nullptr.
const BuildSideCommand *build_side_command_in(int argc, char **argv);

// exec_build_side replaces this process with btfpack-build and the same
// argv. It returns only on failure, after printing an error that names where
// it looked and what to do; the result is the exit code.
int exec_build_side(int argc, char **argv, const BuildSideCommand &cmd);

} // namespace btfpack::cli
