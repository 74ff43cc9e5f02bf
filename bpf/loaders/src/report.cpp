// SPDX-License-Identifier: Apache-2.0
#include "loader_common.h"

#include "btfpack/log.h"

#include <cstdarg>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace btfpack::bpf_demo {

const char *outcome_name(Outcome o) noexcept {
  switch (o) {
  case Outcome::pass:
    return "pass";
  case Outcome::wrong_values:
    return "wrong_values";
  case Outcome::load_failed:
    return "load_failed";
  case Outcome::no_event:
    return "no_event";
  case Outcome::error:
    return "error";
  }
  return "error";
}

int exit_code(Outcome o) noexcept {
  switch (o) {
  case Outcome::pass:
    return 0;
  case Outcome::wrong_values:
    return 1;
  case Outcome::load_failed:
    return 3;
  case Outcome::no_event:
    return 4;
  case Outcome::error:
    return 5;
  }
  return 5;
}

std::string Report::to_json() const {
  nlohmann::json j;
  j["program"] = program;
  j["btf"] = btf;
  j["btf_source"] = btf_source;
  j["object_sha256"] = object_sha256;
  j["outcome"] = outcome_name(outcome);
  j["verdict"] = outcome == Outcome::pass ? "pass" : "fail";
  j["error"] = error;
  j["load_ms"] = load_ms;
  auto &cs = j["checks"] = nlohmann::json::array();
  for (const auto &c : checks)
    cs.push_back(
        {{"name", c.name}, {"got", c.got}, {"want", c.want}, {"ok", c.ok}});
  j["events"] = events_json.empty() ? nlohmann::json::array()
                                    : nlohmann::json::parse(events_json);
  j["truth"] = truth_json.empty() ? nlohmann::json::object()
                                  : nlohmann::json::parse(truth_json);
  // A wrong BTF reads garbage comms: never let them break the JSON.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> program_names() {
  return {"parentchain", "taskstate", "nspid"};
}

Report run_program(std::string_view name, const Options &opts) {
  if (name == "parentchain")
    return detail::run_parentchain(opts);
  if (name == "taskstate")
    return detail::run_taskstate(opts);
  if (name == "nspid")
    return detail::run_nspid(opts);
  Report r;
  r.program = std::string(name);
  r.error = "unknown program " + std::string(name) +
            " (one of parentchain, taskstate, nspid)";
  return r;
}

namespace {
int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args) {
  log::Level lvl = level == LIBBPF_WARN   ? log::Level::warn
                   : level == LIBBPF_INFO ? log::Level::info
                                          : log::Level::debug;
  if (!log::enabled(lvl))
    return 0;
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  log::write(lvl, buf);
  return n;
}
} // namespace

void route_libbpf_logs() {
  libbpf_set_print(libbpf_print);
}

} // namespace btfpack::bpf_demo
