// SPDX-License-Identifier: Apache-2.0
// STUB: replaced by the component that owns this command.
#include "cli.h"

namespace btfpack::cli {

void add_build_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("build", "(not built yet)");
  sub->callback([&cli] { fail(cli, "build: not built yet"); });
}

} // namespace btfpack::cli
