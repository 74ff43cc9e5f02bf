// SPDX-License-Identifier: Apache-2.0
//
// btfgen: the generation pipeline. For every selected kernel of a
// btfhub-archive mirror (and any custom kernels), unpack its `.btf.tar.xz`
// with libarchive into a private temporary directory, run
// `bpftool -d gen min_core_btf INPUT OUTPUT OBJ...` with all the release's
// BPF objects in one call, check the result, and store it content-addressed
// in a cache so that an unchanged re-run does no bpftool work. The run
// yields a coverage report (ok / failed / skipped per kernel, findings per
// relocation) and the minimized BTFs, written in btfhub's custom-archive
// layout and/or packed into a signed bundle (runtime/ owns the format).
// docs/btfgen.md describes the report schema, the cache, shards, custom
// kernels and exactly what the checks do and do not prove.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/archive_index.h"
#include "btfpack/bundle.h"
#include "btfpack/result.h"
#include "btfpack/sha256.h"

namespace btfpack::btfgen {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- bpftool

// Bpftool is a located, version-checked bpftool binary.
struct Bpftool {
  fs::path path;
  std::string version; // "v7.1.0"
  std::string libbpf;  // "v1.1" (libbpf bpftool was built with), may be empty
};

// find_bpftool locates bpftool (`explicit_path`, else PATH, /usr/sbin,
// /sbin), runs `bpftool version` and checks that `gen min_core_btf` exists.
// Errc::not_found when there is none, Errc::unsupported when it is too old.
Result<Bpftool> find_bpftool(const fs::path &explicit_path = {});

// ---------------------------------------------------------------- objects

// CoreRelo is one CO-RE relocation record of an object's .BTF.ext.
struct CoreRelo {
  std::string section; // program section, e.g. "tp/sched/sched_process_exec"
  std::uint32_t index = 0; // position within the section (libbpf's relo #N)
  std::uint32_t kind = 0;  // enum bpf_core_relo_kind
  std::string type_name;   // root type's name ("task_struct___old")
  std::string access;      // access string ("0:1:3")
};

// core_relo_kind_name gives libbpf's short name ("byte_off", "type_id_target").
std::string core_relo_kind_name(std::uint32_t kind);

// ObjectInfo is a BPF object checked up front.
struct ObjectInfo {
  fs::path path;
  std::string name; // file name
  Sha256 digest{};
  std::string arch;        // "x86_64", "arm64", or "any" (arch-neutral)
  std::string arch_source; // "explicit", "pt_regs", "path", "none"
  std::vector<CoreRelo> relos;
  // flags: relocations that do not survive minimization (TYPE_ID_TARGET,
  // i.e. bpf_core_type_id_kernel()), one line each naming the section, relo
  // and type.
  std::vector<std::string> flags;
  // error is why the object is unusable (then every kernel it applies to
  // fails with this reason); empty when it passed the checks.
  std::string error;
};

// object_arch_name maps the arch names an object may be declared with
// (x86_64, x86, amd64, arm64, aarch64) to "x86_64" or "arm64"; empty for
// any other name.
std::string object_arch_name(std::string_view arch);

// inspect_object checks that `path` is a BPF ELF (EM_BPF) with .BTF and a
// .BTF.ext holding CO-RE relocations, reads them, and determines the target
// architecture: `arch_override` if not empty, else the `struct pt_regs`
// layout recorded in the object's BTF, else the path convention (a path
// component or a `.<arch>.bpf.o` suffix naming an arch), else "any".
// Errc::invalid_argument names the path and what is missing, and refuses an
// `arch_override` that the object's pt_regs layout contradicts.
Result<ObjectInfo> inspect_object(const fs::path &path,
                                  std::string_view arch_override = {});

// ---------------------------------------------------------------- unpack

// UnpackLimits bound what one archive entry may hold.
struct UnpackLimits {
  std::uint64_t max_btf_bytes = 1ull << 30; // a real vmlinux BTF is < 64 MiB
  std::size_t max_members = 64;
  // Other members are skipped, but skipping an xz stream decompresses them:
  // their declared sizes together may not pass this.
  std::uint64_t max_skipped_bytes = 16ull << 20;
  // One archive entry's unpacking (headers, skipping, the .btf) may take at
  // most this long; a slow bomb is refused instead of holding a worker.
  std::chrono::milliseconds time_limit{std::chrono::minutes(2)};
};

// unpack_btf_tar_xz extracts the single `.btf` member of a `.btf.tar.xz`
// into `dest_dir` (which must exist and be private) and returns its path.
// Refused with Errc::corrupt, naming the archive and the member: absolute
// or `..` names, links, devices and FIFOs, members beyond the limits, more
// than one `.btf`, and no `.btf` at all; truncated or corrupt xz/tar data
// is Errc::corrupt too. Other regular members are skipped unread.
Result<fs::path> unpack_btf_tar_xz(const fs::path &archive,
                                   const fs::path &dest_dir,
                                   const UnpackLimits &limits = {});

// unpack_btf_tar_xz_memory is the same over bytes in memory, returning the
// BTF member's bytes (the fuzz target's entry point).
Result<std::vector<std::uint8_t>>
unpack_btf_tar_xz_memory(std::span<const std::uint8_t> data,
                         const UnpackLimits &limits = {});

// ---------------------------------------------------------------- kernels

// Kernel is one unit of work: an archive entry or a custom kernel.
struct Kernel {
  KernelKey key;
  std::string path;   // archive-relative path, or the custom file's path
  fs::path file;      // absolute file to read
  bool packed = true; // .btf.tar.xz (unpack first) vs raw BTF / ELF
  std::string sha256; // of `file`, lowercase hex; empty until known
  std::uint64_t size = 0;
  std::string source = "archive"; // "archive" or "custom"
};

// scan_custom_dir reads custom kernels laid out like the archive:
// DIR/<distro>/<version>/<arch>/<release>.btf (raw BTF or an ELF with .BTF,
// e.g. a vmlinux), <release>.btf.tar.xz, or vmlinux-<release>.
Result<std::vector<Kernel>> scan_custom_dir(const fs::path &dir);

// parse_extra_kernel reads "DISTRO/VERSION/ARCH/RELEASE=FILE".
Result<Kernel> parse_extra_kernel(std::string_view spec);

// Shard is K of N (1-based K).
struct Shard {
  unsigned k = 1, n = 1;
  static Result<Shard> parse(std::string_view text); // "2/4"
  // contains selects by a stable hash (sha256) of the kernel's path key
  // "distro/version/arch/release".
  bool contains(const KernelKey &key) const;
};

// ---------------------------------------------------------------- running

struct Finding {
  std::string object, section;
  std::int64_t relo = -1; // libbpf's relo #N within the section, -1 unknown
  std::string kind;       // "byte_off", "field_exists", ...
  std::string spec;       // "struct task_struct.__state"
  std::string severity;   // "info" (an existence probe answered 0),
                          // "warning" (unresolved: the insn is poisoned)
  std::string message;
};

// Check records what was verified on one minimized BTF.
struct Check {
  bool btf_valid = false;               // btf__new() accepted it
  std::size_t relocations_compared = 0; // relocations logged by bpftool
  std::vector<std::string> mismatches;  // relocations resolving differently
};

enum class Status { ok, failed, skipped };
const char *status_name(Status s);

// EntryResult is one kernel's outcome.
struct EntryResult {
  Kernel kernel;
  Status status = Status::skipped;
  std::string reason;               // failed/skipped: why (bpftool's message)
  std::string bpftool_error;        // bpftool's own "Error: ..." line, if any
  std::vector<std::string> objects; // object names used
  std::vector<std::string> skipped_objects; // "name: reason"
  std::optional<Sha256> blob;               // ok: sha256 of the minimized BTF
  std::uint64_t blob_size = 0;
  bool cached = false;
  std::vector<Finding> findings;
  Check check;
  double unpack_s = 0, bpftool_s = 0, check_s = 0;
};

// GenOptions configures a run.
struct GenOptions {
  fs::path archive; // mirror dir (may be empty with custom)
  std::vector<fs::path> objects;
  std::map<std::string, std::string> object_arch; // object path -> arch
  Filter filter;
  std::vector<fs::path> custom_dirs;
  std::vector<std::string> extra; // parse_extra_kernel specs
  Shard shard;
  unsigned jobs = 0;  // 0: one per core
  fs::path cache_dir; // empty: default_cache_dir()
  bool use_cache = true;
  fs::path bpftool;                          // empty: search
  std::chrono::milliseconds timeout{120000}; // per bpftool call
  UnpackLimits limits;
  fs::path work_dir; // private temp dirs go here; empty: $TMPDIR or /tmp
  // progress is called (from worker threads, serialized) after each entry.
  std::function<void(std::size_t done, std::size_t total, const EntryResult &)>
      progress;
};

// default_cache_dir is $XDG_CACHE_HOME/btfpack, else ~/.cache/btfpack.
fs::path default_cache_dir();

// GenRun is the outcome of a run: the report's content.
struct GenRun {
  Bpftool bpftool;
  std::vector<ObjectInfo> objects;
  std::vector<EntryResult> entries; // sorted by kernel
  std::string archive;
  std::string archive_snapshot; // sha256 over every selected (pre-shard) input
  Shard shard;
  fs::path cache_dir;
  std::int64_t started = 0;
  double seconds = 0;
  std::size_t bpftool_runs = 0; // bpftool invocations this run (0 when warm)
  std::vector<std::string> warnings; // index scan warnings

  std::size_t count(Status s) const;
  // blob_path returns where an ok entry's BTF is stored.
  fs::path blob_path(const Sha256 &digest) const;
};

// run_gen runs the pipeline. Per-entry problems never fail the run (they
// are entries with status failed); Errc is returned only for problems with
// the run itself: no bpftool, an unusable object, an unreadable archive.
Result<GenRun> run_gen(const GenOptions &opts);

// ---------------------------------------------------------------- output

// report_json is the --report document (docs/btfgen.md, schema 1).
std::string report_json(const GenRun &run);
// report_summary is the human summary printed on stderr.
std::string report_summary(const GenRun &run);

// write_out_dir writes every ok entry as DIR/<distro>/<version>/<arch>/
// <release>.btf and the report as DIR/btfpack-report.json (what `merge`
// reads back).
Result<void> write_out_dir(const GenRun &run, const fs::path &dir);

// BundleParams is what a bundle records besides the kernels.
struct BundleParams {
  std::string name = "btfpack";
  std::uint64_t version = 0; // 0: bundle_version's default
  std::int64_t created = 0;  // unix seconds; 0: not recorded
  std::int64_t expires = 0;  // 0: never
  // supplement_of: write a supplement of this (verified) base bundle
  // instead (docs/bundle-format.md "Supplements"): only the kernels missing
  // from the base or whose minimized BTF differs from the base's. The
  // objects must be the base's, the name its name, the version newer (0:
  // the base's + 1). Errc::not_found when no kernel is new or changed.
  const Bundle *supplement_of = nullptr;
};
// The library never reads SOURCE_DATE_EPOCH nor the clock for `created`:
// the CLI reads the environment once and passes the time in, so the same
// inputs give byte-identical bundles from build, gen --bundle and merge.

// bundle_version is the version a bundle records: `version` when given,
// else the creation time, else 1.
std::uint64_t bundle_version(const BundleParams &p);

// parse_expiry reads --expires: "never"/"0", "@UNIX", or a duration after
// `created` ("90d", "12h", "3600s"). Errc::invalid_argument otherwise.
Result<std::int64_t> parse_expiry(std::string_view text, std::int64_t created);

// write_bundle packs every ok entry of the run and signs it.
Result<void> write_bundle(const GenRun &run, const BundleParams &params,
                          const fs::path &bundle, const SecretKey &key);

// merge_shards reads shard outputs (directories written by write_out_dir,
// each with its btfpack-report.json) and writes the bundle a single run
// over the same inputs would have written, byte for byte. Shards must agree
// on objects, bpftool version and archive snapshot, and must not overlap
// (Errc::invalid_argument naming the shard); every blob is re-checked
// against its shard report's digest.
struct MergeResult {
  std::size_t shards = 0, entries = 0, blobs = 0, failed = 0;
};
Result<MergeResult> merge_shards(const std::vector<fs::path> &shards,
                                 const BundleParams &params,
                                 const fs::path &bundle, const SecretKey &key,
                                 bool allow_failures);

} // namespace btfpack::btfgen
