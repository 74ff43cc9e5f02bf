// SPDX-License-Identifier: Apache-2.0
//
// What the tests' HTTP servers share (FaultServer, RecordingServer): a
// listening socket on 127.0.0.1 with a free port, an accept loop that
// serves each connection on its own thread, and a send that writes
// everything or fails.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace btfpack::test {

// LoopbackAcceptor listens on 127.0.0.1 and calls `serve(fd)` for every
// connection on a thread of its own (the fd is closed after it returns).
// Its destructor stops accepting and joins every thread: make it the last
// member of the server that owns it, so it goes first.
class LoopbackAcceptor {
public:
  explicit LoopbackAcceptor(std::function<void(int)> serve);
  ~LoopbackAcceptor();
  LoopbackAcceptor(const LoopbackAcceptor &) = delete;
  LoopbackAcceptor &operator=(const LoopbackAcceptor &) = delete;

  bool running() const { return fd_ >= 0; }
  std::string url() const; // http://127.0.0.1:PORT

private:
  void accept_loop();

  std::function<void(int)> serve_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::thread> conns_;
  std::thread acceptor_;
};

// send_all writes all `n` bytes of `p` to `fd` (no SIGPIPE), retrying on
// EINTR; false when the peer is gone.
bool send_all(int fd, const char *p, std::size_t n);

} // namespace btfpack::test
