// SPDX-License-Identifier: Apache-2.0
//
// Handing a BTF blob to libbpf. By default the blob goes into a sealed
// memfd, seen by libbpf as /proc/self/fd/N: no shared writable directory.
// libbpf 1.1 only copies btf_custom_path at open() and reads the file at
// load(), so the memfd must stay open until load() returns
// (docs/sharp-edges.md): CustomBtf owns it. For other processes and scripts, a
// root-owned cache directory holds one file per digest, written atomically and
// re-verified by digest on every reuse.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "btfpack/result.h"
#include "btfpack/sha256.h"
#include "btfpack/unique_fd.h"

namespace btfpack {

// CustomBtf owns what was handed to libbpf: a memfd (closed when the owner
// goes) or a cache file (which stays, it is a cache). Move-only; keep it
// alive until bpf_object__load() has returned.
class CustomBtf {
public:
  CustomBtf() = default;
  CustomBtf(CustomBtf &&) noexcept = default;
  CustomBtf &operator=(CustomBtf &&) noexcept = default;
  CustomBtf(const CustomBtf &) = delete;
  CustomBtf &operator=(const CustomBtf &) = delete;

  // memfd puts `btf` into a sealed memfd (F_SEAL_WRITE|SHRINK|GROW|SEAL).
  static Result<CustomBtf> memfd(std::span<const std::uint8_t> btf,
                                 const Sha256 &digest);
  // cache returns the cache file for `digest` in `dir`, writing it when it
  // is missing or does not match its digest (a tampered file is replaced
  // and reported in note()). `blob` is called only when a write is needed.
  // The directory is created 0755 when missing and refused when it is not
  // owned by the caller's euid or is writable by group/others, or a symlink.
  static Result<CustomBtf>
  cache(const std::filesystem::path &dir, const Sha256 &digest,
        const std::function<Result<std::vector<std::uint8_t>>()> &blob);

  // path is what to put in bpf_object_open_opts.btf_custom_path.
  const std::string &path() const { return path_; }
  bool empty() const { return path_.empty(); }
  bool is_memfd() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  const Sha256 &digest() const { return digest_; }
  // note says what happened ("written", "reused, digest verified",
  // "replaced a tampered file (digest ...)").
  const std::string &note() const { return note_; }
  // reset closes the memfd; the path stops working.
  void reset() {
    fd_.reset();
    path_.clear();
  }

private:
  UniqueFd fd_;
  std::string path_;
  Sha256 digest_{};
  std::string note_;
};

} // namespace btfpack
