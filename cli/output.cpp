// SPDX-License-Identifier: Apache-2.0
#include <charconv>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "btfpack/text_util.h"
#include "cli.h"

namespace btfpack::cli {

void fail(Cli &cli, const Error &err) {
  if (cli.json) {
    nlohmann::json j = {{"error", err.message}, {"code", errc_name(err.code)}};
    std::cout << j.dump(cli.pretty ? 2 : -1) << std::endl;
  } else {
    std::fprintf(stderr, "Error: %s\n", terminal_safe(err.message).c_str());
  }
  cli.exit_code = EXIT_FAIL;
}

void fail(Cli &cli, const std::string &message) {
  fail(cli, make_error(Errc::failed, message));
}

void print_json(const Cli &cli, const nlohmann::json &doc) {
  std::cout << doc.dump(cli.pretty ? 2 : -1) << std::endl;
}

Result<std::int64_t> created_time(const Cli &cli) {
  const std::string &s = cli.source_date_epoch;
  if (s.empty())
    return std::int64_t{0};
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0)
    return make_error(Errc::invalid_argument,
                      "SOURCE_DATE_EPOCH='" + s +
                          "' is not a number of seconds since 1970: set it "
                          "to unix seconds (e.g. the commit time) or unset it");
  return v;
}

bool progress_enabled(const Cli &cli) {
  return !cli.json && ::isatty(STDERR_FILENO);
}

} // namespace btfpack::cli
