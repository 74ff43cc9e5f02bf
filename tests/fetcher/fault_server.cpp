// SPDX-License-Identifier: Apache-2.0
#include "fault_server.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace btfpack::test {

namespace fs = std::filesystem;

namespace {

std::string url_decode(const std::string &s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(
          static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void send_status(int fd, int status, int retry_after) {
  std::string body = "fault injected\n";
  std::string h = "HTTP/1.1 " + std::to_string(status) + " Fault\r\n" +
                  "Content-Type: text/plain\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (retry_after >= 0)
    h += "Retry-After: " + std::to_string(retry_after) + "\r\n";
  h += "\r\n" + body;
  send_all(fd, h.data(), h.size());
}

} // namespace

FaultServer::FaultServer(fs::path root, std::vector<Fault> faults)
    : root_(std::move(root)), faults_(std::move(faults)),
      fault_hits_(faults_.size(), 0) {}

int FaultServer::requests(const std::string &needle) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (auto &r : log_)
    n += r.path.find(needle) != std::string::npos;
  return n;
}

int FaultServer::ranged(const std::string &needle) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (auto &r : log_)
    n += r.ranged && r.path.find(needle) != std::string::npos;
  return n;
}

// serve answers one request per connection (Connection: close).
void FaultServer::serve(int fd) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      return;
    req.append(buf, static_cast<std::size_t>(n));
  }
  auto sp1 = req.find(' ');
  auto sp2 = req.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos)
    return;
  std::string target = req.substr(sp1 + 1, sp2 - sp1 - 1);
  // Absolute-form ("GET http://host/path"): asked as a forward proxy.
  if (target.rfind("http://", 0) == 0) {
    auto slash = target.find('/', 7);
    target = slash == std::string::npos ? "/" : target.substr(slash);
  }
  std::string path = url_decode(target);
  std::uint64_t start = 0;
  bool ranged = false;
  for (std::size_t pos = req.find("\r\n"); pos != std::string::npos;) {
    auto end = req.find("\r\n", pos + 2);
    if (end == std::string::npos)
      break;
    std::string line = req.substr(pos + 2, end - pos - 2);
    if (::strncasecmp(line.c_str(), "range: bytes=", 13) == 0) {
      start = std::stoull(line.substr(13));
      ranged = true;
    }
    pos = end;
  }

  const Fault *fault = nullptr;
  {
    std::lock_guard lock(mu_);
    log_.push_back({path, ranged});
    for (std::size_t i = 0; i < faults_.size(); i++) {
      if (path.find(faults_[i].path_contains) == std::string::npos)
        continue;
      if (fault_hits_[i] < faults_[i].times) {
        fault_hits_[i]++;
        fault = &faults_[i];
        break;
      }
    }
  }
  if (fault && fault->kind == Fault::Kind::status) {
    send_status(fd, fault->status, fault->retry_after);
    return;
  }
  if (path.find("..") != std::string::npos) {
    send_status(fd, 400, -1);
    return;
  }
  int file = ::open((root_ / path.substr(1)).c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (file < 0 || ::fstat(file, &st) != 0) {
    if (file >= 0)
      ::close(file);
    send_status(fd, 404, -1);
    return;
  }
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (start > size)
    start = size;
  std::string h;
  if (ranged) {
    h = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " +
        std::to_string(start) + "-" + std::to_string(size - 1) + "/" +
        std::to_string(size) + "\r\n";
  } else {
    h = "HTTP/1.1 200 OK\r\n";
  }
  h += "Content-Length: " + std::to_string(size - start) +
       "\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n";
  bool ok = send_all(fd, h.data(), h.size());
  std::uint64_t limit = size - start;
  if (fault && fault->kind == Fault::Kind::reset)
    limit = std::min(limit, fault->after_bytes);
  ::lseek(file, static_cast<off_t>(start), SEEK_SET);
  bool trickle = fault && fault->kind == Fault::Kind::trickle;
  std::vector<char> data(
      trickle ? std::max<std::uint64_t>(1, fault->bytes_per_s / 10) : 1 << 16);
  while (ok && limit > 0) {
    ssize_t n =
        ::read(file, data.data(), std::min<std::uint64_t>(limit, data.size()));
    if (n <= 0)
      break;
    ok = send_all(fd, data.data(), static_cast<std::size_t>(n));
    limit -= static_cast<std::uint64_t>(n);
    if (trickle)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::close(file);
  if (ok && fault && fault->kind == Fault::Kind::overlong) {
    std::string junk(fault->after_bytes, ' ');
    send_all(fd, junk.data(), junk.size());
  }
  if (fault && fault->kind == Fault::Kind::reset) {
    linger l{1, 0}; // close with RST: "connection reset by peer"
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
}

} // namespace btfpack::test
