// SPDX-License-Identifier: Apache-2.0
//
// The bundle store of an installed host (default /var/lib/btfpack, see
// paths.h): verified bundles, a `current` symlink naming the one in use and
// a `previous` one kept for rollback. Installing verifies the bundle
// (signature and every blob) as copied into the store, refuses a lower
// bundle version than current or than the highest it ever installed unless
// asked (rollback protection, `highest-version`), and swaps `current` by
// renaming a new symlink over it, so a crash at any moment leaves either the
// old or the new bundle current, complete and verified. Installs are
// serialized with flock(2) on `.lock`.
//
//   <store>/bundles/<name>-<version>-<manifest sha256[0:16]>.btfpack
//   <store>/current  -> bundles/<file>      (relative links)
//   <store>/previous -> bundles/<file>
//   <store>/highest-version             (decimal, one line)
//   <store>/.lock
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "btfpack/keys.h"
#include "btfpack/result.h"

namespace btfpack {

// StoredBundle describes one bundle file of the store.
struct StoredBundle {
  std::string file;            // file name inside the store
  std::string name;            // bundle name
  std::uint64_t version = 0;   // bundle version
  std::string manifest_sha256; // hex (from the verified bundle or the name)
  std::uint64_t size = 0;
  bool current = false;
  bool previous = false;
  // Filled when the bundle was opened and verified against trusted keys:
  bool verified = false;
  std::string verify_error; // why verification failed, when it did
  std::string signer;       // key id hex
  std::size_t entries = 0;
  std::int64_t created = 0, expires = 0;
};

struct InstallOptions {
  bool allow_downgrade = false; // accept a lower (or equal, different) version
  bool allow_expired = false;
  std::int64_t now = 0; // 0: the clock (tests set it)
};

struct InstallResult {
  StoredBundle installed;
  std::optional<StoredBundle> replaced; // the old current, now `previous`
  bool unchanged = false;               // this bundle was already current
};

// read_trusted_keys reads every *.pub file of `dir` (minisign format),
// sorted by file name. Errc::not_found when there is none.
Result<std::vector<PublicKey>>
read_trusted_keys(const std::filesystem::path &dir);

class Store {
public:
  // open uses `dir` as the store; create makes it and bundles/ (0755)
  // when missing.
  static Result<Store> open(const std::filesystem::path &dir, bool create);

  const std::filesystem::path &dir() const { return dir_; }

  // install verifies `bundle` against `trusted` and makes it current.
  Result<InstallResult> install(const std::filesystem::path &bundle,
                                std::span<const PublicKey> trusted,
                                const InstallOptions &opts = {});
  // rollback makes `previous` current again (after verifying it) and the
  // old current `previous`.
  Result<StoredBundle> rollback(std::span<const PublicKey> trusted,
                                const InstallOptions &opts = {});
  // list describes every bundle file, current first; each is verified when
  // trusted keys are given (failures are reported per bundle, not errors).
  Result<std::vector<StoredBundle>> list(std::span<const PublicKey> trusted,
                                         const InstallOptions &opts = {}) const;
  // current_path is <store>/current resolved, or Errc::not_found.
  Result<std::filesystem::path> current_path() const;

private:
  explicit Store(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

// test_hooks::install_step, when set, is called at every numbered step of
// Store::install (the crash-consistency tests; cli/test_hooks.cpp). nullptr
// unless a test build of the program sets it.
namespace test_hooks {
extern void (*install_step)(int step);
} // namespace test_hooks

} // namespace btfpack
