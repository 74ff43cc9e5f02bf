// SPDX-License-Identifier: Apache-2.0
#include "subprocess.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

extern char **environ;

namespace btfpack::btfgen {

namespace {

struct SpawnAttr {
  posix_spawnattr_t a;
  SpawnAttr() { posix_spawnattr_init(&a); }
  ~SpawnAttr() { posix_spawnattr_destroy(&a); }
  SpawnAttr(const SpawnAttr &) = delete;
  SpawnAttr &operator=(const SpawnAttr &) = delete;
};
struct SpawnActions {
  posix_spawn_file_actions_t a;
  SpawnActions() { posix_spawn_file_actions_init(&a); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&a); }
  SpawnActions(const SpawnActions &) = delete;
  SpawnActions &operator=(const SpawnActions &) = delete;
};

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    return make_error(Errc::io, "pipe: " + errno_message(errno));
  return std::pair<UniqueFd, UniqueFd>{UniqueFd(p[0]), UniqueFd(p[1])};
}

} // namespace

Result<ProcResult> run_process(const std::vector<std::string> &argv,
                               std::chrono::milliseconds timeout,
                               std::size_t cap) {
  if (argv.empty())
    return make_error(Errc::invalid_argument, "run: empty command");
  BTFPACK_TRY(out_pipe, make_pipe());
  BTFPACK_TRY(err_pipe, make_pipe());
  SpawnActions actions;
  posix_spawn_file_actions_addopen(&actions.a, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions.a, out_pipe.second.get(), 1);
  posix_spawn_file_actions_adddup2(&actions.a, err_pipe.second.get(), 2);
  SpawnAttr attr;
  // Own process group: a timeout kills the tool and whatever it started.
  posix_spawnattr_setflags(&attr.a, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr.a, 0);
  std::vector<char *> args;
  for (const auto &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);

  auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  int rc =
      ::posix_spawn(&pid, args[0], &actions.a, &attr.a, args.data(), environ);
  if (rc != 0)
    return make_error(Errc::io,
                      "run " + argv[0] + ": " + errno_message(rc) +
                          " (check the path and that it is executable)");
  out_pipe.second.reset();
  err_pipe.second.reset();

  ProcResult r;
  auto deadline = start + timeout;
  pollfd fds[2] = {{out_pipe.first.get(), POLLIN, 0},
                   {err_pipe.first.get(), POLLIN, 0}};
  int open_count = 2;
  char buf[65536];
  bool killed = false;
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(-pid, SIGKILL);
      killed = true;
      r.timed_out = true;
    }
    int wait_ms = killed ? 1000 : static_cast<int>(left.count()) + 1;
    int n = ::poll(fds, 2, wait_ms);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (n == 0 && killed)
      break; // something outside the group holds the pipe: stop waiting
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        fds[i].fd = -1;
        open_count--;
        continue;
      }
      std::string &dst = i == 0 ? r.out : r.err;
      if (dst.size() < cap)
        dst.append(buf, std::min<std::size_t>(static_cast<std::size_t>(got),
                                              cap - dst.size()));
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

} // namespace btfpack::btfgen
