// SPDX-License-Identifier: Apache-2.0
// STUB: replaced by the component that owns this command.
#include "cli.h"

namespace btfpack::cli {

void add_fetch_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("fetch", "(not built yet)");
  sub->callback([&cli] { fail(cli, "fetch: not built yet"); });
}

} // namespace btfpack::cli
