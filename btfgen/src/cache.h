// SPDX-License-Identifier: Apache-2.0
//
// The result cache: one record per (input BTF sha256, object digests,
// bpftool version) and content-addressed blobs. A re-run with unchanged
// inputs finds every record and does no bpftool work.
#pragma once

#include <optional>

#include "btfpack/btfgen.h"

namespace btfpack::btfgen {

class Cache {
public:
  explicit Cache(fs::path dir) : dir_(std::move(dir)) {}
  const fs::path &dir() const { return dir_; }

  // key derives the record key of one minimization.
  static std::string key(const std::string &input_sha256,
                         const std::vector<const ObjectInfo *> &objects,
                         const Bpftool &bpftool);

  fs::path blob_path(const Sha256 &digest) const;
  // put_blob stores bytes under their digest (atomic; a no-op when present).
  Result<void> put_blob(const Sha256 &digest,
                        std::span<const std::uint8_t> bytes) const;
  bool has_blob(const Sha256 &digest) const;

  // get returns a stored result (its kernel and timings are not stored),
  // or nullopt when there is none or it is unreadable or its blob is gone.
  std::optional<EntryResult> get(const std::string &key) const;
  Result<void> put(const std::string &key, const EntryResult &r) const;

  // index_path is where a scan of `archive` is remembered (incremental).
  fs::path index_path(const fs::path &archive) const;

private:
  fs::path dir_;
};

} // namespace btfpack::btfgen
