// SPDX-License-Identifier: Apache-2.0
#include "recording_server.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <cerrno>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace btfpack::test {

namespace {
bool send_all(int fd, const std::string &s) {
  return test::send_all(fd, s.data(), s.size());
}
} // namespace

RecordingServer::RecordingServer(Handler handler)
    : handler_(std::move(handler)) {}

std::vector<HttpRequest> RecordingServer::requests() const {
  std::lock_guard lock(mu_);
  return log_;
}

HttpResponse RecordingServer::serve_file(const std::filesystem::path &root,
                                         const HttpRequest &r) {
  std::string path = r.target.substr(0, r.target.find('?'));
  std::ifstream in(root / path.substr(1), std::ios::binary);
  if (path.find("..") != std::string::npos || !in)
    return {404, {{"Content-Type", "text/plain"}}, "not found\n"};
  std::ostringstream ss;
  ss << in.rdbuf();
  return {200, {{"Content-Type", "application/octet-stream"}}, ss.str()};
}

// One request per connection (Connection: close): enough for libcurl.
void RecordingServer::serve(int fd) {
  std::string in;
  char buf[4096];
  while (in.find("\r\n\r\n") == std::string::npos && in.size() < 65536) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      return;
    in.append(buf, static_cast<std::size_t>(n));
  }
  HttpRequest req;
  std::istringstream ss(in.substr(0, in.find("\r\n\r\n")));
  std::string line;
  std::getline(ss, line);
  std::istringstream rl(line);
  rl >> req.method >> req.target;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    std::string k = line.substr(0, colon);
    for (auto &ch : k)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(' '));
    req.headers[k] = v;
  }
  {
    std::lock_guard lock(mu_);
    log_.push_back(req);
  }
  HttpResponse r = handler_(req);
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
  for (auto &[k, v] : r.headers)
    out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) +
         "\r\nConnection: close\r\n\r\n";
  if (req.method != "HEAD")
    out += r.body;
  send_all(fd, out);
}

} // namespace btfpack::test
