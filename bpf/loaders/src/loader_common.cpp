// SPDX-License-Identifier: Apache-2.0
#include "loader_common.h"

#include "btfpack/file_util.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

namespace btfpack::bpf_demo::detail {

Result<BtfHandoff> prepare_btf(const Options &opts) {
  BtfHandoff h;
  if (opts.btf_path.empty() || !opts.via_memfd) {
    h.path = opts.btf_path;
    return h;
  }
  auto data = read_file(opts.btf_path, 512ull << 20);
  if (!data)
    return with_context(std::move(data).error(), "read BTF for memfd");
  // CLOEXEC: only this process reads /proc/self/fd/N.
  h.memfd = UniqueFd(::memfd_create("btfpack-btf", MFD_CLOEXEC));
  if (!h.memfd)
    return make_error(Errc::io, "memfd_create: " + errno_message(errno) +
                                    " (kernel without CONFIG_MEMFD_CREATE?)");
  if (!write_all(h.memfd.get(), data->data(), data->size()))
    return make_error(Errc::io, "write BTF " + opts.btf_path +
                                    " to memfd: " + errno_message(errno));
  h.path = "/proc/self/fd/" + std::to_string(h.memfd.get());
  return h;
}

Result<void> ensure_tracefs() {
  std::error_code ec;
  if (std::filesystem::exists("/sys/kernel/tracing/events", ec) ||
      std::filesystem::exists("/sys/kernel/debug/tracing/events", ec))
    return ok();
  if (::mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
    return make_error(Errc::io,
                      "tracefs is not mounted and mounting it at "
                      "/sys/kernel/tracing failed: " +
                          errno_message(errno) +
                          " (mount -t tracefs nodev /sys/kernel/tracing)");
  return ok();
}

std::string libbpf_error(int err) {
  char buf[256] = {};
  libbpf_strerror(err, buf, sizeof buf);
  return std::to_string(err) + " (" + buf + ")";
}

std::string unique_comm_prefix() {
  // Not std::random_device: getrandom(2) may block early in a VM's boot,
  // where the vm tests run this. Time, pid and a counter are unique enough.
  static std::atomic<std::uint64_t> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  std::uint64_t r = (std::uint64_t(now) * 0x9e3779b97f4a7c15ULL) ^
                    (std::uint64_t(::getpid()) << 20) ^ (counter++ << 8);
  r ^= r >> 29;
  char buf[16];
  std::snprintf(buf, sizeof buf, "bp%09llx",
                static_cast<unsigned long long>(r & 0xfffffffffULL));
  return buf;
}

KernelVersion running_kernel() {
  utsname u{};
  KernelVersion v;
  if (::uname(&u) == 0)
    std::sscanf(u.release, "%d.%d", &v.major, &v.minor);
  return v;
}

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return make_error(Errc::io, "pipe: " + errno_message(errno));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<Child> Child::spawn(const std::function<int()> &body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0)
    return make_error(Errc::io, "fork: " + errno_message(errno));
  if (pid == 0) {
    // A child must never return into the caller's stack (gtest, CLI).
    int status = body();
    ::_exit(status);
  }
  return Child(pid);
}

Child::Child(Child &&o) noexcept : pid_(std::exchange(o.pid_, -1)) {}

Child &Child::operator=(Child &&o) noexcept {
  if (this != &o) {
    kill_and_reap();
    pid_ = std::exchange(o.pid_, -1);
  }
  return *this;
}

Child::~Child() {
  kill_and_reap();
}

void Child::kill_and_reap() noexcept {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

Result<int> Child::wait() {
  int st = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &st, 0)) < 0 && errno == EINTR) {
  }
  if (r < 0)
    return make_error(Errc::io, "waitpid: " + errno_message(errno));
  pid_ = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void set_comm(const std::string &comm) {
  ::prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
}

std::string own_comm() {
  char buf[17] = {};
  ::prctl(PR_GET_NAME, buf, 0, 0, 0);
  return buf;
}

bool write_all(int fd, const void *buf, size_t len) {
  auto *p = static_cast<const char *>(buf);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool read_exact(int fd, void *buf, size_t len) {
  auto *p = static_cast<char *>(buf);
  while (len > 0) {
    ssize_t n = ::read(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

Result<PerfReader> PerfReader::open(int map_fd) {
  auto state = std::make_unique<State>();
  auto on_sample = [](void *ctx, int, void *data, __u32 size) {
    auto *s = static_cast<State *>(ctx);
    auto *p = static_cast<const std::uint8_t *>(data);
    s->samples.emplace_back(p, p + size);
  };
  auto on_lost = [](void *ctx, int, __u64 count) {
    static_cast<State *>(ctx)->lost += count;
  };
  PerfBufferPtr pb(
      perf_buffer__new(map_fd, 8, on_sample, on_lost, state.get(), nullptr));
  if (!pb)
    return make_error(Errc::io, "perf_buffer__new: " + libbpf_error(-errno));
  return PerfReader(std::move(state), std::move(pb));
}

bool PerfReader::poll_until(Clock::time_point deadline,
                            const std::function<bool()> &done) {
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0)
      return done();
    int err = perf_buffer__poll(
        pb_.get(), static_cast<int>(std::min<long>(left.count(), 50)));
    if (err < 0 && err != -EINTR)
      return done();
  }
  return true;
}

ChildTruth own_truth() {
  ChildTruth t;
  t.pid = ::getpid();
  t.ppid = ::getppid();
  t.tid = ::gettid();
  ::prctl(PR_GET_NAME, t.comm, 0, 0, 0);
  return t;
}

std::string
truth_json(const std::vector<std::pair<std::string, ChildTruth>> &truths) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto &[name, t] : truths)
    j[name] = {{"pid", t.pid},
               {"ppid", t.ppid},
               {"tid", t.tid},
               {"reset_on_fork", t.reset_on_fork},
               {"comm", comm_string(t.comm, sizeof t.comm)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string comm_string(const char *comm, size_t len) {
  size_t n = 0;
  while (n < len && comm[n])
    n++;
  return std::string(comm, n);
}

void Checks::add(const std::string &name, std::string got, std::string want,
                 bool ok) {
  checks_.push_back(Check{name, std::move(got), std::move(want), ok});
}

bool Checks::all_ok() const {
  for (const auto &c : checks_)
    if (!c.ok)
      return false;
  return !checks_.empty();
}

} // namespace btfpack::bpf_demo::detail
