// SPDX-License-Identifier: Apache-2.0
// STUB: replaced by the component that owns this command.
#include "cli.h"

namespace btfpack::cli {

void add_install_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("install", "(not built yet)");
  sub->callback([&cli] { fail(cli, "install: not built yet"); });
}

void add_list_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("list", "(not built yet)");
  sub->callback([&cli] { fail(cli, "list: not built yet"); });
}

void add_rollback_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("rollback", "(not built yet)");
  sub->callback([&cli] { fail(cli, "rollback: not built yet"); });
}

} // namespace btfpack::cli
