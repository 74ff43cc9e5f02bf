// SPDX-License-Identifier: Apache-2.0
//
// parentchain: a child "a" forks a grandchild "b"; both exit. At each exit
// the program reads task->{pid,tgid,comm} and task->real_parent->{tgid,comm}
// through CO-RE; b's parent values must be a's helper values.
#include "loader_common.h"

#include "parentchain.h"
#include "parentchain.skel.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <sys/wait.h>

namespace btfpack::bpf_demo::detail {

namespace {
const SkelOps<parentchain_bpf> kOps{
    parentchain_bpf__open_opts, parentchain_bpf__load, parentchain_bpf__attach,
    parentchain_bpf__destroy, parentchain_bpf__elf_bytes};

std::optional<parentchain_event>
find_event(const std::vector<parentchain_event> &events,
           const std::string &comm) {
  for (const auto &e : events)
    if (comm_string(e.helper_comm, sizeof e.helper_comm) == comm)
      return e;
  return std::nullopt;
}

nlohmann::json to_json(const parentchain_event &e) {
  return {{"helper_pid", e.helper_pid},
          {"helper_tgid", e.helper_tgid},
          {"helper_comm", comm_string(e.helper_comm, sizeof e.helper_comm)},
          {"core_pid", e.core_pid},
          {"core_tgid", e.core_tgid},
          {"core_parent_tgid", e.core_parent_tgid},
          {"core_grandparent_tgid", e.core_grandparent_tgid},
          {"core_comm", comm_string(e.core_comm, sizeof e.core_comm)},
          {"core_parent_comm",
           comm_string(e.core_parent_comm, sizeof e.core_parent_comm)}};
}
} // namespace

Report run_parentchain(const Options &opts) {
  Report rep;
  rep.program = "parentchain";
  const std::string prefix = unique_comm_prefix();
  auto skel = open_load_attach(kOps, opts, prefix, rep);
  if (!skel)
    return rep;
  auto reader = PerfReader::open(bpf_map__fd(skel->maps.events));
  if (!reader) {
    rep.error = reader.error().message;
    return rep;
  }

  // Trigger: a ("<prefix>-a") forks b ("<prefix>-b"); each reports itself.
  const std::string comm_a = prefix + "-a", comm_b = prefix + "-b";
  auto pipe = make_pipe();
  if (!pipe) {
    rep.error = pipe.error().message;
    return rep;
  }
  const int truth_fd = pipe->write_end.get();
  auto child = Child::spawn([&] {
    set_comm(comm_a);
    pid_t b = ::fork();
    if (b == 0) {
      set_comm(comm_b);
      ChildTruth t = own_truth();
      ::_exit(write_all(truth_fd, &t, sizeof t) ? 0 : 1);
    }
    int st = 0;
    if (b < 0 || ::waitpid(b, &st, 0) != b)
      return 1;
    ChildTruth t = own_truth();
    return write_all(truth_fd, &t, sizeof t) ? 0 : 1;
  });
  if (!child) {
    rep.error = child.error().message;
    return rep;
  }
  pipe->write_end.reset();
  auto status = child->wait();
  ChildTruth truth_b, truth_a;
  if (!status || *status != 0 ||
      !read_exact(pipe->read_end.get(), &truth_b, sizeof truth_b) ||
      !read_exact(pipe->read_end.get(), &truth_a, sizeof truth_a)) {
    rep.error = "the triggering children failed";
    return rep;
  }
  rep.truth_json = truth_json({{"a", truth_a}, {"b", truth_b}});

  auto deadline = Clock::now() + opts.timeout;
  reader->poll_until(deadline, [&] {
    auto ev = events_of<parentchain_event>(*reader);
    return find_event(ev, comm_a) && find_event(ev, comm_b);
  });
  auto events = events_of<parentchain_event>(*reader);
  nlohmann::json ej = nlohmann::json::array();
  for (const auto &e : events)
    ej.push_back(to_json(e));
  rep.events_json =
      ej.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  auto a = find_event(events, comm_a);
  auto b = find_event(events, comm_b);
  if (!a || !b) {
    rep.outcome = Outcome::no_event;
    rep.error = "no exit event for " + std::string(a ? comm_b : comm_a) +
                " within " + std::to_string(opts.timeout.count()) + " ms";
    return rep;
  }
  Checks c;
  for (const auto &[name, e, comm] :
       {std::tuple{"a", *a, comm_a}, std::tuple{"b", *b, comm_b}}) {
    std::string n = name;
    c.equal(n + ".core_pid == helper_pid", e.core_pid, e.helper_pid);
    c.equal(n + ".core_tgid == helper_tgid", e.core_tgid, e.helper_tgid);
    c.equal(n + ".core_comm == comm", comm_string(e.core_comm, 16), comm);
  }
  c.equal("b.core_parent_tgid == a.helper_tgid", b->core_parent_tgid,
          a->helper_tgid);
  c.equal("b.core_parent_comm == a.comm", comm_string(b->core_parent_comm, 16),
          comm_a);
  c.equal("b.core_grandparent_tgid == a.core_parent_tgid",
          b->core_grandparent_tgid, a->core_parent_tgid);
  c.equal("a.core_parent_comm == loader comm",
          comm_string(a->core_parent_comm, 16), own_comm());
  rep.outcome = c.all_ok() ? Outcome::pass : Outcome::wrong_values;
  rep.checks = c.take();
  return rep;
}

} // namespace btfpack::bpf_demo::detail
