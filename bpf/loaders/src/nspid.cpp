// SPDX-License-Identifier: Apache-2.0
//
// nspid: a child calls getppid(2); the program computes the child's
// getpid()/gettid()/getppid() inside its pid namespace from struct pid,
// using the target kernel's struct upid size and PIDTYPE_TGID value. The
// child's own syscalls are the ground truth, in a container too.
#include "loader_common.h"

#include "nspid.h"
#include "nspid.skel.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <sys/syscall.h>

namespace btfpack::bpf_demo::detail {

namespace {
const SkelOps<nspid_bpf> kOps{nspid_bpf__open_opts, nspid_bpf__load,
                              nspid_bpf__attach, nspid_bpf__destroy,
                              nspid_bpf__elf_bytes};

// struct upid { int nr; struct pid_namespace *ns; } on an LP64 kernel.
struct UpidLayout {
  int nr;
  void *ns;
};

nlohmann::json to_json(const nspid_event &e) {
  return {{"helper_pid", e.helper_pid},
          {"helper_tgid", e.helper_tgid},
          {"helper_comm", comm_string(e.helper_comm, sizeof e.helper_comm)},
          {"ns_level", e.ns_level},
          {"ns_pid", e.ns_pid},
          {"ns_tgid", e.ns_tgid},
          {"ns_ppid", e.ns_ppid},
          {"upid_size", e.upid_size},
          {"pidtype_tgid", e.pidtype_tgid},
          {"has_pid_link", e.has_pid_link},
          {"has_pid_ns", e.has_pid_ns}};
}
} // namespace

Report run_nspid(const Options &opts) {
  Report rep;
  rep.program = "nspid";
  const std::string prefix = unique_comm_prefix();
  auto skel = open_load_attach(kOps, opts, prefix, rep);
  if (!skel)
    return rep;
  auto reader = PerfReader::open(bpf_map__fd(skel->maps.events));
  auto pipe = make_pipe();
  if (!reader || !pipe) {
    rep.error = !reader ? reader.error().message : pipe.error().message;
    return rep;
  }
  const std::string comm = prefix + "-n";
  const int truth_fd = pipe->write_end.get();
  auto child = Child::spawn([&] {
    set_comm(comm);
    ::syscall(SYS_getppid); // the traced event
    ChildTruth t = own_truth();
    return write_all(truth_fd, &t, sizeof t) ? 0 : 1;
  });
  if (!child) {
    rep.error = child.error().message;
    return rep;
  }
  pipe->write_end.reset();
  auto status = child->wait();
  ChildTruth truth;
  if (!status || *status != 0 ||
      !read_exact(pipe->read_end.get(), &truth, sizeof truth)) {
    rep.error = "the triggering child failed";
    return rep;
  }
  rep.truth_json = truth_json({{"n", truth}});

  auto find = [&]() -> std::optional<nspid_event> {
    for (const auto &e : events_of<nspid_event>(*reader))
      if (comm_string(e.helper_comm, sizeof e.helper_comm) == comm)
        return e;
    return std::nullopt;
  };
  reader->poll_until(Clock::now() + opts.timeout,
                     [&] { return find().has_value(); });
  nlohmann::json ej = nlohmann::json::array();
  for (const auto &e : events_of<nspid_event>(*reader))
    ej.push_back(to_json(e));
  rep.events_json =
      ej.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto e = find();
  if (!e) {
    rep.outcome = Outcome::no_event;
    rep.error = "no getppid event from " + comm + " within " +
                std::to_string(opts.timeout.count()) + " ms";
    return rep;
  }

  const bool pre_4_19 = !running_kernel().at_least(4, 19);
  Checks c;
  c.equal("helper_pid == helper_tgid (one thread)", e->helper_pid,
          e->helper_tgid);
  c.equal("ns_pid == child's gettid()", e->ns_pid,
          static_cast<__u32>(truth.tid));
  c.equal("ns_tgid == child's getpid()", e->ns_tgid,
          static_cast<__u32>(truth.pid));
  c.equal("ns_ppid == child's getppid()", e->ns_ppid,
          static_cast<__u32>(truth.ppid));
  c.equal("upid_size == sizeof(struct upid)", e->upid_size,
          static_cast<__u32>(sizeof(UpidLayout)));
  c.equal("has_pid_link == (uname -r < 4.19)", e->has_pid_link,
          pre_4_19 ? 1u : 0u);
  if (!pre_4_19)
    c.equal("pidtype_tgid == PIDTYPE_TGID", e->pidtype_tgid, 1u);
  c.equal("has_pid_ns", e->has_pid_ns, 1u);
  rep.outcome = c.all_ok() ? Outcome::pass : Outcome::wrong_values;
  rep.checks = c.take();
  return rep;
}

} // namespace btfpack::bpf_demo::detail
