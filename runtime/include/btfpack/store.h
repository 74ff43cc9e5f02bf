// SPDX-License-Identifier: Apache-2.0
//
// The bundle store of an installed host (default /var/lib/btfpack, see
// paths.h and docs/install-layout.md): verified bundles under names, one
// name per agent (the bundle's manifest name). Each name has its own
// `current`, `previous` and high-water mark; installing, rolling back or
// removing one name never touches another.
//
//   <store>/bundles/<name>-<version>-<manifest sha256[0:16]>.btfpack
//   <store>/names/<name>/current  -> ../../bundles/<file>   (relative links)
//   <store>/names/<name>/previous -> ../../bundles/<file>
//   <store>/names/<name>/highest-version     (decimal, one line)
//   <store>/names/<name>/rolled-back-from    (the file a rollback left)
//   <store>/current -> bundles/<file>   while exactly one name is installed
//                                       (older scripts, the C API default)
//   <store>/.lock                       flock(2): every write, any name
//
// Installing verifies the bundle (signature, the trust policy for its name,
// every blob) as copied into the store, refuses a lower version than the
// name's current or than the highest it ever installed unless asked, raises
// the high-water mark durably and then swaps `current` by renaming a new
// symlink over it, so a crash at any moment leaves either the old or the
// new bundle current, complete and verified, and every other name as it
// was. A store written before names (`current`, `previous`,
// `highest-version` at the top) is read as it is and migrated under the
// lock by the next write.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "btfpack/result.h"
#include "btfpack/trust.h"

namespace btfpack {

// StoredBundle describes one bundle file of the store.
struct StoredBundle {
  std::string file;            // file name inside bundles/
  std::string name;            // bundle name (the store name it is under)
  std::uint64_t version = 0;   // bundle version
  std::string manifest_sha256; // 64 hex digits
  std::uint64_t size = 0;
  bool current = false;
  bool previous = false;
  // Filled when the bundle was opened and verified against the policy:
  bool verified = false;
  std::string verify_error; // why verification failed, when it did
  std::string signer;       // key id hex
  std::size_t entries = 0;
  std::int64_t created = 0, expires = 0;
};

// NameState is one name of the store.
struct NameState {
  std::string name;
  std::optional<std::string> current, previous; // files in bundles/
  std::uint64_t highest = 0; // high-water mark (0: none recorded)
  bool installed() const { return current.has_value(); }
};

struct InstallOptions {
  bool allow_downgrade = false; // accept a lower (or equal, different) version
  bool allow_expired = false;
  std::int64_t now = 0; // 0: the clock (tests set it)
  // name: used only for a bundle whose manifest has no name; otherwise it
  // must equal the manifest's name.
  std::string name;
};

struct InstallResult {
  StoredBundle installed;
  std::optional<StoredBundle> replaced; // the old current, now `previous`
  bool unchanged = false;               // this bundle was already current
};

class Store {
public:
  // open uses `dir` as the store; create makes it and bundles/ (0755)
  // when missing.
  static Result<Store> open(const std::filesystem::path &dir, bool create);

  const std::filesystem::path &dir() const { return dir_; }

  // install verifies `bundle` against `policy` and makes it current for
  // its name.
  Result<InstallResult> install(const std::filesystem::path &bundle,
                                const TrustPolicy &policy,
                                const InstallOptions &opts = {});
  // rollback makes the name's `previous` current again (after verifying
  // it) and its current `previous`. An empty name is the only installed
  // one; with several, Errc::invalid_argument lists them.
  Result<StoredBundle> rollback(const std::string &name,
                                const TrustPolicy &policy,
                                const InstallOptions &opts = {});
  // remove drops the name's current and previous (their files when no
  // other name uses them); its high-water mark stays, so the name cannot
  // be installed older again without --allow-downgrade.
  Result<StoredBundle> remove(const std::string &name);
  // list describes every bundle file, current ones first; each is verified
  // when a policy is given (failures are reported per bundle, not errors).
  Result<std::vector<StoredBundle>> list(const TrustPolicy *policy,
                                         const InstallOptions &opts = {}) const;
  // names: every name the store knows (installed or removed), sorted.
  Result<std::vector<NameState>> names() const;
  // current_path is the current bundle of `name` (empty: the only
  // installed name), or Errc::not_found / Errc::invalid_argument.
  Result<std::filesystem::path> current_path(const std::string &name) const;

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
