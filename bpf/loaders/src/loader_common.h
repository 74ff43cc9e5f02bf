// SPDX-License-Identifier: Apache-2.0
//
// What the three loaders share: handing the BTF to libbpf (file or memfd),
// opening/loading/attaching a skeleton with RAII, reading a perf event array,
// and spawning the children that trigger the traced events.
#pragma once

#include "btfpack/bpf_demo.h"
#include "btfpack/c_free.h"
#include "btfpack/result.h"
#include "btfpack/sha256.h"
#include "btfpack/unique_fd.h"
#include "btfpack_bpf_common.h"

#include <bpf/libbpf.h>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

namespace btfpack::bpf_demo::detail {

using Clock = std::chrono::steady_clock;

// BtfHandoff is the path libbpf gets, with the memfd behind
// /proc/self/fd/N kept open: libbpf parses the file only in load().
struct BtfHandoff {
  UniqueFd memfd;
  std::string path; // empty: native BTF
  const char *c_path() const { return path.empty() ? nullptr : path.c_str(); }
};
Result<BtfHandoff> prepare_btf(const Options &opts);

// ensure_tracefs mounts tracefs at /sys/kernel/tracing when it is missing
// (tp/ programs attach through its events/ directory).
Result<void> ensure_tracefs();

// libbpf_error renders a negative libbpf error code ("-4001: ...").
std::string libbpf_error(int err);

// unique_comm_prefix returns a fresh 11-character comm prefix ("bp" and 9
// hex digits); children append "-x" so comms stay within 15 characters.
std::string unique_comm_prefix();

// KernelVersion is uname -r's leading major.minor.
struct KernelVersion {
  int major = 0;
  int minor = 0;
  bool at_least(int ma, int mi) const {
    return major > ma || (major == ma && minor >= mi);
  }
};
KernelVersion running_kernel();

// Pipe is a pipe(2) pair, both ends owned.
struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};
Result<Pipe> make_pipe();

// Child is a forked process running body; its return value is the exit
// status. A child not waited for is killed and reaped at scope exit.
class Child {
public:
  static Result<Child> spawn(const std::function<int()> &body);
  Child(Child &&o) noexcept;
  Child &operator=(Child &&o) noexcept;
  Child(const Child &) = delete;
  Child &operator=(const Child &) = delete;
  ~Child();
  // wait reaps the child and returns its exit status (128+signal if killed).
  Result<int> wait();
  pid_t pid() const { return pid_; }

private:
  explicit Child(pid_t pid) : pid_(pid) {}
  void kill_and_reap() noexcept;
  pid_t pid_ = -1;
};

// set_comm sets the calling thread's comm (prctl PR_SET_NAME).
void set_comm(const std::string &comm);
// own_comm returns the calling thread's comm.
std::string own_comm();

// write_all / read_exact move a trivially copyable struct through a pipe.
bool write_all(int fd, const void *buf, size_t len);
bool read_exact(int fd, void *buf, size_t len);

// ChildTruth is what a triggering child saw of itself, sent back through a
// pipe: the ground truth the CO-RE values are compared with.
struct ChildTruth {
  pid_t pid = 0;  // getpid()
  pid_t ppid = 0; // getppid()
  pid_t tid = 0;  // gettid()
  int reset_on_fork = 0;
  char comm[16] = {};
};
// own_truth fills a ChildTruth for the calling process.
ChildTruth own_truth();
// truth_json renders children's truths as {"a": {...}, ...}.
std::string truth_json(const std::vector<std::pair<std::string, ChildTruth>> &);

// PerfReader owns a perf_buffer over a PERF_EVENT_ARRAY map and keeps every
// sample it receives.
class PerfReader {
public:
  static Result<PerfReader> open(int map_fd);
  // poll_until polls until done() is true or the deadline passes; returns
  // done()'s last answer.
  bool poll_until(Clock::time_point deadline,
                  const std::function<bool()> &done);
  const std::vector<std::vector<std::uint8_t>> &samples() const {
    return state_->samples;
  }
  std::uint64_t lost() const { return state_->lost; }

private:
  struct State {
    std::vector<std::vector<std::uint8_t>> samples;
    std::uint64_t lost = 0;
  };
  using PerfBufferPtr = CHandle<perf_buffer, perf_buffer__free>;
  PerfReader(std::unique_ptr<State> s, PerfBufferPtr pb)
      : state_(std::move(s)), pb_(std::move(pb)) {}
  std::unique_ptr<State> state_; // perf_buffer's ctx points here: keep first
  PerfBufferPtr pb_;
};

// events_of returns the samples of the right size as T.
template <typename T> std::vector<T> events_of(const PerfReader &reader) {
  std::vector<T> out;
  for (const auto &s : reader.samples()) {
    if (s.size() < sizeof(T))
      continue;
    T e;
    std::memcpy(&e, s.data(), sizeof(T));
    out.push_back(e);
  }
  return out;
}

// comm_string turns a fixed comm array into a string.
std::string comm_string(const char *comm, size_t len);

// Checks collects comparisons for a Report.
class Checks {
public:
  template <typename A, typename B>
  void equal(const std::string &name, const A &got, const B &want) {
    add(name, to_text(got), to_text(want), got == want);
  }
  void add(const std::string &name, std::string got, std::string want, bool ok);
  std::vector<Check> take() { return std::move(checks_); }
  bool all_ok() const;

private:
  static std::string to_text(const std::string &s) { return s; }
  static std::string to_text(const char *s) { return s; }
  template <typename N> static std::string to_text(const N &n) {
    return std::to_string(n);
  }
  std::vector<Check> checks_;
};

// SkelOps names a skeleton's generated functions.
template <typename Skel> struct SkelOps {
  Skel *(*open)(const struct bpf_object_open_opts *);
  int (*load)(Skel *);
  int (*attach)(Skel *);
  void (*destroy)(Skel *);
  const void *(*elf_bytes)(size_t *); // the embedded object
};

template <typename Skel>
using SkelPtr = std::unique_ptr<Skel, void (*)(Skel *)>;

// open_load_attach opens the skeleton with the BTF of opts, loads it, sets
// the comm filter map and attaches. On failure it fills report (outcome
// load_failed or error) and returns null.
template <typename Skel>
SkelPtr<Skel> open_load_attach(const SkelOps<Skel> &ops, const Options &opts,
                               const std::string &comm_prefix, Report &report) {
  SkelPtr<Skel> none(nullptr, ops.destroy);
  auto handoff = prepare_btf(opts);
  if (!handoff) {
    report.outcome = Outcome::error;
    report.error = handoff.error().message;
    return none;
  }
  {
    // Which build of the object this loader carries (x86_64 or arm64):
    // the VM test checks it against the objects the bundle was made for.
    size_t sz = 0;
    const void *elf = ops.elf_bytes(&sz);
    report.object_sha256 = to_hex(sha256(std::span<const std::uint8_t>(
        static_cast<const std::uint8_t *>(elf), sz)));
  }
  report.btf = handoff->path.empty() ? "native" : handoff->path;
  report.btf_source = opts.btf_path;
  bpf_object_open_opts open_opts{};
  open_opts.sz = sizeof(open_opts);
  open_opts.btf_custom_path = handoff->c_path();
  auto start = Clock::now();
  SkelPtr<Skel> skel(ops.open(&open_opts), ops.destroy);
  if (!skel) {
    report.outcome = Outcome::load_failed;
    report.error = "open " + report.program + ".bpf.o: " + libbpf_error(-errno);
    return none;
  }
  int err = ops.load(skel.get());
  report.load_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  // handoff (and its memfd) lives until here: load() has read the BTF.
  if (err) {
    report.outcome = Outcome::load_failed;
    report.error = "load " + report.program + ".bpf.o with BTF " + report.btf +
                   ": " + libbpf_error(err);
    return none;
  }
  // The filter goes in before attach: until then no event can fire.
  btfpack_comm_filter filter{};
  std::memcpy(filter.prefix, comm_prefix.data(),
              std::min(comm_prefix.size(), sizeof filter.prefix));
  filter.len =
      static_cast<__u32>(std::min(comm_prefix.size(), sizeof filter.prefix));
  const __u32 key = 0;
  err = bpf_map__update_elem(skel->maps.comm_filter, &key, sizeof key, &filter,
                             sizeof filter, BPF_ANY);
  if (err) {
    report.outcome = Outcome::error;
    report.error = "set comm filter: " + libbpf_error(err);
    return none;
  }
  if (auto tr = ensure_tracefs(); !tr) {
    report.outcome = Outcome::load_failed;
    report.error = "attach " + report.program + ": " + tr.error().message;
    return none;
  }
  err = ops.attach(skel.get());
  if (err) {
    report.outcome = Outcome::load_failed;
    report.error = "attach " + report.program + ": " + libbpf_error(err);
    return none;
  }
  return skel;
}

// The three programs.
Report run_parentchain(const Options &opts);
Report run_taskstate(const Options &opts);
Report run_nspid(const Options &opts);

} // namespace btfpack::bpf_demo::detail
