// SPDX-License-Identifier: Apache-2.0
//
// taskstate: two children block reading a pipe (interruptible sleep), one
// of them with SCHED_RESET_ON_FORK set. When each is switched out the
// program reads its state through __state or state (whichever the BTF says
// the kernel has) and the sched_reset_on_fork bitfield.
#include "loader_common.h"

#include "taskstate.h"
#include "taskstate.skel.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <sched.h>

namespace btfpack::bpf_demo::detail {

namespace {
const SkelOps<taskstate_bpf> kOps{taskstate_bpf__open_opts, taskstate_bpf__load,
                                  taskstate_bpf__attach, taskstate_bpf__destroy,
                                  taskstate_bpf__elf_bytes};

// TASK_INTERRUPTIBLE in every kernel's sched.h, and what sched_switch's
// prev_state reports for it.
constexpr long kTaskInterruptible = 1;

// sleep_event returns the first event of comm switched out asleep.
std::optional<taskstate_event>
sleep_event(const std::vector<taskstate_event> &events,
            const std::string &comm) {
  for (const auto &e : events)
    if (comm_string(e.helper_comm, sizeof e.helper_comm) == comm &&
        e.tp_prev_state == kTaskInterruptible)
      return e;
  return std::nullopt;
}

nlohmann::json to_json(const taskstate_event &e) {
  return {{"helper_pid", e.helper_pid},
          {"helper_tgid", e.helper_tgid},
          {"helper_comm", comm_string(e.helper_comm, sizeof e.helper_comm)},
          {"tp_prev_pid", e.tp_prev_pid},
          {"tp_prev_state", e.tp_prev_state},
          {"core_pid", e.core_pid},
          {"core_state", e.core_state},
          {"core_state_is_new", e.core_state_is_new},
          {"core_reset_on_fork", e.core_reset_on_fork}};
}

// sleeper is a child body: set comm (and reset-on-fork), report, then block
// in read(2) until the loader closes the release pipe.
int sleeper(const std::string &comm, bool reset_on_fork, int truth_fd,
            int release_fd) {
  set_comm(comm);
  if (reset_on_fork) {
    sched_param sp{};
    if (::sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp) != 0)
      return 2;
  }
  ChildTruth t = own_truth();
  t.reset_on_fork = (::sched_getscheduler(0) & SCHED_RESET_ON_FORK) ? 1 : 0;
  if (!write_all(truth_fd, &t, sizeof t))
    return 1;
  char byte;
  while (::read(release_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  return 0;
}
} // namespace

Report run_taskstate(const Options &opts) {
  Report rep;
  rep.program = "taskstate";
  const std::string prefix = unique_comm_prefix();
  auto skel = open_load_attach(kOps, opts, prefix, rep);
  if (!skel)
    return rep;
  auto reader = PerfReader::open(bpf_map__fd(skel->maps.events));
  auto truth = make_pipe();
  auto release = make_pipe();
  if (!reader || !truth || !release) {
    rep.error = !reader  ? reader.error().message
                : !truth ? truth.error().message
                         : release.error().message;
    return rep;
  }

  struct Sleeper {
    std::string name, comm;
    bool reset_on_fork;
  };
  const Sleeper sleepers[] = {{"r1", prefix + "-1", true},
                              {"r0", prefix + "-0", false}};
  std::vector<Child> children;
  for (const auto &s : sleepers) {
    auto child = Child::spawn([&] {
      // Only the loader may hold the write end, or read(2) never sees EOF.
      release->write_end.reset();
      return sleeper(s.comm, s.reset_on_fork, truth->write_end.get(),
                     release->read_end.get());
    });
    if (!child) {
      rep.error = child.error().message;
      return rep;
    }
    children.push_back(std::move(*child));
  }
  truth->write_end.reset();
  std::vector<std::pair<std::string, ChildTruth>> truths;
  for (size_t i = 0; i < children.size(); i++) {
    ChildTruth t;
    if (!read_exact(truth->read_end.get(), &t, sizeof t)) {
      rep.error =
          "a sleeping child failed before reporting (sched_setscheduler "
          "SCHED_RESET_ON_FORK refused?)";
      return rep;
    }
    for (const auto &s : sleepers)
      if (comm_string(t.comm, sizeof t.comm) == s.comm)
        truths.emplace_back(s.name, t);
  }
  rep.truth_json = truth_json(truths);

  // Each child is switched out asleep once it blocks in read(2).
  auto deadline = Clock::now() + opts.timeout;
  reader->poll_until(deadline, [&] {
    auto ev = events_of<taskstate_event>(*reader);
    for (const auto &s : sleepers)
      if (!sleep_event(ev, s.comm))
        return false;
    return true;
  });
  release->write_end.reset();
  for (auto &ch : children)
    (void)ch.wait();

  auto events = events_of<taskstate_event>(*reader);
  nlohmann::json ej = nlohmann::json::array();
  for (const auto &e : events)
    ej.push_back(to_json(e));
  rep.events_json =
      ej.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  const bool kernel_has_new_state = running_kernel().at_least(5, 14);
  Checks c;
  for (const auto &s : sleepers) {
    auto e = sleep_event(events, s.comm);
    if (!e) {
      rep.outcome = Outcome::no_event;
      rep.error = "no sched_switch of " + s.comm + " asleep within " +
                  std::to_string(opts.timeout.count()) + " ms";
      return rep;
    }
    int want_reset = 0;
    for (const auto &[name, t] : truths)
      if (name == s.name)
        want_reset = t.reset_on_fork;
    c.equal(s.name + ".core_pid == helper_pid", e->core_pid, e->helper_pid);
    c.equal(s.name + ".tp_prev_pid == helper_pid", e->tp_prev_pid,
            e->helper_pid);
    c.equal(s.name + ".core_state == TASK_INTERRUPTIBLE", e->core_state,
            kTaskInterruptible);
    c.equal(s.name + ".core_state_is_new == (uname -r >= 5.14)",
            e->core_state_is_new, kernel_has_new_state ? 1u : 0u);
    c.equal(s.name + ".core_reset_on_fork == child's", e->core_reset_on_fork,
            static_cast<unsigned>(want_reset));
  }
  rep.outcome = c.all_ok() ? Outcome::pass : Outcome::wrong_values;
  rep.checks = c.take();
  return rep;
}

} // namespace btfpack::bpf_demo::detail
