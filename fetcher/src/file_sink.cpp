// SPDX-License-Identifier: Apache-2.0
#include "file_sink.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace btfpack::fetch {

namespace {
constexpr std::size_t kMaxQueuedBytes = 64u << 20;

int write_all(int fd, const char *p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return errno;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}
} // namespace

SinkWorkers::SinkWorkers(unsigned threads, std::function<void()> wake)
    : lanes_(threads ? threads : 1), wake_(std::move(wake)) {
  for (unsigned i = 0; i < lanes_.size(); i++)
    lanes_[i].thread = std::thread([this, i] { run(i); });
}

SinkWorkers::~SinkWorkers() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto &l : lanes_)
    l.thread.join();
}

void SinkWorkers::push(unsigned lane, Task t) {
  std::unique_lock lock(mu_);
  std::size_t n = t.bytes.size();
  space_cv_.wait(lock, [&] {
    return queued_bytes_ == 0 || queued_bytes_ + n <= kMaxQueuedBytes;
  });
  queued_bytes_ += n;
  lanes_[lane % lanes_.size()].tasks.push_back(std::move(t));
  lock.unlock();
  work_cv_.notify_all();
}

void SinkWorkers::write(const std::shared_ptr<FileSink> &sink, unsigned lane,
                        std::vector<char> bytes) {
  push(lane, Task{Kind::write, sink, std::move(bytes), 0});
}

void SinkWorkers::reset(const std::shared_ptr<FileSink> &sink, unsigned lane) {
  push(lane, Task{Kind::reset, sink, {}, 0});
}

void SinkWorkers::finish(const std::shared_ptr<FileSink> &sink, unsigned lane,
                         std::size_t token) {
  push(lane, Task{Kind::finish, sink, {}, token});
}

std::vector<char> SinkWorkers::take_buffer(std::size_t capacity) {
  std::vector<char> b;
  {
    std::lock_guard lock(mu_);
    if (!free_buffers_.empty()) {
      b = std::move(free_buffers_.back());
      free_buffers_.pop_back();
    }
  }
  b.clear();
  b.reserve(capacity);
  return b;
}

std::vector<std::size_t> SinkWorkers::take_done() {
  std::lock_guard lock(mu_);
  return std::exchange(done_, {});
}

void SinkWorkers::run(unsigned lane) {
  Lane &me = lanes_[lane];
  while (true) {
    Task t;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !me.tasks.empty(); });
      if (me.tasks.empty())
        return; // stop_ and nothing left
      t = std::move(me.tasks.front());
      me.tasks.pop_front();
    }
    FileSink &s = *t.sink;
    switch (t.kind) {
    case Kind::write:
      if (s.write_errno == 0) {
        s.write_errno = write_all(s.fd.get(), t.bytes.data(), t.bytes.size());
        if (s.write_errno == 0)
          s.digest->update(t.bytes.data(), t.bytes.size());
      }
      break;
    case Kind::reset:
      if (s.write_errno == 0 && ::ftruncate(s.fd.get(), 0) != 0)
        s.write_errno = errno;
      s.digest = std::make_unique<ContentDigest>(s.expected, s.git_sha256);
      break;
    case Kind::finish:
      s.hex = s.digest->finish();
      // Start writing the file back now, without waiting: the one syncfs
      // at the end of the run then finds little left to flush, instead of
      // the whole mirror (measured: 50 ms of 190 for the corpus).
      if (s.write_errno == 0)
        (void)::sync_file_range(s.fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
      s.fd.reset();
      break;
    }
    bool finished = t.kind == Kind::finish;
    {
      std::lock_guard lock(mu_);
      queued_bytes_ -= t.bytes.size();
      if (finished)
        done_.push_back(t.token);
      if (t.bytes.capacity() > 0 && free_buffers_.size() < 64)
        free_buffers_.push_back(std::move(t.bytes));
    }
    space_cv_.notify_all();
    if (finished && wake_)
      wake_();
  }
}

} // namespace btfpack::fetch
