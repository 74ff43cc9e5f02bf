// SPDX-License-Identifier: Apache-2.0
//
// btfpack: one command, subcommands in the style of bpftool. This main() is
// built twice: as the host `btfpack` (BTFPACK_HOST_CLI: runtime only; the
// build-side commands are handed to btfpack-build, see build_side.h) and as
// btfpack-build (every command).
//
// As in bpftool: `btfpack help [CMD]`, unambiguous prefixes (`btfpack exp`
// is explain) and an unknown command is named with the nearest one. The
// command word is resolved before anything else, so prefixes and help work
// the same for the build-side commands the host program hands over.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <openssl/crypto.h>
#include <string>
#include <vector>

#include "btfpack/log.h"
#include "build_side.h"
#include "cli.h"

using namespace btfpack;
using namespace btfpack::cli;

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      std::size_t sub = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
      // a transposition (explian -> explain) counts as one edit
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        sub = std::min(sub, diag);
      row[j] = std::min({up + 1, row[j - 1] + 1, sub});
      diag = up;
    }
  }
  return row[b.size()];
}

// usage_error prints a usage error the way main() prints CLI11's and
// returns exit status 2.
int usage_error(bool json, const std::string &msg) {
  if (json)
    std::cout << nlohmann::json{{"error", msg}, {"code", "usage"}}.dump()
              << std::endl;
  else
    std::fprintf(stderr, "Error: %s\n", msg.c_str());
  return EXIT_USAGE;
}

bool is_global_flag(std::string_view a) {
  return !a.empty() && a[0] == '-';
}

// The JSON flags before the command word (after it, -j is --jobs).
bool json_before(const std::vector<std::string> &args, std::size_t upto) {
  for (std::size_t i = 1; i < upto; ++i) {
    std::string_view a = args[i];
    if (a == "--json" || a == "--pretty")
      return true;
    if (a.size() > 1 && a[1] != '-' &&
        (a.find('j') != a.npos || a.find('p') != a.npos))
      return true;
  }
  return false;
}

// resolve_command maps a command word to a command name: the exact name,
// else the one command it is a prefix of. On failure `error` says why.
std::string resolve_command(const std::vector<std::string> &names,
                            const std::string &word, std::string &error) {
  if (std::find(names.begin(), names.end(), word) != names.end())
    return word;
  std::vector<std::string> prefixed;
  for (const auto &n : names)
    if (n.compare(0, word.size(), word) == 0)
      prefixed.push_back(n);
  if (prefixed.size() == 1)
    return prefixed[0];
  if (prefixed.size() > 1) {
    std::string list;
    for (const auto &n : prefixed)
      list += (list.empty() ? "" : ", ") + n;
    error = "command '" + word + "' is ambiguous: it could be " + list +
            "; type more letters";
    return {};
  }
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto &n : names) {
    auto d = edit_distance(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  error = "unknown command '" + word + "'";
  if (best_d <= std::max<std::size_t>(2, word.size() / 3))
    error += "; did you mean '" + best + "'?";
  error += " (`btfpack help` lists the commands)";
  return {};
}

} // namespace

int main(int argc, char **argv) {
  // libcrypto only hashes, checks and makes Ed25519 signatures and draws
  // random bytes here, with its built-in default provider: no openssl.cnf,
  // no provider or engine module is read from disk (the static btfpack
  // loads nothing at run time). One call, before any other use of libcrypto
  // (a later call cannot undo what an earlier one set up).
  std::uint64_t ossl = OPENSSL_INIT_NO_LOAD_CONFIG;
#ifdef BTFPACK_HOST_CLI
  // The host commands also print none of OpenSSL's error strings and fetch
  // by name only: load no error strings, register no legacy cipher and
  // digest names (the first fetch copies them all into its name map), and
  // skip the clean-up at exit. With the above, 60 % of a resolve's
  // instructions (issue 14, docs/BENCHMARKS.md).
  ossl |= OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
          OPENSSL_INIT_NO_ADD_ALL_DIGESTS | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS;
#endif
  OPENSSL_init_crypto(ossl, nullptr);
  Cli cli;
  if (const char *e = std::getenv("SOURCE_DATE_EPOCH"))
    cli.source_date_epoch = e;
  CLI::App app{"btfpack: minimized BTFs for CO-RE eBPF programs on kernels "
               "without BTF, packed into one signed bundle",
               "btfpack"};
  app.set_version_flag("-V,--version",
                       std::string("btfpack ") + BTFPACK_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_flag("-j,--json", cli.json, "machine-readable JSON output");
  app.add_flag("-p,--pretty", cli.pretty, "pretty JSON output (implies -j)");
  app.add_flag("-v,--verbose", cli.verbose,
               "more messages (-v info, -vv debug incl. libbpf)");
  app.footer(
      "`btfpack help CMD` (or `btfpack CMD --help`) shows a command's "
      "options; man btfpack-CMD has examples. Commands may be "
      "abbreviated to any unambiguous prefix (btfpack exp = explain).\n");

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
  add_diff_command(app, cli);
  add_resolve_command(app, cli);
  add_explain_command(app, cli);
  add_install_command(app, cli);
  add_list_command(app, cli);
  add_rollback_command(app, cli);
  add_remove_command(app, cli);

  // The command word: resolve prefixes, `help [CMD]` and unknown names
  // before CLI11 (and before handing build-side commands over).
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> names;
  for (const auto *sub : app.get_subcommands({}))
    names.push_back(sub->get_name());
  std::size_t word = 1;
  while (word < args.size() && is_global_flag(args[word]) && args[word] != "--")
    ++word;
  bool json = json_before(args, word);
  if (word < args.size()) {
    if (args[word] == "help") {
      if (word + 1 >= args.size()) {
        std::cout << app.help();
        return EXIT_OK;
      }
      std::string err;
      std::string cmd = resolve_command(names, args[word + 1], err);
      if (cmd.empty())
        return usage_error(json, err);
      // `help CMD` is `CMD --help` (the rest is ignored, as bpftool does).
      args.resize(word);
      args.push_back(cmd);
      args.push_back("--help");
    } else {
      std::string err;
      std::string cmd = resolve_command(names, args[word], err);
      if (cmd.empty())
        return usage_error(json, err);
      args[word] = cmd;
    }
  } else if (std::none_of(args.begin() + 1, args.end(), [](const auto &a) {
               return a == "-h" || a == "--help" || a == "-V" ||
                      a == "--version";
             })) {
    // No command at all: the usage, on stderr, as a usage error.
    std::cerr << app.help();
    return usage_error(json, "a command is required (`btfpack help` lists "
                             "them)");
  }
  std::vector<char *> argp;
  for (auto &a : args)
    argp.push_back(a.data());
  argp.push_back(nullptr);
  int n = static_cast<int>(args.size());
#ifdef BTFPACK_HOST_CLI
  if (const auto *cmd = build_side_command_in(n, argp.data()))
    return exec_build_side(n, argp.data(), *cmd);
#endif

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
    app.parse(n, argp.data());
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
