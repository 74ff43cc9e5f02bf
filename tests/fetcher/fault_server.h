// SPDX-License-Identifier: Apache-2.0
//
// FaultServer: a tiny HTTP/1.1 file server on 127.0.0.1 that misbehaves on
// purpose. Stock nginx cannot fail "the first N requests for this file and
// then succeed", nor reset a connection in the middle of a body and then
// serve the rest with a Range request, so those fault cases use this
// server; everything nginx can show (normal serving, ranges, wrong content,
// slow transfers) is tested against the real nginx. It also answers
// absolute-form requests, so it can stand in as an HTTP forward proxy.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loopback.h"

namespace btfpack::test {

struct Fault {
  enum class Kind {
    status,   // answer with `status` (and Retry-After when >= 0)
    reset,    // send the headers and `after_bytes` of the body, then RST
    trickle,  // send the body at `bytes_per_s` (in 10 pieces a second)
    overlong, // send `after_bytes` of junk past the Content-Length
  };
  std::string path_contains; // which requests it applies to
  Kind kind = Kind::status;
  int times = 1; // the first N matching requests
  int status = 503;
  int retry_after = -1; // seconds, -1: no header
  std::uint64_t after_bytes = 0;
  std::uint64_t bytes_per_s = 0; // trickle
};

class FaultServer {
public:
  FaultServer(std::filesystem::path root, std::vector<Fault> faults);
  FaultServer(const FaultServer &) = delete;
  FaultServer &operator=(const FaultServer &) = delete;

  bool running() const { return acceptor_.running(); }
  std::string url() const { return acceptor_.url(); }
  // requests counts requests whose path contains `needle`; ranged counts
  // those that asked for a byte range (a resumed transfer).
  int requests(const std::string &needle) const;
  int ranged(const std::string &needle) const;

private:
  struct Record {
    std::string path;
    bool ranged = false;
  };
  void serve(int fd);

  std::filesystem::path root_;
  std::vector<Fault> faults_;
  std::vector<int> fault_hits_;
  mutable std::mutex mu_;
  std::vector<Record> log_;
  LoopbackAcceptor acceptor_{[this](int fd) { serve(fd); }}; // last
};

} // namespace btfpack::test
