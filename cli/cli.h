// SPDX-License-Identifier: Apache-2.0
//
// Shared state and output helpers of the `btfpack` command. Each subcommand
// lives in its own cmd_*.cpp with one add_*_command() that registers it on
// the CLI11 app; main.cpp holds the table. Output follows bpftool: prose on
// a terminal, `-j/--json` for machines (errors too are JSON), exit codes
// 0 ok, 1 failure, 2 usage.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "btfpack/result.h"

namespace btfpack::cli {

constexpr int EXIT_OK = 0;
constexpr int EXIT_FAIL = 1;
constexpr int EXIT_USAGE = 2;

struct Cli {
  bool json = false;
  bool pretty = false;
  int verbose = 0;
  int exit_code = EXIT_OK;
  // source_date_epoch is $SOURCE_DATE_EPOCH as main read it, once: the
  // only place btfpack reads it (libraries never read the environment; the
  // commands pass created_time(cli) down). Empty when unset.
  std::string source_date_epoch;
};

// created_time is the creation time every command that writes a bundle
// records: SOURCE_DATE_EPOCH when set, else 0 (not recorded; never the
// clock), so that build, gen --bundle and merge give the same bytes for the
// same inputs. Errc::invalid_argument when it is not unix seconds.
Result<std::int64_t> created_time(const Cli &cli);

// fail prints an error ("Error: msg" or {"error": msg, "code": name}) and
// sets the exit code to 1.
void fail(Cli &cli, const Error &err);
void fail(Cli &cli, const std::string &message);
// print_json writes a JSON document to stdout (pretty with -p).
void print_json(const Cli &cli, const nlohmann::json &doc);
// progress_enabled is true when stderr is a terminal and not in JSON mode:
// long work shows progress there and stays quiet in CI logs.
bool progress_enabled(const Cli &cli);

void add_index_command(CLI::App &app, Cli &cli);
void add_fetch_command(CLI::App &app, Cli &cli);
void add_gen_command(CLI::App &app, Cli &cli);
void add_merge_command(CLI::App &app, Cli &cli);
void add_build_command(CLI::App &app, Cli &cli);
void add_keygen_command(CLI::App &app, Cli &cli);
void add_sign_command(CLI::App &app, Cli &cli);
void add_verify_command(CLI::App &app, Cli &cli);
void add_inspect_command(CLI::App &app, Cli &cli);
void add_diff_command(CLI::App &app, Cli &cli);
void add_resolve_command(CLI::App &app, Cli &cli);
void add_explain_command(CLI::App &app, Cli &cli);
void add_install_command(CLI::App &app, Cli &cli);
void add_list_command(CLI::App &app, Cli &cli);
void add_rollback_command(CLI::App &app, Cli &cli);
void add_remove_command(CLI::App &app, Cli &cli);

} // namespace btfpack::cli
