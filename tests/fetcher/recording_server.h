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

#include "loopback.h"

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
  RecordingServer(const RecordingServer &) = delete;
  RecordingServer &operator=(const RecordingServer &) = delete;

  bool running() const { return acceptor_.running(); }
  std::string url() const { return acceptor_.url(); }
  std::vector<HttpRequest> requests() const;

  // serve_files answers GET /PATH with ROOT/PATH (404 when missing).
  static HttpResponse serve_file(const std::filesystem::path &root,
                                 const HttpRequest &r);

private:
  void serve(int fd);

  Handler handler_;
  mutable std::mutex mu_;
  std::vector<HttpRequest> log_;
  LoopbackAcceptor acceptor_{[this](int fd) { serve(fd); }}; // last
};

} // namespace btfpack::test
