// SPDX-License-Identifier: Apache-2.0
// STUB: replaced by the component that owns this command.
#include "cli.h"

namespace btfpack::cli {

void add_resolve_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("resolve", "(not built yet)");
  sub->callback([&cli] { fail(cli, "resolve: not built yet"); });
}

void add_explain_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("explain", "(not built yet)");
  sub->callback([&cli] { fail(cli, "explain: not built yet"); });
}

} // namespace btfpack::cli
