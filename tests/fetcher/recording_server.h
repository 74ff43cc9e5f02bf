// SPDX-License-Identifier: Apache-2.0
//
// RecordingServer: a small HTTP/1.1 server on 127.0.0.1 that records every
// request with its headers and answers through a handler, so a test can
// play GitHub's API host (ETags, 304, rate-limit replies, redirects) and its
// raw-file host (files from a directory) and then check which headers went
// where. nginx can serve files but cannot say which headers it was sent.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace btfpack::test {

struct HttpRequest {
  std::string method, target;                 // target: path and query
  std::map<std::string, std::string> headers; // lowercase names
  std::string header(const std::string &k) const {
    auto it = headers.find(k);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class RecordingServer {
public:
  using Handler = std::function<HttpResponse(const HttpRequest &)>;
  explicit RecordingServer(Handler handler);
  ~RecordingServer();
  RecordingServer(const RecordingServer &) = delete;
  RecordingServer &operator=(const RecordingServer &) = delete;

  bool running() const { return listen_fd_ >= 0; }
  std::string url() const;
  std::vector<HttpRequest> requests() const;

  // serve_files answers GET /PATH with ROOT/PATH (404 when missing).
  static HttpResponse serve_file(const std::filesystem::path &root,
                                 const HttpRequest &r);

private:
  void accept_loop();
  void serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<HttpRequest> log_;
  std::vector<std::thread> conns_;
  std::thread acceptor_;
};

} // namespace btfpack::test
