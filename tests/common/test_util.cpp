// SPDX-License-Identifier: Apache-2.0
#include "test_util.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <random>
#include <signal.h>
#include <string_view>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace btfpack::test {

bool has_corpus() {
  // BTFPACK_TEST_NO_CORPUS=1 runs the tests as on a clone without ../shared.
  const char *no = std::getenv("BTFPACK_TEST_NO_CORPUS");
  if (no && *no && std::string_view(no) != "0")
    return false;
  return fs::is_directory(corpus_archive());
}

TempDir::TempDir() {
  const char *base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base && *base ? base : "/tmp") + "/btfpack-test.XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {
void drain(int out_fd, int err_fd, std::string &out, std::string &err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_count = 2;
  char buf[65536];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        open_count--;
      } else {
        (i == 0 ? out : err).append(buf, static_cast<size_t>(n));
      }
    }
  }
}
} // namespace

CmdResult run(const std::vector<std::string> &argv,
              const std::string &stdin_data) {
  CmdResult r;
  int out[2], err[2], in[2];
  if (::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC) ||
      ::pipe2(in, O_CLOEXEC))
    return r;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    std::vector<char *> args;
    for (auto &a : argv)
      args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  // Small inputs only: write before draining is fine for test-sized data.
  if (!stdin_data.empty()) {
    signal(SIGPIPE, SIG_IGN);
    [[maybe_unused]] auto n =
        ::write(in[1], stdin_data.data(), stdin_data.size());
  }
  ::close(in[1]);
  drain(out[0], err[0], r.out, r.err);
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

CmdResult sh(const std::string &command) {
  return run({"/bin/sh", "-c", command});
}

namespace {
bool has_cap(int cap) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &hdr, data) != 0)
    return false;
  return data[cap / 32].effective & (1u << (cap % 32));
}
} // namespace

std::string privileged_skip_reason() {
  bool admin = has_cap(CAP_SYS_ADMIN);
  if (!admin && !(has_cap(CAP_BPF) && has_cap(CAP_PERFMON)))
    return "needs CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN "
           "(run as root: sudo ctest -L privileged)";
  if (!fs::exists("/sys/kernel/btf/vmlinux"))
    return "kernel has no /sys/kernel/btf/vmlinux to minimize";
  if (!fs::exists("/sys/kernel/tracing/events")) {
    ::mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr);
    if (!fs::exists("/sys/kernel/tracing/events"))
      return "tracefs is not mounted and could not be mounted at "
             "/sys/kernel/tracing";
  }
  return {};
}

} // namespace btfpack::test
