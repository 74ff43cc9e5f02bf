// SPDX-License-Identifier: Apache-2.0
#include "transfer_engine.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

#include "btfpack/file_util.h"
#include "btfpack/log.h"
#include "btfpack/unique_fd.h"
#include "curl_common.h"
#include "file_sink.h"

namespace btfpack::fetch {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

constexpr unsigned kMaxMismatches = 2; // verify fails: retry once
constexpr auto kMaxBackoff = std::chrono::seconds(30);
constexpr auto kMaxRetryAfter = std::chrono::seconds(120);

struct JobState {
  unsigned transient_failures = 0;
  unsigned mismatches = 0;
  Clock::time_point not_before{};
  bool done = false;
};

class Engine;

// Active is one transfer in flight: the partial file it appends to and the
// digest of everything in that file so far.
struct Active {
  std::size_t job = 0;
  unsigned lane = 0; // SinkWorkers lane of this file
  CurlPtr easy;
  SinkWorkers *workers = nullptr;
  std::shared_ptr<FileSink> sink;
  std::vector<char> pending; // received, not yet handed to the sink
  std::uint64_t offset = 0;  // bytes already in the partial at the start
  std::uint64_t expected = 0;
  std::uint64_t written = 0; // appended by this attempt
  bool is_file_url = false;
  bool status_checked = false;
  bool discard = false;        // body of an error response: not file content
  bool overflow = false;       // more bytes than the listing's size
  bool range_mismatch = false; // 206 for another range than asked
  std::string refused;         // the headers announce another file than listed
  char errbuf[CURL_ERROR_SIZE] = {};
  // How the transfer ended, read when libcurl reports it done.
  CURLcode rc = CURLE_OK;
  long status = 0;
  curl_off_t retry_after = 0;
};

constexpr std::size_t kSinkChunk = 512 * 1024;

size_t on_write(char *buf, size_t size, size_t n, void *user);

class Engine {
public:
  Engine(const std::vector<TransferJob> &jobs, const EngineOptions &opts)
      : jobs_(jobs), opts_(opts), state_(jobs.size()), out_(jobs.size()) {}

  Result<std::vector<TransferOutcome>> run();

private:
  void start(std::size_t job);
  void finish(Active &a);
  void complete(std::size_t job, bool ok, std::string reason);
  void retry_later(std::size_t job, Clock::duration delay);
  bool finalize(Active &a, const ContentDigest::Hex &hex);
  void report_progress(bool force);
  CurlPtr take_easy();

  const std::vector<TransferJob> &jobs_;
  const EngineOptions &opts_;
  std::vector<JobState> state_;
  std::vector<TransferOutcome> out_;
  CurlMultiPtr multi_;
  std::vector<CurlPtr> pool_;
  std::unique_ptr<SinkWorkers> workers_; // destroyed before multi_
  std::unordered_map<CURL *, std::unique_ptr<Active>> active_;
  std::unordered_map<std::size_t, std::unique_ptr<Active>> finishing_;
  std::deque<std::size_t> ready_;
  std::vector<std::size_t> waiting_; // retries with a not_before time
  std::size_t completed_ = 0;
  std::uint64_t done_bytes_ = 0;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_progress_{};
  std::mt19937 rng_{std::random_device{}()};
};

CurlPtr Engine::take_easy() {
  if (!pool_.empty()) {
    CurlPtr e = std::move(pool_.back());
    pool_.pop_back();
    curl_easy_reset(e.get()); // keeps the connection and DNS caches
    return e;
  }
  return CurlPtr(curl_easy_init());
}

void Engine::complete(std::size_t job, bool ok, std::string reason) {
  state_[job].done = true;
  out_[job].ok = ok;
  out_[job].reason = std::move(reason);
  completed_++;
  done_bytes_ += jobs_[job].entry.size;
  if (!ok)
    log::info("fetch ", jobs_[job].entry.path, ": ", out_[job].reason);
}

void Engine::retry_later(std::size_t job, Clock::duration delay) {
  state_[job].not_before = Clock::now() + delay;
  waiting_.push_back(job);
}

// start opens (or continues) the job's partial file and adds its transfer.
void Engine::start(std::size_t job) {
  const TransferJob &j = jobs_[job];
  auto a = std::make_unique<Active>();
  a->job = job;
  a->lane = static_cast<unsigned>(job % workers_->lanes());
  a->workers = workers_.get();
  a->expected = j.entry.size;
  a->is_file_url = j.url.rfind("file://", 0) == 0;
  a->sink = std::make_shared<FileSink>();
  a->pending = workers_->take_buffer(kSinkChunk + CURL_MAX_WRITE_SIZE);
  FileSink &sink = *a->sink;
  sink.expected = a->expected;
  sink.git_sha256 = is_git_sha256(j.entry.git_blob);

  sink.fd = UniqueFd(::open(j.part_path.c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!sink.fd) {
    complete(job, false,
             "open " + j.part_path.string() + ": " + errno_message(errno) +
                 " (check that the mirror directory is writable)");
    return;
  }
  struct stat st {};
  ::fstat(sink.fd.get(), &st);
  std::uint64_t have = static_cast<std::uint64_t>(st.st_size);
  sink.digest = std::make_unique<ContentDigest>(a->expected, sink.git_sha256);
  if (have > a->expected ||
      (have > 0 && !sink.digest->feed_file(j.part_path, have).ok())) {
    if (::ftruncate(sink.fd.get(), 0) != 0) {
      complete(job, false,
               "truncate " + j.part_path.string() + ": " +
                   errno_message(errno));
      return;
    }
    sink.digest = std::make_unique<ContentDigest>(a->expected, sink.git_sha256);
    have = 0;
  }
  if (have == a->expected && have > 0) {
    // A previous run received every byte but died before the rename.
    auto hex = sink.digest->finish();
    if (check_digest(hex, j.entry.sha256, j.entry.git_blob).empty()) {
      out_[job].resumed = true;
      if (finalize(*a, hex))
        complete(job, true, {});
      return;
    }
    if (::ftruncate(sink.fd.get(), 0) != 0) {
      complete(job, false,
               "truncate " + j.part_path.string() + ": " +
                   errno_message(errno));
      return;
    }
    sink.digest = std::make_unique<ContentDigest>(a->expected, sink.git_sha256);
    have = 0;
  }
  a->offset = have;
  if (have > 0)
    out_[job].resumed = true;

  a->easy = take_easy();
  if (!a->easy) {
    complete(job, false, "libcurl: cannot create a transfer handle");
    return;
  }
  CURL *e = a->easy.get();
  apply_transport(e, opts_.transport);
  curl_easy_setopt(e, CURLOPT_URL, j.url.c_str());
  // Over TLS, wait for the first connection's ALPN answer so that HTTP/2
  // streams share it; over plain HTTP (always HTTP/1.1 here) waiting would
  // serialise the transfers on one connection.
  if (j.url.rfind("https://", 0) == 0)
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 65536L); // fewer, larger reads
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, a.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, a.get());
  // Over HTTP the resume is a plain Range header: with RESUME_FROM libcurl
  // fails a 200 answer (CURLE_RANGE_ERROR) before on_write sees it, and a
  // server that ignores Range could never be fetched from. on_write decides:
  // 206 from the right offset appends, 200 starts the file over.
  std::string range = std::to_string(have) + "-";
  if (have > 0 && a->is_file_url)
    curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE,
                     static_cast<curl_off_t>(have));
  else if (have > 0)
    curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());
  out_[job].attempts++;
  if (out_[job].attempts > 1)
    log::debug("fetch ", j.entry.path, ": attempt ", out_[job].attempts,
               have ? " from byte " + std::to_string(have) : std::string());
  CURLMcode mrc = curl_multi_add_handle(multi_.get(), e);
  if (mrc != CURLM_OK) {
    complete(job, false,
             std::string("libcurl: cannot add transfer: ") +
                 curl_multi_strerror(mrc));
    return;
  }
  active_.emplace(e, std::move(a));
}

// check_announced compares what the headers of a 200 or 206 say the body
// is with the listing, before a byte of it is written: a body announced
// longer than the listed size, or a file of another size, is refused here
// (never written and then thrown away). Returns the refusal, or "".
std::string check_announced(Active &a, long status) {
  const Announced h = announced(a.easy.get());
  const std::string listed =
      "the listing's " + std::to_string(a.expected) + " bytes";
  if (h.length_bad)
    return "the server's Content-Length is not a number";
  if (status == 206) {
    if (!h.has_range || h.first != a.offset) {
      a.range_mismatch = true;
      return {};
    }
    if (h.range_total && *h.range_total != a.expected)
      return "the server's Content-Range says the file has " +
             std::to_string(*h.range_total) + " bytes, not " + listed;
    if (h.last >= a.expected)
      return "the server's Content-Range ends at byte " +
             std::to_string(h.last) + ", past " + listed;
  }
  if (h.length) {
    std::uint64_t end = a.offset + *h.length;
    if (end > a.expected)
      return "the server announced " + std::to_string(end) +
             " bytes (Content-Length), more than " + listed;
    if (status == 200 && end != a.expected)
      return "the server announced " + std::to_string(end) +
             " bytes (Content-Length), not " + listed;
  }
  return {};
}

size_t on_write(char *buf, size_t size, size_t n, void *user) {
  auto *a = static_cast<Active *>(user);
  size_t len = size * n;
  if (!a->status_checked) {
    a->status_checked = true;
    long status = 0;
    curl_easy_getinfo(a->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    if (a->is_file_url) {
      // file:// has no status; a resumed read starts where it was asked to.
    } else if (status == 200 || status == 206) {
      if (status == 200 && a->offset > 0) {
        // The server ignored the Range request: start the file over.
        a->workers->reset(a->sink, a->lane);
        a->offset = 0;
      }
      a->refused = check_announced(*a, status);
      if (!a->refused.empty() || a->range_mismatch)
        return 0;
    } else {
      a->discard = true; // an error page, not the file
    }
  }
  if (a->discard)
    return len;
  if (a->offset + a->written + len > a->expected) {
    a->overflow = true;
    return 0;
  }
  a->pending.insert(a->pending.end(), buf, buf + len);
  if (a->pending.size() >= kSinkChunk) {
    a->workers->write(a->sink, a->lane, std::move(a->pending));
    a->pending = a->workers->take_buffer(kSinkChunk + CURL_MAX_WRITE_SIZE);
  }
  a->written += len;
  return len;
}

// finalize makes a verified partial visible under its final name. The data
// is flushed once for the whole run (syncfs) before the index vouches for
// it; a per-file fsync here would cost more than the transfer itself.
bool Engine::finalize(Active &a, const ContentDigest::Hex &hex) {
  const TransferJob &j = jobs_[a.job];
  a.sink->fd.reset();
  std::error_code ec;
  fs::create_directories(j.final_path.parent_path(), ec);
  if (::rename(j.part_path.c_str(), j.final_path.c_str()) != 0) {
    complete(a.job, false,
             "rename " + j.part_path.string() + " to " + j.final_path.string() +
                 ": " + errno_message(errno));
    return false;
  }
  out_[a.job].digest = hex;
  return true;
}

// finish decides what a finished transfer means, once its bytes are on
// disk and hashed: done, retry (now or later), or failed.
void Engine::finish(Active &a) {
  const TransferJob &j = jobs_[a.job];
  JobState &st = state_[a.job];
  TransferOutcome &out = out_[a.job];
  const CURLcode rc = a.rc;
  const long status = a.status;
  const curl_off_t retry_after = a.retry_after;
  out.bytes_received += a.written;

  auto drop_partial = [&] { ::unlink(j.part_path.c_str()); };
  auto transient = [&](const std::string &why, bool honour_retry_after) {
    st.transient_failures++;
    if (st.transient_failures > opts_.transport.retries) {
      complete(a.job, false,
               why + " (gave up after " + std::to_string(out.attempts) +
                   " attempts)");
      return;
    }
    Clock::duration delay;
    if (honour_retry_after && retry_after > 0) {
      delay = std::min<Clock::duration>(std::chrono::seconds(retry_after),
                                        kMaxRetryAfter);
    } else {
      auto base = std::chrono::milliseconds(opts_.transport.retry_base_ms);
      auto d = base * (1u << std::min(st.transient_failures - 1, 10u));
      std::uniform_real_distribution<double> jitter(0.75, 1.25);
      delay = std::min<Clock::duration>(
          std::chrono::duration_cast<Clock::duration>(d * jitter(rng_)),
          kMaxBackoff);
    }
    log::info(
        "fetch ", j.entry.path, ": ", why, ", retrying in ",
        std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
        " ms");
    retry_later(a.job, delay);
  };

  if (a.sink->write_errno) {
    std::string why = "write " + j.part_path.string() + ": " +
                      errno_message(a.sink->write_errno);
    drop_partial();
    complete(a.job, false, why);
    return;
  }
  bool ok_status = a.is_file_url || status == 200 || status == 206;
  std::string verify_error;
  if (!a.refused.empty()) {
    // Not retried: the server has another file than the listing describes.
    drop_partial();
    complete(a.job, false,
             a.refused + "; nothing was written: the listing is out of " +
                 "date or the server holds another version of the file; " +
                 "fetch a current listing (or give it with --listing FILE) " +
                 "and run fetch again");
    return;
  }
  if (a.overflow) {
    verify_error = "the server sent more than the listing's " +
                   std::to_string(a.expected) + " bytes";
  } else if (a.range_mismatch) {
    drop_partial();
    transient("the server answered a range request with another range", false);
    return;
  } else if (rc == CURLE_OK && ok_status) {
    std::uint64_t total = a.offset + a.written;
    if (total < a.expected) {
      transient("the body ended after " + std::to_string(total) + " of " +
                    std::to_string(a.expected) + " bytes",
                false);
      return;
    }
    const auto &hex = a.sink->hex;
    verify_error = check_digest(hex, j.entry.sha256, j.entry.git_blob);
    if (verify_error.empty()) {
      if (finalize(a, hex))
        complete(a.job, true, {});
      return;
    }
  }
  if (!verify_error.empty()) {
    drop_partial();
    if (a.offset > 0) {
      // The partial may be of an older version of the file: start over.
      log::info("fetch ", j.entry.path, ": resumed file failed to verify (",
                verify_error, "), fetching it whole");
      ready_.push_front(a.job);
      return;
    }
    if (++st.mismatches >= kMaxMismatches) {
      complete(a.job, false,
               "content differs from the listing: " + verify_error +
                   " (fetched twice; the file was not kept)");
      return;
    }
    log::info("fetch ", j.entry.path, ": ", verify_error, ", fetching again");
    ready_.push_front(a.job);
    return;
  }
  if (rc == CURLE_OK && status == 416 && a.offset > 0) {
    drop_partial();
    transient("the server refused to resume (HTTP 416)", false);
    return;
  }
  std::string why = describe_error(rc, status, a.errbuf) + " for " + j.url;
  if (is_transient_error(rc, status)) {
    transient(why, status == 429 || status == 503);
    return;
  }
  drop_partial();
  complete(a.job, false, why);
}

void Engine::report_progress(bool force) {
  if (!opts_.progress)
    return;
  auto now = Clock::now();
  if (!force && now - last_progress_ < std::chrono::milliseconds(250))
    return;
  last_progress_ = now;
  FetchProgress p;
  p.files_total = jobs_.size();
  p.files_done = completed_;
  for (auto &j : jobs_)
    p.bytes_total += j.entry.size;
  p.bytes_done = done_bytes_;
  for (auto &[e, a] : active_)
    p.bytes_done += a->offset + a->written;
  p.bytes_done = std::min(p.bytes_done, p.bytes_total);
  p.seconds = std::chrono::duration<double>(now - started_).count();
  opts_.progress(p);
}

Result<std::vector<TransferOutcome>> Engine::run() {
  BTFPACK_CHECK(curl_init());
  multi_.reset(curl_multi_init());
  if (!multi_)
    return make_error(Errc::internal, "libcurl: cannot create a multi handle");
  long jobs = std::max(1u, opts_.jobs);
  curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, jobs);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, jobs);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, jobs);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  workers_ = std::make_unique<SinkWorkers>(
      std::min({cores, 4u, static_cast<unsigned>(jobs)}),
      [m = multi_.get()] { curl_multi_wakeup(m); });

  // Largest first, so that the last transfers running are short ones.
  std::vector<std::size_t> order(jobs_.size());
  for (std::size_t i = 0; i < order.size(); i++)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) {
    return jobs_[x].entry.size > jobs_[y].entry.size;
  });
  ready_.assign(order.begin(), order.end());
  started_ = Clock::now();

  while (completed_ < jobs_.size()) {
    auto now = Clock::now();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (state_[*it].not_before <= now) {
        ready_.push_back(*it);
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
    while (active_.size() < static_cast<std::size_t>(jobs) && !ready_.empty()) {
      std::size_t job = ready_.front();
      ready_.pop_front();
      start(job);
    }
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    int queued = 0;
    while (CURLMsg *m = curl_multi_info_read(multi_.get(), &queued)) {
      if (m->msg != CURLMSG_DONE)
        continue;
      CURL *e = m->easy_handle;
      auto it = active_.find(e);
      if (it == active_.end())
        continue;
      std::unique_ptr<Active> a = std::move(it->second);
      active_.erase(it);
      a->rc = m->data.result;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->status);
      curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &a->retry_after);
      curl_multi_remove_handle(multi_.get(), e);
      pool_.push_back(std::move(a->easy));
      // The verdict waits until the sink has written and hashed it all.
      if (!a->pending.empty())
        workers_->write(a->sink, a->lane, std::move(a->pending));
      workers_->finish(a->sink, a->lane, a->job);
      finishing_.emplace(a->job, std::move(a));
    }
    for (std::size_t job : workers_->take_done()) {
      auto it = finishing_.find(job);
      if (it == finishing_.end())
        continue;
      std::unique_ptr<Active> a = std::move(it->second);
      finishing_.erase(it);
      finish(*a);
    }
    report_progress(false);
    if (completed_ >= jobs_.size())
      break;
    int wait_ms = 1000;
    if (!ready_.empty() && active_.size() < static_cast<std::size_t>(jobs))
      wait_ms = 0;
    now = Clock::now();
    for (auto job : waiting_) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    state_[job].not_before - now)
                    .count();
      wait_ms = static_cast<int>(std::clamp<long long>(ms, 0, wait_ms));
    }
    if (!finishing_.empty())
      wait_ms = std::min(wait_ms, 50); // woken by the sink; this is a backstop
    if (wait_ms > 0 || !active_.empty())
      curl_multi_poll(multi_.get(), nullptr, 0, wait_ms, nullptr);
  }
  report_progress(true);
  return std::move(out_);
}

} // namespace

Result<std::vector<TransferOutcome>>
run_transfers(const std::vector<TransferJob> &jobs, const EngineOptions &opts) {
  Engine engine(jobs, opts);
  return engine.run();
}

} // namespace btfpack::fetch
