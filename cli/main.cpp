// SPDX-License-Identifier: Apache-2.0
//
// btfpack: one command, subcommands in the style of bpftool. This main() is
// built twice: as the host `btfpack` (BTFPACK_HOST_CLI: runtime only; the
// build-side commands are handed to btfpack-build, see build_side.h) and as
// btfpack-build (every command).
#include <cstdio>
#include <iostream>
#include <openssl/crypto.h>

#include "btfpack/log.h"
#include "build_side.h"
#include "cli.h"

using namespace btfpack;
using namespace btfpack::cli;

int main(int argc, char **argv) {
  // libcrypto only hashes and checks Ed25519 signatures here, with its
  // built-in default provider: no openssl.cnf, no provider or engine module
  // is read from disk (the static btfpack loads nothing at run time).
  OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
#ifdef BTFPACK_HOST_CLI
  if (const auto *cmd = build_side_command_in(argc, argv))
    return exec_build_side(argc, argv, *cmd);
#endif
  Cli cli;
  CLI::App app{"btfpack: minimized BTFs for CO-RE eBPF programs on kernels "
               "without BTF, packed into one signed bundle"};
  app.set_version_flag("-V,--version",
                       std::string("btfpack ") + BTFPACK_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_flag("-j,--json", cli.json, "machine-readable JSON output");
  app.add_flag("-p,--pretty", cli.pretty, "pretty JSON output (implies -j)");
  app.add_flag("-v,--verbose", cli.verbose,
               "more messages (-v info, -vv debug incl. libbpf)");

  // The command table: one registration per subcommand file.
  add_index_command(app, cli);
  add_fetch_command(app, cli);
  add_gen_command(app, cli);
  add_merge_command(app, cli);
  add_build_command(app, cli);
  add_keygen_command(app, cli);
  add_sign_command(app, cli);
  add_verify_command(app, cli);
  add_inspect_command(app, cli);
  add_resolve_command(app, cli);
  add_explain_command(app, cli);
  add_install_command(app, cli);
  add_list_command(app, cli);
  add_rollback_command(app, cli);

  // Global flags are applied before any subcommand callback runs.
  app.parse_complete_callback([&] {
    if (cli.pretty)
      cli.json = true;
    log::set_sink(log::stderr_sink());
    log::set_level(cli.verbose >= 2   ? log::Level::debug
                   : cli.verbose == 1 ? log::Level::info
                                      : log::Level::warn);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    if (cli.json) {
      std::cout << nlohmann::json{{"error", e.what()}, {"code", "usage"}}.dump()
                << std::endl;
    } else {
      std::fprintf(stderr, "Error: %s\nRun with --help for usage.\n", e.what());
    }
    return EXIT_USAGE;
  }
  return cli.exit_code;
}
