// SPDX-License-Identifier: Apache-2.0
#include "relo_coverage.h"

#include "test_util.h"

#include <map>
#include <regex>
#include <sstream>

namespace btfpack::test {

ReloCoverage relo_coverage(const fs::path &btf, const std::string &arch,
                           const fs::path &workdir) {
  ReloCoverage cov;
  fs::path objdir = arch == "x86_64" ? bpf_obj_dir() : bpf_obj_dir() / arch;
  std::vector<std::string> argv = {
      bpftool_path().string(), "-d",         "gen",
      "min_core_btf",          btf.string(), (workdir / "min.btf").string()};
  for (const char *p : {"parentchain", "taskstate", "nspid"})
    argv.push_back((objdir / (std::string(p) + ".bpf.o")).string());
  auto r = run(argv);
  cov.status = r.status;
  if (r.status != 0) {
    cov.error = r.err;
    return cov;
  }
  // relo #N: <kind> [id] struct name.field (0:1 @ offset 8)   first line
  // relo #N: no matching targets found                       when unmet
  std::regex line(R"(prog '([^']+)': relo #(\d+): (.*))");
  std::regex local(
      R"(^(<[a-z_0-9]+>) \[\d+\] (?:struct |union |enum |typedef )?([^ ]+))");
  std::map<std::string, std::string> what;
  std::set<std::string> unmet;
  std::istringstream in(r.err);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_search(l, m, line))
      continue;
    auto key = m[1].str() + "#" + m[2].str();
    auto rest = m[3].str();
    std::smatch lm;
    if (!what.count(key) && std::regex_search(rest, lm, local))
      what[key] = lm[1].str() + " " + lm[2].str();
    if (rest == "no matching targets found")
      unmet.insert(key);
  }
  for (const auto &[key, desc] : what)
    (unmet.count(key) ? cov.unresolved : cov.resolved).insert(desc);
  return cov;
}

std::string check_relo_coverage(const ReloCoverage &cov) {
  if (cov.status != 0)
    return "bpftool failed: " + cov.error;
  if (cov.resolved.empty())
    return "no relocation seen in bpftool -d output";
  auto unmet = [&](const std::string &d) {
    return cov.unresolved.count(d) > 0;
  };
  std::string why;
  // Exactly one of the state flavours matches the kernel.
  bool new_state = !unmet("<byte_off> task_struct___x.__state");
  bool old_state = !unmet("<byte_off> task_struct___o.state");
  if (new_state == old_state)
    why += "task_struct: __state and state both " +
           std::string(new_state ? "resolved" : "unresolved") + "\n";
  // Exactly one way to a task's struct pid.
  bool pid_link = !unmet("<type_exists> pid_link___pre419");
  bool thread_pid = !unmet("<byte_off> task_struct.thread_pid");
  if (pid_link == thread_pid)
    why += "pid_link and thread_pid both " +
           std::string(pid_link ? "resolved" : "unresolved") + "\n";
  // What may stay unresolved is the branch the kernel does not take.
  std::set<std::string> may_fail;
  if (new_state)
    may_fail.insert("<byte_off> task_struct___o.state");
  else
    may_fail.insert({"<field_exists> task_struct___x.__state",
                     "<byte_off> task_struct___x.__state"});
  if (pid_link)
    may_fail.insert({"<byte_off> task_struct.thread_pid",
                     "<byte_off> signal_struct.pids",
                     "<enumval_value> pid_type::PIDTYPE_TGID"});
  else
    may_fail.insert({"<type_exists> pid_link___pre419",
                     "<byte_off> task_struct___pre419.pids[0].pid"});
  for (const auto &d : cov.unresolved)
    if (!may_fail.count(d))
      why += "unresolved: " + d + "\n";
  return why;
}

} // namespace btfpack::test
