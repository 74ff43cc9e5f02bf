// SPDX-License-Identifier: Apache-2.0
//
// btfpack-bpf-demo: load one of the project's CO-RE programs (or all) with
// an optional btf_custom_path, trigger its event, and print what it read as
// one JSON line per program on stdout, with a verdict line on stderr.
//   btfpack-bpf-demo PROGRAM|all [--btf PATH] [--memfd] [--timeout-ms N] [-v]
// Exit: 0 all pass, 1 wrong values, 2 usage, 3 load/attach failed,
// 4 no event, 5 other error (the worst over the programs run).
#include "btfpack/bpf_demo.h"
#include "btfpack/log.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

int main(int argc, char **argv) {
  namespace demo = btfpack::bpf_demo;
  CLI::App app{"Load a btfpack CO-RE test program, trigger its event and "
               "check the values it read against ground truth"};
  std::string program;
  demo::Options opts;
  long timeout_ms = 5000;
  int verbose = 0;
  auto names = demo::program_names();
  auto choices = names;
  choices.push_back("all");
  app.add_option("program", program, "parentchain, taskstate, nspid or all")
      ->required()
      ->check(CLI::IsMember(choices));
  app.add_option("--btf", opts.btf_path,
                 "BTF handed to libbpf as btf_custom_path (default: the "
                 "kernel's own)");
  app.add_flag("--memfd", opts.via_memfd,
               "pass the --btf file through a memfd as /proc/self/fd/N");
  app.add_option("--timeout-ms", timeout_ms, "wait for events this long")
      ->check(CLI::Range(1L, 600000L));
  app.add_flag("-v,--verbose", verbose, "show libbpf's messages (-vv: debug)");
  CLI11_PARSE(app, argc, argv);
  opts.timeout = std::chrono::milliseconds(timeout_ms);

  btfpack::log::set_sink(btfpack::log::stderr_sink());
  const char *env = std::getenv("BTFPACK_LIBBPF_DEBUG");
  if (verbose >= 2 || (env && *env && std::string(env) != "0"))
    btfpack::log::set_level(btfpack::log::Level::debug);
  else if (verbose == 1)
    btfpack::log::set_level(btfpack::log::Level::info);
  demo::route_libbpf_logs();

  std::vector<std::string> run =
      program == "all" ? names : std::vector<std::string>{program};
  int status = 0;
  for (const auto &name : run) {
    auto rep = demo::run_program(name, opts);
    std::cout << rep.to_json() << std::endl;
    int code = demo::exit_code(rep.outcome);
    std::fprintf(stderr, "btfpack-bpf-demo: %s: %s (%s)%s%s\n", name.c_str(),
                 code == 0 ? "PASS" : "FAIL", demo::outcome_name(rep.outcome),
                 rep.error.empty() ? "" : ": ", rep.error.c_str());
    status = std::max(status, code);
  }
  return status;
}
