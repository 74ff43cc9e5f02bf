// SPDX-License-Identifier: Apache-2.0
// STUB: replaced by the component that owns this command.
#include "cli.h"

namespace btfpack::cli {

void add_keygen_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("keygen", "(not built yet)");
  sub->callback([&cli] { fail(cli, "keygen: not built yet"); });
}

void add_sign_command(CLI::App &app, Cli &cli) {
  auto *sub = app.add_subcommand("sign", "(not built yet)");
  sub->callback([&cli] { fail(cli, "sign: not built yet"); });
}

} // namespace btfpack::cli
