// SPDX-License-Identifier: Apache-2.0
#include "loopback.h"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace btfpack::test {

LoopbackAcceptor::LoopbackAcceptor(std::function<void(int)> serve)
    : serve_(std::move(serve)) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      ::listen(s, 64) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
    if (s >= 0)
      ::close(s);
    return;
  }
  fd_ = s;
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

LoopbackAcceptor::~LoopbackAcceptor() {
  stop_ = true;
  if (acceptor_.joinable())
    acceptor_.join();
  for (auto &t : conns_)
    t.join();
  if (fd_ >= 0)
    ::close(fd_);
}

std::string LoopbackAcceptor::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void LoopbackAcceptor::accept_loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0)
      continue;
    timeval tv{5, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::lock_guard lock(mu_);
    conns_.emplace_back([this, c] {
      serve_(c);
      ::close(c);
    });
  }
}

bool send_all(int fd, const char *p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

} // namespace btfpack::test
