// SPDX-License-Identifier: Apache-2.0
//
// The archive index: what a btfhub-archive mirror holds, one entry per
// kernel (`<distro>/<version>/<arch>/<release>.btf.tar.xz`) with its size and
// digests. Built by scanning a local mirror, or from a remote listing (the
// archive repository's recursive git tree, which gives git blob ids rather
// than sha256), and stored as a versioned JSON file (docs/index-format.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/digest.h"
#include "btfpack/kernel_release.h"
#include "btfpack/result.h"

namespace btfpack {

// IndexEntry describes one kernel's BTF in the archive.
struct IndexEntry {
  std::string distro;  // "ubuntu"
  std::string version; // "20.04"
  std::string arch;    // folder name as in the archive: "x86_64", "arm64"
  std::string release; // "5.4.0-1036-aws"
  std::string path; // relative: "ubuntu/20.04/x86_64/5.4.0-1036-aws.btf.tar.xz"
  std::uint64_t size = 0;
  std::string sha256;   // lowercase hex of the .btf.tar.xz, empty if unknown
  std::string git_blob; // lowercase hex git blob id, empty if unknown
  std::int64_t mtime_ns = 0; // last scan's mtime (incremental re-scan)
  // and its ctime and inode: a file replaced or rewritten with the same size
  // and mtime (touch -d, a copy with -p) still changes one of them.
  std::int64_t ctime_ns = 0;
  std::uint64_t inode = 0;

  KernelRelease kernel_release() const { return KernelRelease::parse(release); }
};

// entry_less orders entries by (distro, version, arch, release) with the
// release's natural order; indexes are always kept in this order.
bool entry_less(const IndexEntry &a, const IndexEntry &b);

// parse_archive_path splits "distro/version/arch/release.btf.tar.xz" into an
// entry (size and digests empty). Returns Errc::invalid_argument with the
// reason for paths that do not follow the layout (depth, suffix, hidden
// component, "..", absolute).
Result<IndexEntry> parse_archive_path(std::string_view rel_path);

// Filter selects entries; empty fields match everything. release_glob is an
// fnmatch(3) pattern on the release string.
struct Filter {
  std::string distro, version, arch, release_glob;
  bool matches(const IndexEntry &e) const;
  bool empty() const {
    return distro.empty() && version.empty() && arch.empty() &&
           release_glob.empty();
  }
};

// Index is a sorted list of entries plus where it came from.
struct Index {
  static constexpr int SCHEMA_VERSION = 1;
  std::string source; // mirror dir, listing URL or file
  std::vector<IndexEntry> entries;

  void sort();
  std::vector<IndexEntry> select(const Filter &f) const;
  const IndexEntry *find_path(std::string_view rel_path) const;

  std::string to_json(bool pretty = true) const;
  // from_json parses an index file; `name` is used in error messages, which
  // name the line for syntax errors and the version for unknown schemas.
  static Result<Index> from_json(std::string_view text, std::string_view name);
  static Result<Index> read_file(const std::filesystem::path &path);
  Result<void> write_file(const std::filesystem::path &path) const; // atomic
};

// ScanProgress is reported while hashing (done/total files and bytes).
struct ScanProgress {
  std::size_t files_done = 0, files_total = 0;
  std::uint64_t bytes_done = 0, bytes_total = 0;
};

struct ScanOptions {
  unsigned jobs = 0;               // 0: one per core
  const Index *previous = nullptr; // incremental: reuse digests when size,
                                   // mtime, ctime and inode all match
  std::function<void(const ScanProgress &)> progress; // may be empty
  // git_blob also computes each file's git blob id (in the same read); off by
  // default since it costs a sha1 per byte. Reused from `previous` when known.
  bool git_blob = false;
};

struct ScanResult {
  Index index;
  std::vector<std::string> warnings; // one per skipped path, naming it and why
  std::size_t hashed_files = 0;      // files actually hashed this run
  std::uint64_t hashed_bytes = 0;
};

// scan_mirror walks DIR and indexes every well-formed archive file. Files not
// following the layout are skipped with a warning; symlinks pointing outside
// DIR are skipped. Fails only if DIR cannot be read. A file named index.json
// at the top of DIR (the index itself) is ignored. The progress callback is
// called from the hashing workers, one call at a time.
Result<ScanResult> scan_mirror(const std::filesystem::path &dir,
                               const ScanOptions &opts = {});

// read_previous_index is the one broken-index policy. It reads the first
// of `candidates` that exists: a missing file is skipped silently; a file
// that cannot be read or parsed is never fatal to a rescan: it adds the
// warning "ignoring FILE: WHY: every file is hashed again" and the next
// candidate is tried. nullopt when none gave an index (everything is then
// hashed, and the index written back replaces the broken one).
std::optional<Index>
read_previous_index(const std::vector<std::filesystem::path> &candidates,
                    std::vector<std::string> &warnings);

// RefreshOptions: what refresh_index reads, scans and writes back.
struct RefreshOptions {
  // candidates are the index files to reuse digests from, in order (empty
  // or reuse == false: every file is hashed).
  std::vector<std::filesystem::path> candidates;
  bool reuse = true;
  // previous, when set, is used instead of reading candidates (a caller
  // that read it with read_previous_index to decide something first).
  const Index *previous = nullptr;
  // amend adjusts the previous index before the scan (the fetcher records
  // the digests it verified while downloading, so they are not re-hashed).
  std::function<void(Index &)> amend;
  ScanOptions scan; // jobs, git_blob, progress; `previous` is set here
  // write_to is where the index is written back (empty: nowhere);
  // only_if_changed writes only when a file was hashed or write_to is
  // missing.
  std::filesystem::path write_to;
  bool only_if_changed = false;
  // best_effort_write: a failed write-back is a warning, not an error (a
  // cache copy of the index, which the next run makes again).
  bool best_effort_write = false;
};

struct RefreshResult {
  ScanResult scan;
  bool had_previous = false; // digests came from a previous index
  bool written = false;
};

// refresh_index is the one read-index / rescan / write-back: used by
// `btfpack index DIR`, btfgen's pipeline and the fetcher. Warnings (a
// broken previous index, skipped paths) go to `warnings`; an error writing
// write_to is returned (the scan result is lost only to that caller).
Result<RefreshResult> refresh_index(const std::filesystem::path &dir,
                                    const RefreshOptions &opts,
                                    std::vector<std::string> &warnings);

// parse_git_tree_listing reads GitHub's recursive git tree JSON
// ({"sha", "tree": [{"path","mode","type","size","sha"}...], "truncated"})
// into an index with git blob ids. Paths outside the layout (README.md,
// .github/...) are skipped, and listed in `skipped` when given; paths with
// ".." or absolute paths are errors (Errc::corrupt) naming the path, and so
// is a truncated listing (it would silently miss kernels).
Result<Index>
parse_git_tree_listing(std::string_view json, std::string_view name,
                       std::vector<std::string> *skipped = nullptr);

// git_blob_id_file computes git's blob id of a file ("blob <size>\0" +
// content, hashed with SHA-1, or SHA-256 for repositories made with
// --object-format=sha256), the digest a remote listing provides.
Result<std::string>
git_blob_id_file(const std::filesystem::path &path,
                 GitObjectFormat format = GitObjectFormat::sha1);

} // namespace btfpack
