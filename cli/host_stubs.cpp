// SPDX-License-Identifier: Apache-2.0
//
// The host `btfpack` lists the build-side commands in its help but never
// runs them: main() hands them to btfpack-build before parsing (see
// build_side.h). These registrations only make `btfpack --help` complete.
#include "build_side.h"
#include "cli.h"

namespace btfpack::cli {

namespace {
void add_stub(CLI::App &app, const char *name) {
  auto *sub = app.add_subcommand(name, build_side_description(name));
  sub->allow_extras();
}
} // namespace

void add_index_command(CLI::App &app, Cli &) {
  add_stub(app, "index");
}
void add_fetch_command(CLI::App &app, Cli &) {
  add_stub(app, "fetch");
}
void add_gen_command(CLI::App &app, Cli &) {
  add_stub(app, "gen");
}
void add_merge_command(CLI::App &app, Cli &) {
  add_stub(app, "merge");
}
void add_build_command(CLI::App &app, Cli &) {
  add_stub(app, "build");
}

} // namespace btfpack::cli
