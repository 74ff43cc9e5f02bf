// SPDX-License-Identifier: Apache-2.0
//
// Writing and hashing received bytes off the transfer loop. The loop thread
// only receives; SinkWorkers append each transfer's bytes to its partial
// file and feed its digest on worker threads (one lane per file, so a
// file's bytes stay in order), and report when a file is flushed and
// hashed. On a small machine this keeps the network loop from stalling
// behind sha1+sha256 of every byte.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "btfpack/unique_fd.h"
#include "content_digest.h"

namespace btfpack::fetch {

// FileSink is one transfer's partial file and the digest of its content.
// After it is handed to SinkWorkers, only the worker touches it until the
// finish task reports done.
struct FileSink {
  UniqueFd fd;
  std::unique_ptr<ContentDigest> digest;
  std::uint64_t expected = 0; // the listing's size (git blob header)
  bool git_sha256 = false;    // SHA-256 git object format
  int write_errno = 0;        // first write error, 0 if none
  ContentDigest::Hex hex;     // set by finish
};

class SinkWorkers {
public:
  // wake is called (from a worker) when a finish task is done.
  SinkWorkers(unsigned threads, std::function<void()> wake);
  ~SinkWorkers();
  SinkWorkers(const SinkWorkers &) = delete;
  SinkWorkers &operator=(const SinkWorkers &) = delete;

  unsigned lanes() const { return static_cast<unsigned>(lanes_.size()); }
  // write appends bytes; blocks while too much is queued (backpressure).
  void write(const std::shared_ptr<FileSink> &sink, unsigned lane,
             std::vector<char> bytes);
  // reset truncates the file and restarts the digest (server ignored Range).
  void reset(const std::shared_ptr<FileSink> &sink, unsigned lane);
  // finish flushes, finalises the digest, closes the file, then reports
  // `token` through take_done().
  void finish(const std::shared_ptr<FileSink> &sink, unsigned lane,
              std::size_t token);
  std::vector<std::size_t> take_done();
  // take_buffer returns an empty buffer with capacity from a pool of used
  // ones, so that each chunk does not cost an allocation and page faults.
  std::vector<char> take_buffer(std::size_t capacity);

private:
  enum class Kind { write, reset, finish };
  struct Task {
    Kind kind;
    std::shared_ptr<FileSink> sink;
    std::vector<char> bytes;
    std::size_t token = 0;
  };
  struct Lane {
    std::deque<Task> tasks;
    std::thread thread;
  };
  void push(unsigned lane, Task t);
  void run(unsigned lane);

  std::mutex mu_;
  std::condition_variable work_cv_, space_cv_;
  std::vector<Lane> lanes_;
  std::vector<std::size_t> done_;
  std::vector<std::vector<char>> free_buffers_;
  std::size_t queued_bytes_ = 0;
  bool stop_ = false;
  std::function<void()> wake_;
};

} // namespace btfpack::fetch
