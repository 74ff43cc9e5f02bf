// SPDX-License-Identifier: Apache-2.0
// STUB: replaced by the component that owns this command.
#include "cli.h"

namespace btfpack::cli {

void add_verify_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("verify", "(not built yet)");
  sub->callback([&cli] { fail(cli, "verify: not built yet"); });
}

} // namespace btfpack::cli
