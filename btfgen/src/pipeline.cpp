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
#include "btfpack/worker_pool.h"
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

// The steps of one kernel, each returning a Result. The error kind decides
// whether the entry is cached: Errc::failed is a verdict on the inputs
// (bpftool refused them, its output is unusable, the check disagrees) and
// is cached under the kernel's key like a success; every other kind (a
// timeout, a signal, I/O, a corrupt archive, an unusable object) depends on
// this run or is reported at once, and is tried again next time.
bool cacheable(const Error &e) {
  return e.code == Errc::failed;
}

// select_objects picks the objects built for the kernel's architecture.
// Errc::not_found: none (the entry is skipped); Errc::invalid_argument: an
// object that applies is unusable.
Result<std::vector<const ObjectInfo *>>
select_objects(const Ctx &ctx, const Kernel &k, EntryResult &r) {
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
  if (use.empty())
    return make_error(Errc::not_found, "no object built for " + karch);
  for (const auto *o : use)
    if (!o->error.empty())
      return make_error(Errc::invalid_argument,
                        "object " + o->name + " is unusable: " + o->error);
  return use;
}

// cache_lookup returns the cached result of the same inputs, if any.
std::optional<EntryResult> cache_lookup(const Ctx &ctx, const std::string &key,
                                        const EntryResult &r) {
  if (!ctx.opts.use_cache)
    return std::nullopt;
  auto hit = ctx.cache.get(key);
  if (hit) {
    hit->kernel = r.kernel;
    hit->objects = r.objects;
    hit->skipped_objects = r.skipped_objects;
  }
  return hit;
}

// unpack_input gives the kernel's BTF (or ELF) file, unpacked into work.
Result<fs::path> unpack_input(const Ctx &ctx, const Kernel &k,
                              const fs::path &work, EntryResult &r) {
  auto t0 = Clock::now();
  fs::path input = k.file;
  if (k.packed) {
    auto unpacked = unpack_btf_tar_xz(k.file, work, ctx.opts.limits);
    r.unpack_s = since(t0);
    if (!unpacked.ok())
      return std::move(unpacked).error();
    input = *unpacked;
  }
  if (auto why = input_problem(input); !why.empty())
    return make_error(Errc::corrupt, why);
  return input;
}

// bpftool_verdict turns a finished bpftool run into a Result: Errc::timeout
// and Errc::io (a signal) are this run's, Errc::failed (its exit status)
// the inputs'.
Result<void> bpftool_verdict(const Ctx &ctx, const MinimizeRun &run,
                             EntryResult &r) {
  if (run.proc.timed_out)
    return make_error(
        Errc::timeout,
        "bpftool timed out after " +
            std::to_string(ctx.opts.timeout.count() / 1000.0).substr(0, 5) +
            " s and was killed");
  if (run.proc.signal)
    return make_error(Errc::io,
                      "bpftool died by " + signal_text(run.proc.signal));
  if (run.proc.exit_code == 0)
    return ok();
  r.bpftool_error = run.error;
  std::string reason = "bpftool failed (exit status " +
                       std::to_string(run.proc.exit_code) + ")" +
                       (run.error.empty() ? "" : ": " + run.error);
  // Name the relocation being recorded when it failed, if the log shows.
  const ReloOutcome *culprit = nullptr;
  for (const auto &x : run.relos)
    if (x.failed)
      culprit = &x;
  if (!culprit && !run.relos.empty())
    culprit = &run.relos.back();
  if (culprit)
    reason += "; at " + relo_name(*culprit);
  return make_error(Errc::failed, reason);
}

// run_bpftool minimizes input into output with the objects.
Result<MinimizeRun> run_bpftool(Ctx &ctx, const fs::path &input,
                                const fs::path &output,
                                const std::vector<const ObjectInfo *> &use,
                                EntryResult &r) {
  auto t1 = Clock::now();
  ctx.bpftool_runs++;
  auto run = minimize(ctx.bpftool, input, output, use, ctx.opts.timeout);
  r.bpftool_s = since(t1);
  if (!run.ok())
    return std::move(run).error();
  r.findings = findings_of(run->relos);
  BTFPACK_CHECK(bpftool_verdict(ctx, *run, r));
  return std::move(*run);
}

// minimized_relos is how the relocations resolve against the minimized BTF
// (bytes, written at output): libbpf's log of re-minimizing it, kept per
// distinct BTF in ctx.
Result<std::vector<ReloOutcome>>
minimized_relos(Ctx &ctx, const std::vector<std::uint8_t> &bytes,
                const fs::path &output, const fs::path &work,
                const std::vector<const ObjectInfo *> &use) {
  std::string mini_key = to_hex(sha256(bytes));
  for (const auto *o : use)
    mini_key += to_hex(o->digest);
  {
    std::lock_guard<std::mutex> lock(ctx.mini_mu);
    if (auto it = ctx.mini_logs.find(mini_key); it != ctx.mini_logs.end())
      return it->second;
  }
  fs::path again = work / "check.btf";
  ctx.bpftool_runs++;
  auto chk = minimize(ctx.bpftool, output, again, use, ctx.opts.timeout);
  if (!chk.ok())
    return make_error(chk.error().code, "check: " + chk.error().message);
  if (chk->proc.timed_out || chk->proc.signal || chk->proc.exit_code != 0)
    return make_error(chk->proc.timed_out || chk->proc.signal ? Errc::timeout
                                                              : Errc::failed,
                      "check: bpftool failed on the minimized BTF" +
                          (chk->error.empty() ? "" : ": " + chk->error));
  std::lock_guard<std::mutex> lock(ctx.mini_mu);
  ctx.mini_logs.emplace(mini_key, chk->relos);
  return chk->relos;
}

// check_output reads bpftool's output and checks it: it parses, holds
// types, and every relocation resolves against it as against the full BTF.
Result<std::vector<std::uint8_t>>
check_output(Ctx &ctx, const fs::path &output, const fs::path &work,
             const std::vector<const ObjectInfo *> &use,
             const std::vector<ReloOutcome> &relos, EntryResult &r) {
  auto bytes = read_file(output, 1ull << 30);
  if (!bytes.ok())
    return make_error(Errc::io,
                      "bpftool wrote no output: " + bytes.error().message);
  BtfPtr btf(btf__new(bytes->data(), bytes->size()));
  r.check.btf_valid = btf != nullptr;
  if (!btf)
    return make_error(Errc::failed,
                      "check: the minimized BTF does not parse (btf__new: " +
                          std::string(std::strerror(errno)) + ")");
  // Only `void`: none of the objects' relocations found a target, so this
  // BTF would load nothing. A failure, never a signed "ok".
  if (btf__type_cnt(btf.get()) <= 1 && !relos.empty())
    return make_error(Errc::failed,
                      "the minimized BTF holds no types: none of the " +
                          std::to_string(relos.size()) +
                          " CO-RE relocation(s) resolve against this kernel");
  BTFPACK_TRY(mini, minimized_relos(ctx, *bytes, output, work, use));
  r.check.relocations_compared = relos.size();
  r.check.mismatches = compare_relos(relos, mini);
  if (!r.check.mismatches.empty())
    return make_error(Errc::failed,
                      "check: " + std::to_string(r.check.mismatches.size()) +
                          " relocation(s) resolve differently against the "
                          "minimized BTF: " +
                          r.check.mismatches.front());
  return std::move(*bytes);
}

// store puts the checked BTF into the cache's blob store.
Result<void> store(Ctx &ctx, const std::vector<std::uint8_t> &bytes,
                   EntryResult &r) {
  Sha256 d = sha256(bytes);
  BTFPACK_CHECK(ctx.cache.put_blob(d, bytes));
  r.blob = d;
  r.blob_size = bytes.size();
  return ok();
}

// make_btf runs the steps after the cache: unpack, bpftool, checks, store.
Result<void> make_btf(Ctx &ctx, const Kernel &k, const fs::path &work,
                      const std::vector<const ObjectInfo *> &use,
                      EntryResult &r) {
  BTFPACK_TRY(input, unpack_input(ctx, k, work, r));
  fs::path output = work / "min.btf";
  BTFPACK_TRY(run, run_bpftool(ctx, input, output, use, r));
  auto t2 = Clock::now();
  auto bytes = check_output(ctx, output, work, use, run.relos, r);
  auto stored =
      bytes.ok() ? store(ctx, *bytes, r) : Result<void>(bytes.error());
  r.check_s = since(t2);
  return stored;
}

// process runs one kernel through its steps; the result is cached when it
// is ok or its error is cacheable().
EntryResult process(Ctx &ctx, const Kernel &k, const fs::path &work) {
  EntryResult r;
  r.kernel = k;
  auto use = select_objects(ctx, k, r);
  if (!use.ok()) {
    r.status =
        use.error().code == Errc::not_found ? Status::skipped : Status::failed;
    r.reason = use.error().message;
    return r;
  }
  const std::string key = Cache::key(k.sha256, *use, ctx.bpftool);
  if (auto hit = cache_lookup(ctx, key, r))
    return std::move(*hit);
  empty_dir(work);
  auto made = make_btf(ctx, k, work, *use, r);
  r.status = made.ok() ? Status::ok : Status::failed;
  if (!made.ok())
    r.reason = made.error().message;
  if (made.ok() || cacheable(made.error())) {
    if (auto put = ctx.cache.put(key, r); !put.ok())
      log::warn("cache: ", put.error().message);
  }
  empty_dir(work);
  return r;
}

Result<Index> load_index(const GenOptions &opts, const Cache &cache,
                         std::vector<std::string> &warnings) {
  // --no-cache: no digest is taken on trust, every archive file is hashed.
  // A scan with the previous index reuses its digests where size and mtime
  // still match: an up-to-date index.json costs a directory walk, a stale
  // one is refreshed for the changed files only.
  RefreshOptions ro;
  ro.candidates = {opts.archive / "index.json", cache.index_path(opts.archive)};
  ro.reuse = opts.use_cache;
  ro.scan.jobs = opts.jobs;
  ro.write_to = cache.index_path(opts.archive);
  ro.only_if_changed = true;
  ro.best_effort_write = true;
  BTFPACK_TRY(refreshed, refresh_index(opts.archive, ro, warnings));
  return std::move(refreshed.scan.index);
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

// load_objects inspects every object up front. An unusable object does not
// stop the run: every kernel it applies to fails with its reason.
Result<void> load_objects(const GenOptions &opts, GenRun &run) {
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

  return ok();
}

// collect_kernels lists the archive's kernels (filtered) and the custom
// ones, sorted by key; a key given twice is an error.
Result<std::vector<Kernel>> collect_kernels(const GenOptions &opts,
                                            const Cache &cache, GenRun &run) {
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
  return kernels;
}

// shard_of takes every kernel's digest, records the archive snapshot over
// all of them and keeps this shard's.
Result<std::vector<Kernel>> shard_of(const GenOptions &opts,
                                     std::vector<Kernel> kernels, GenRun &run) {
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

  return mine;
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

  BTFPACK_CHECK(load_objects(opts, run));
  BTFPACK_TRY(kernels, collect_kernels(opts, cache, run));
  BTFPACK_TRY(mine, shard_of(opts, std::move(kernels), run));

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
  // run_worker_pool keeps it within 1..the number of kernels.
  unsigned jobs = opts.jobs ? opts.jobs : std::thread::hardware_concurrency();

  Ctx ctx{opts, bpftool, run.objects, cache, {}};
  run.entries.resize(mine.size());
  std::size_t done = 0;
  std::mutex mu;
  BTFPACK_CHECK(run_worker_pool(
      tmp.path(), jobs, order.size(), [&](std::size_t i, const fs::path &work) {
        std::size_t idx = order[i];
        run.entries[idx] = process(ctx, mine[idx], work);
        std::lock_guard<std::mutex> lock(mu);
        done++;
        if (opts.progress)
          opts.progress(done, order.size(), run.entries[idx]);
      }));
  run.bpftool_runs = ctx.bpftool_runs.load();
  run.seconds = since(t_start);
  return run;
}

} // namespace btfpack::btfgen
