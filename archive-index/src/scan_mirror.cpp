// SPDX-License-Identifier: Apache-2.0
//
// Scanning a local mirror: walk the tree (never following symlinks out of
// it, never descending into a path already reported as bad), then hash the
// files that are new or changed with one worker per core.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unordered_map>

#include "btfpack/archive_index.h"
#include "btfpack/file_util.h"
#include "file_digest.h"

namespace btfpack {

namespace fs = std::filesystem;

namespace {

struct Candidate {
  IndexEntry entry;
  fs::path abs;
  bool need_hash = true;
  std::string error; // hashing failed: becomes a warning
};

bool path_within(const fs::path &p, const fs::path &root) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *q != *r)
      return false;
  return true;
}

class Walker {
public:
  Walker(fs::path root, std::vector<std::string> &warnings)
      : root_(std::move(root)), warnings_(warnings) {}

  std::vector<Candidate> files;

  void walk(const fs::path &abs, const std::string &rel, int depth) {
    std::error_code ec;
    std::vector<fs::directory_entry> kids;
    for (fs::directory_iterator it(abs, ec), end; !ec && it != end;
         it.increment(ec))
      kids.push_back(*it);
    if (ec) {
      warn(rel.empty() ? "." : rel, "cannot read directory: " + ec.message());
      return;
    }
    std::sort(kids.begin(), kids.end(),
              [](const auto &a, const auto &b) { return a.path() < b.path(); });
    for (const auto &k : kids)
      visit(k, rel, depth);
  }

private:
  void warn(const std::string &rel, const std::string &why) {
    warnings_.push_back("archive path '" + rel + "': " + why + ", skipped");
  }

  void visit(const fs::directory_entry &k, const std::string &rel, int depth) {
    std::string name = k.path().filename().string();
    std::string child = rel.empty() ? name : rel + "/" + name;
    std::error_code ec;
    auto lst = k.symlink_status(ec);
    if (ec) {
      warn(child, "cannot stat: " + ec.message());
      return;
    }
    if (depth == 0 && name == "index.json" && fs::is_regular_file(lst))
      return; // the index itself
    if (!name.empty() && name[0] == '.') {
      warn(child, "hidden file or directory");
      return;
    }
    fs::path target = k.path();
    auto st = lst;
    if (fs::is_symlink(lst)) {
      auto canon = fs::canonical(k.path(), ec);
      if (ec) {
        warn(child, "broken symlink");
        return;
      }
      if (!path_within(canon, root_)) {
        warn(child,
             "symlink points outside the mirror (to " + canon.string() + ")");
        return;
      }
      st = fs::status(canon, ec);
      if (ec || fs::is_directory(st)) {
        warn(child, "symlinked directory, not followed");
        return;
      }
      target = canon;
    }
    if (fs::is_directory(st)) {
      if (depth >= 3) {
        warn(child + "/", "unexpected directory below distro/version/arch");
        return;
      }
      walk(k.path(), child, depth + 1);
      return;
    }
    if (!fs::is_regular_file(st)) {
      warn(child, "not a regular file");
      return;
    }
    auto parsed = parse_archive_path(child);
    if (!parsed) {
      warnings_.push_back(parsed.error().message + ", skipped");
      return;
    }
    struct stat sb {};
    if (::stat(target.c_str(), &sb) != 0) {
      warn(child, "cannot stat: " + errno_message(errno));
      return;
    }
    Candidate c;
    c.entry = std::move(parsed).value();
    c.entry.size = static_cast<std::uint64_t>(sb.st_size);
    c.entry.mtime_ns =
        static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1000000000 +
        sb.st_mtim.tv_nsec;
    c.entry.ctime_ns =
        static_cast<std::int64_t>(sb.st_ctim.tv_sec) * 1000000000 +
        sb.st_ctim.tv_nsec;
    c.entry.inode = static_cast<std::uint64_t>(sb.st_ino);
    c.abs = std::move(target);
    files.push_back(std::move(c));
  }

  fs::path root_;
  std::vector<std::string> &warnings_;
};

} // namespace

Result<ScanResult> scan_mirror(const fs::path &dir, const ScanOptions &opts) {
  std::error_code ec;
  auto root = fs::canonical(dir, ec);
  if (ec)
    return make_error(
        ec == std::errc::no_such_file_or_directory ? Errc::not_found : Errc::io,
        "scan mirror " + dir.string() + ": " + ec.message());
  if (!fs::is_directory(root, ec))
    return make_error(Errc::invalid_argument,
                      "scan mirror " + dir.string() + ": not a directory");
  // The top directory itself must be readable; below it, problems are
  // warnings.
  {
    fs::directory_iterator probe(root, ec);
    if (ec)
      return make_error(Errc::io,
                        "scan mirror " + dir.string() + ": " + ec.message());
  }

  ScanResult res;
  Walker w(root, res.warnings);
  w.walk(root, "", 0);

  // Incremental: reuse digests of files whose size, mtime, ctime and inode
  // are unchanged (an index without ctime/inode vouches for nothing).
  std::unordered_map<std::string_view, const IndexEntry *> prev;
  if (opts.previous)
    for (const auto &e : opts.previous->entries)
      prev.emplace(e.path, &e);
  std::vector<Candidate *> todo;
  ScanProgress prog;
  for (auto &c : w.files) {
    if (auto it = prev.find(c.entry.path); it != prev.end()) {
      const IndexEntry &p = *it->second;
      if (p.size == c.entry.size && p.mtime_ns == c.entry.mtime_ns &&
          p.ctime_ns == c.entry.ctime_ns && p.inode == c.entry.inode &&
          p.ctime_ns != 0 && !p.sha256.empty() &&
          (!opts.git_blob || !p.git_blob.empty())) {
        c.entry.sha256 = p.sha256;
        c.entry.git_blob = p.git_blob;
        c.need_hash = false;
        continue;
      }
    }
    todo.push_back(&c);
    prog.files_total++;
    prog.bytes_total += c.entry.size;
  }

  unsigned jobs = opts.jobs ? opts.jobs : std::thread::hardware_concurrency();
  jobs = std::max(1u,
                  std::min<unsigned>(jobs, static_cast<unsigned>(todo.size())));
  std::atomic<std::size_t> next{0};
  std::mutex prog_mu;
  auto worker = [&] {
    std::vector<unsigned char> buf;
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= todo.size())
        return;
      Candidate &c = *todo[i];
      auto d = detail::digest_file(c.abs, true, opts.git_blob, buf);
      if (!d) {
        c.error = d.error().message;
      } else {
        c.entry.sha256 = std::move(d->sha256);
        c.entry.git_blob = std::move(d->git_blob);
        c.entry.size = d->size;
        c.entry.mtime_ns = d->mtime_ns;
        c.entry.ctime_ns = d->ctime_ns;
        c.entry.inode = d->inode;
      }
      std::lock_guard lk(prog_mu);
      prog.files_done++;
      prog.bytes_done += c.entry.size;
      if (opts.progress)
        opts.progress(prog);
    }
  };
  if (!todo.empty()) {
    std::vector<std::jthread> threads;
    for (unsigned t = 1; t < jobs; t++)
      threads.emplace_back(worker);
    worker();
  }

  res.index.source = root.string();
  res.index.entries.reserve(w.files.size());
  for (auto &c : w.files) {
    if (!c.error.empty()) {
      res.warnings.push_back("archive path '" + c.entry.path + "': " + c.error +
                             ", skipped");
      continue;
    }
    if (c.need_hash) {
      res.hashed_files++;
      res.hashed_bytes += c.entry.size;
    }
    res.index.entries.push_back(std::move(c.entry));
  }
  res.index.sort();
  return res;
}

} // namespace btfpack
