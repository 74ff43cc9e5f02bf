// SPDX-License-Identifier: Apache-2.0
//
// run_gen: select the kernels, check the objects, then one worker per core
// takes the next kernel (largest first, so the long ones do not end the run
// alone), unpacks it into its private directory, minimizes it, checks the
// result and stores it in the cache. Each worker holds at most one unpacked
// BTF, so memory and disk use do not grow with the archive; while one worker
// runs bpftool another decompresses, so both kinds of work overlap.
#include <algorithm>
#include <atomic>
#include <bpf/btf.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

#include "btfpack/c_free.h"
#include "btfpack/file_util.h"
#include "btfpack/log.h"
#include "btfpack/unique_fd.h"
#include "cache.h"
#include "minimize.h"

namespace btfpack::btfgen {

namespace {

using BtfPtr = CHandle<struct btf, btf__free>;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// PrivateDir is a mkdtemp(3) directory (0700), removed with its content.
class PrivateDir {
public:
  static Result<PrivateDir> make(const fs::path &base) {
    std::string tmpl = (base / "btfpack-gen.XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      return make_error(Errc::io, "create temp dir in " + base.string() + ": " +
                                      errno_message(errno));
    PrivateDir d;
    d.path_ = tmpl;
    return d;
  }
  PrivateDir() = default;
  PrivateDir(PrivateDir &&o) noexcept : path_(std::exchange(o.path_, {})) {}
  PrivateDir &operator=(PrivateDir &&o) noexcept {
    if (this != &o) {
      clear();
      path_ = std::exchange(o.path_, {});
    }
    return *this;
  }
  PrivateDir(const PrivateDir &) = delete;
  PrivateDir &operator=(const PrivateDir &) = delete;
  ~PrivateDir() { clear(); }
  const fs::path &path() const { return path_; }

private:
  void clear() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  fs::path path_;
};

void empty_dir(const fs::path &dir) {
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir, ec))
    fs::remove_all(e.path(), ec);
}

bool is_existence_kind(std::string_view k) {
  return k == "field_exists" || k == "type_exists" || k == "enumval_exists" ||
         k == "type_matches";
}

std::string signal_text(int sig) {
  const char *s = ::sigdescr_np(sig);
  return "signal " + std::to_string(sig) +
         (s ? std::string(" (") + s + ")" : "");
}

// input_problem checks the magic: raw BTF (either byte order) or an ELF.
std::string input_problem(const fs::path &p) {
  auto fd = open_regular_file(p);
  if (!fd.ok())
    return "input BTF: " + fd.error().message;
  unsigned char m[4] = {};
  ssize_t n = ::read(fd->get(), m, sizeof m);
  if (n < 4)
    return "input BTF " + p.string() + " is empty or truncated";
  if ((m[0] == 0x9f && m[1] == 0xeb) || (m[0] == 0xeb && m[1] == 0x9f))
    return {};
  if (m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F')
    return {};
  return "input " + p.string() + " is neither raw BTF nor an ELF file";
}

struct Ctx {
  const GenOptions &opts;
  const Bpftool &bpftool;
  const std::vector<ObjectInfo> &objects;
  Cache cache;
  std::atomic<std::size_t> bpftool_runs{0};
  // How the relocations resolve against each distinct minimized BTF: many
  // kernels minimize to the same bytes, and that log depends only on them.
  std::mutex mini_mu;
  std::map<std::string, std::vector<ReloOutcome>> mini_logs;
};

// findings_of turns the full run's unresolved relocations into findings.
std::vector<Finding> findings_of(const std::vector<ReloOutcome> &relos) {
  std::vector<Finding> out;
  for (const auto &r : relos) {
    if (!r.no_match)
      continue;
    Finding f;
    f.object = r.object;
    f.section = r.section;
    f.relo = r.relo;
    f.kind = r.kind;
    f.spec = r.local;
    if (is_existence_kind(r.kind)) {
      f.severity = "info";
      f.message = "not in this kernel: the existence check answers false";
    } else {
      f.severity = "warning";
      f.message = "no matching target in this kernel's BTF: libbpf poisons "
                  "the instruction, so the program fails to load unless the "
                  "code path is guarded (a kernel-module type is never in a "
                  "minimized BTF)";
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string relo_name(const ReloOutcome &r) {
  return (r.object.empty() ? std::string() : r.object + " ") + "section '" +
         r.section + "' relo #" + std::to_string(r.relo) + " <" + r.kind +
         "> " + r.local;
}

std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v)
    s += (s.empty() ? "" : " | ") + x;
  return s.empty() ? "(none)" : s;
}

// compare_relos checks each relocation resolves the same against the
// minimized BTF as against the full one, as libbpf's log tells it.
std::vector<std::string> compare_relos(const std::vector<ReloOutcome> &full,
                                       const std::vector<ReloOutcome> &mini) {
  std::vector<std::string> out;
  auto key = [](const ReloOutcome &r) {
    return r.object + "\n" + r.section + "\n" + std::to_string(r.relo);
  };
  std::map<std::string, const ReloOutcome *> m;
  for (const auto &r : mini)
    m[key(r)] = &r;
  for (const auto &r : full) {
    auto it = m.find(key(r));
    if (it == m.end()) {
      out.push_back(relo_name(r) + ": not seen against the minimized BTF");
      continue;
    }
    std::set<std::string> a(r.targets.begin(), r.targets.end());
    std::set<std::string> b(it->second->targets.begin(),
                            it->second->targets.end());
    if (r.no_match != it->second->no_match || a != b)
      out.push_back(
          relo_name(r) + ": full BTF -> " +
          (r.no_match ? "no match" : join(r.targets)) + "; minimized -> " +
          (it->second->no_match ? "no match" : join(it->second->targets)));
  }
  if (mini.size() > full.size())
    out.push_back("the minimized BTF logged " + std::to_string(mini.size()) +
                  " relocations, the full one " + std::to_string(full.size()));
  return out;
}

// process runs one kernel through unpack -> bpftool -> check -> cache.
EntryResult process(Ctx &ctx, const Kernel &k, const fs::path &work) {
  EntryResult r;
  r.kernel = k;
  // Which objects apply to this kernel's architecture.
  std::string karch = archive_arch(k.key.arch);
  std::vector<const ObjectInfo *> use;
  for (const auto &o : ctx.objects) {
    if (o.arch == "any" || o.arch == karch) {
      use.push_back(&o);
      r.objects.push_back(o.name);
    } else {
      r.skipped_objects.push_back(o.name + ": built for " + o.arch +
                                  ", kernel is " + karch);
    }
  }
  if (use.empty()) {
    r.status = Status::skipped;
    r.reason = "no object built for " + karch;
    return r;
  }
  for (const auto *o : use) {
    if (!o->error.empty()) {
      r.status = Status::failed;
      r.reason = "object " + o->name + " is unusable: " + o->error;
      return r;
    }
  }
  const std::string key = Cache::key(k.sha256, use, ctx.bpftool);
  if (ctx.opts.use_cache) {
    if (auto hit = ctx.cache.get(key)) {
      hit->kernel = k;
      hit->objects = r.objects;
      hit->skipped_objects = r.skipped_objects;
      return std::move(*hit);
    }
  }
  r.status = Status::failed;
  empty_dir(work);
  auto t0 = Clock::now();
  fs::path input = k.file;
  if (k.packed) {
    auto unpacked = unpack_btf_tar_xz(k.file, work, ctx.opts.limits);
    r.unpack_s = since(t0);
    if (!unpacked.ok()) {
      r.reason = unpacked.error().message;
      return r;
    }
    input = *unpacked;
  }
  if (auto why = input_problem(input); !why.empty()) {
    r.reason = why;
    return r;
  }
  fs::path output = work / "min.btf";
  auto t1 = Clock::now();
  ctx.bpftool_runs++;
  auto run = minimize(ctx.bpftool, input, output, use, ctx.opts.timeout);
  r.bpftool_s = since(t1);
  if (!run.ok()) {
    r.reason = run.error().message;
    return r;
  }
  bool deterministic = false;
  if (run->proc.timed_out) {
    r.reason = "bpftool timed out after " +
               std::to_string(ctx.opts.timeout.count() / 1000.0).substr(0, 5) +
               " s and was killed";
  } else if (run->proc.signal) {
    r.reason = "bpftool died by " + signal_text(run->proc.signal);
  } else if (run->proc.exit_code != 0) {
    deterministic = true;
    r.bpftool_error = run->error;
    r.reason = "bpftool failed (exit status " +
               std::to_string(run->proc.exit_code) + ")" +
               (run->error.empty() ? "" : ": " + run->error);
    // Name the relocation being recorded when it failed, if the log shows.
    const ReloOutcome *culprit = nullptr;
    for (const auto &x : run->relos)
      if (x.failed)
        culprit = &x;
    if (!culprit && !run->relos.empty())
      culprit = &run->relos.back();
    if (culprit)
      r.reason += "; at " + relo_name(*culprit);
  }
  r.findings = findings_of(run->relos);
  if (r.reason.empty()) {
    auto t2 = Clock::now();
    auto bytes = read_file(output, 1ull << 30);
    if (!bytes.ok()) {
      r.reason = "bpftool wrote no output: " + bytes.error().message;
    } else {
      BtfPtr btf(btf__new(bytes->data(), bytes->size()));
      r.check.btf_valid = btf != nullptr;
      if (!btf) {
        r.reason = "check: the minimized BTF does not parse (btf__new: " +
                   std::string(std::strerror(errno)) + ")";
        deterministic = true;
      } else if (btf__type_cnt(btf.get()) <= 1 && !run->relos.empty()) {
        // Only `void`: none of the objects' relocations found a target, so
        // this BTF would load nothing. A failure, never a signed "ok".
        r.reason = "the minimized BTF holds no types: none of the " +
                   std::to_string(run->relos.size()) +
                   " CO-RE relocation(s) resolve against this kernel";
        deterministic = true;
      } else {
        // Re-minimize the minimized BTF: libbpf's log then tells how each
        // relocation resolves against it, to compare with the full BTF.
        std::string mini_key = to_hex(sha256(*bytes));
        for (const auto *o : use)
          mini_key += to_hex(o->digest);
        std::optional<std::vector<ReloOutcome>> mini;
        {
          std::lock_guard<std::mutex> lock(ctx.mini_mu);
          if (auto it = ctx.mini_logs.find(mini_key); it != ctx.mini_logs.end())
            mini = it->second;
        }
        if (!mini) {
          fs::path again = work / "check.btf";
          ctx.bpftool_runs++;
          auto chk =
              minimize(ctx.bpftool, output, again, use, ctx.opts.timeout);
          if (!chk.ok()) {
            r.reason = "check: " + chk.error().message;
          } else if (chk->proc.timed_out || chk->proc.signal ||
                     chk->proc.exit_code != 0) {
            r.reason = "check: bpftool failed on the minimized BTF" +
                       (chk->error.empty() ? "" : ": " + chk->error);
            deterministic = !chk->proc.timed_out && !chk->proc.signal;
          } else {
            mini = chk->relos;
            std::lock_guard<std::mutex> lock(ctx.mini_mu);
            ctx.mini_logs.emplace(mini_key, chk->relos);
          }
        }
        if (mini) {
          r.check.relocations_compared = run->relos.size();
          r.check.mismatches = compare_relos(run->relos, *mini);
          if (!r.check.mismatches.empty()) {
            r.reason = "check: " + std::to_string(r.check.mismatches.size()) +
                       " relocation(s) resolve differently against the "
                       "minimized BTF: " +
                       r.check.mismatches.front();
            deterministic = true;
          }
        }
      }
      if (r.reason.empty()) {
        Sha256 d = sha256(*bytes);
        auto put = ctx.cache.put_blob(d, *bytes);
        if (!put.ok()) {
          r.reason = put.error().message;
        } else {
          r.status = Status::ok;
          r.blob = d;
          r.blob_size = bytes->size();
          deterministic = true;
        }
      }
    }
    r.check_s = since(t2);
  }
  if (deterministic) {
    auto put = ctx.cache.put(key, r);
    if (!put.ok())
      log::warn("cache: ", put.error().message);
  }
  empty_dir(work);
  return r;
}

Result<Index> load_index(const GenOptions &opts, const Cache &cache,
                         std::vector<std::string> &warnings) {
  fs::path idx_file = opts.archive / "index.json";
  fs::path remembered = cache.index_path(opts.archive);
  std::optional<Index> previous;
  std::error_code ec;
  for (const auto &p : {idx_file, remembered}) {
    if (!fs::is_regular_file(p, ec))
      continue;
    auto r = Index::read_file(p);
    if (r.ok()) {
      previous = std::move(*r);
      break;
    }
    warnings.push_back("ignoring " + p.string() + ": " + r.error().message);
  }
  // A scan with the previous index reuses its digests where size and mtime
  // still match: an up-to-date index.json costs a directory walk, a stale
  // one is refreshed for the changed files only.
  ScanOptions so;
  so.jobs = opts.jobs;
  so.previous = previous ? &*previous : nullptr;
  BTFPACK_TRY(scan, scan_mirror(opts.archive, so));
  for (auto &w : scan.warnings)
    warnings.push_back(std::move(w));
  if (scan.hashed_files > 0 || !fs::exists(remembered, ec)) {
    fs::create_directories(remembered.parent_path(), ec);
    auto w = scan.index.write_file(remembered);
    if (!w.ok())
      warnings.push_back("cache: " + w.error().message);
  }
  return std::move(scan.index);
}

std::string hex_sha_file(const fs::path &p, Result<void> &err) {
  auto d = sha256_file(p);
  if (!d.ok()) {
    err = d.error();
    return {};
  }
  return to_hex(*d);
}

} // namespace

fs::path default_cache_dir() {
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return fs::path(x) / "btfpack";
  if (const char *h = std::getenv("HOME"); h && *h)
    return fs::path(h) / ".cache" / "btfpack";
  return fs::temp_directory_path() / "btfpack-cache";
}

std::size_t GenRun::count(Status s) const {
  return static_cast<std::size_t>(
      std::count_if(entries.begin(), entries.end(),
                    [&](const EntryResult &e) { return e.status == s; }));
}

fs::path GenRun::blob_path(const Sha256 &digest) const {
  return Cache(cache_dir).blob_path(digest);
}

Result<GenRun> run_gen(const GenOptions &opts) {
  auto t_start = Clock::now();
  GenRun run;
  run.started = static_cast<std::int64_t>(::time(nullptr));
  run.shard = opts.shard;
  run.archive = opts.archive.string();
  run.cache_dir = opts.cache_dir.empty() ? default_cache_dir() : opts.cache_dir;
  Cache cache(run.cache_dir);
  if (opts.objects.empty())
    return make_error(Errc::invalid_argument,
                      "no BPF objects given (--object A.bpf.o)");
  BTFPACK_TRY(bpftool, find_bpftool(opts.bpftool));
  run.bpftool = bpftool;

  // Objects, checked up front. An unusable object does not stop the run:
  // every kernel it applies to fails with its reason.
  std::set<std::string> seen;
  for (const auto &p : opts.objects) {
    if (auto fd = open_regular_file(p); !fd.ok())
      return make_error(fd.error().code, "object: " + fd.error().message);
    std::string ov;
    if (auto it = opts.object_arch.find(p.string());
        it != opts.object_arch.end())
      ov = it->second;
    auto info = inspect_object(p, ov);
    if (info.ok()) {
      run.objects.push_back(std::move(*info));
    } else {
      ObjectInfo bad;
      bad.path = p;
      bad.name = p.filename().string();
      auto d = sha256_file(p);
      if (d.ok())
        bad.digest = *d;
      // A declared arch still decides which kernels fail with the reason.
      bad.arch = ov.empty()                     ? "any"
                 : object_arch_name(ov).empty() ? ov
                                                : object_arch_name(ov);
      bad.arch_source = ov.empty() ? "none" : "explicit";
      bad.error = info.error().message;
      run.objects.push_back(std::move(bad));
    }
    if (!seen.insert(to_hex(run.objects.back().digest)).second)
      return make_error(Errc::invalid_argument,
                        "object " + p.string() + " is given twice");
  }

  // Kernels: the archive (filtered) and custom ones, all with digests.
  std::vector<Kernel> kernels;
  if (!opts.archive.empty()) {
    BTFPACK_TRY(index, load_index(opts, cache, run.warnings));
    for (const auto &e : index.select(opts.filter)) {
      Kernel k;
      k.key = {e.distro, e.version, e.arch, e.release};
      k.path = e.path;
      k.file = fs::absolute(opts.archive / e.path);
      k.sha256 = e.sha256;
      k.size = e.size;
      kernels.push_back(std::move(k));
    }
  }
  std::vector<Kernel> custom;
  for (const auto &d : opts.custom_dirs) {
    BTFPACK_TRY(ks, scan_custom_dir(d));
    custom.insert(custom.end(), ks.begin(), ks.end());
  }
  for (const auto &spec : opts.extra) {
    BTFPACK_TRY(k, parse_extra_kernel(spec));
    custom.push_back(std::move(k));
  }
  for (auto &k : custom) {
    IndexEntry e;
    e.distro = k.key.distro;
    e.version = k.key.version;
    e.arch = k.key.arch;
    e.release = k.key.release;
    if (opts.filter.matches(e))
      kernels.push_back(std::move(k));
  }
  std::sort(kernels.begin(), kernels.end(),
            [](const Kernel &a, const Kernel &b) { return a.key < b.key; });
  for (std::size_t i = 1; i < kernels.size(); i++)
    if (kernels[i].key == kernels[i - 1].key)
      return make_error(Errc::invalid_argument,
                        "kernel " + kernels[i].key.distro + "/" +
                            kernels[i].key.version + "/" + kernels[i].key.arch +
                            "/" + kernels[i].key.release + " is given twice (" +
                            kernels[i - 1].path + ", " + kernels[i].path + ")");
  // Digests of inputs without one (custom files, listings without sha256);
  // the snapshot digest covers every selected input, before sharding, so
  // all shards of one run agree on it.
  std::string snapshot;
  for (auto &k : kernels) {
    if (k.sha256.empty()) {
      Result<void> err;
      k.sha256 = hex_sha_file(k.file, err);
      if (!err.ok())
        return std::move(err).error();
    }
    snapshot += k.path + "\t" + k.sha256 + "\n";
  }
  run.archive_snapshot = to_hex(sha256(snapshot));
  std::vector<Kernel> mine;
  for (auto &k : kernels)
    if (opts.shard.contains(k.key))
      mine.push_back(std::move(k));

  // Largest first: the big kernels start early instead of ending the run.
  std::vector<std::size_t> order(mine.size());
  for (std::size_t i = 0; i < order.size(); i++)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](auto a, auto b) { return mine[a].size > mine[b].size; });

  fs::path base = opts.work_dir;
  if (base.empty()) {
    const char *t = std::getenv("TMPDIR");
    base = t && *t ? fs::path(t) : fs::path("/tmp");
  }
  BTFPACK_TRY(tmp, PrivateDir::make(base));
  unsigned jobs = opts.jobs ? opts.jobs : std::thread::hardware_concurrency();
  jobs = std::max(
      1u, std::min<unsigned>(jobs, static_cast<unsigned>(
                                       std::max<std::size_t>(1, mine.size()))));

  Ctx ctx{opts, bpftool, run.objects, cache, {}};
  run.entries.resize(mine.size());
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex mu;
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < jobs; w++) {
    fs::path work = tmp.path() / ("w" + std::to_string(w));
    std::error_code ec;
    fs::create_directory(work, ec);
    if (ec)
      return make_error(Errc::io,
                        "create " + work.string() + ": " + ec.message());
    workers.emplace_back([&, work] {
      for (;;) {
        std::size_t i = next++;
        if (i >= order.size())
          break;
        std::size_t idx = order[i];
        run.entries[idx] = process(ctx, mine[idx], work);
        std::lock_guard<std::mutex> lock(mu);
        done++;
        if (opts.progress)
          opts.progress(done, order.size(), run.entries[idx]);
      }
    });
  }
  for (auto &t : workers)
    t.join();
  run.bpftool_runs = ctx.bpftool_runs.load();
  run.seconds = since(t_start);
  return run;
}

} // namespace btfpack::btfgen
