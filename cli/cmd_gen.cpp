// SPDX-License-Identifier: Apache-2.0
// STUB: replaced by the component that owns this command.
#include "cli.h"

namespace btfpack::cli {

void add_gen_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("gen", "(not built yet)");
  sub->callback([&cli] { fail(cli, "gen: not built yet"); });
}

void add_merge_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("merge", "(not built yet)");
  sub->callback([&cli] { fail(cli, "merge: not built yet"); });
}

} // namespace btfpack::cli
