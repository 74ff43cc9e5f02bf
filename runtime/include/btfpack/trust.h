// SPDX-License-Identifier: Apache-2.0
//
// The trust policy: which public keys may sign which bundle names
// (docs/security.md, "Keys bound to names"). One loader for every command
// and the C API.
//
//   <keys_dir>/*.pub          trusted for every bundle name (single-vendor
//                             hosts, and every store written before names)
//   <keys_dir>/<name>/*.pub   trusted only for bundles named <name>
//
// A --key file given on the command line is trusted for every name; a --key
// directory is read as a keys_dir (its subdirectories bind names too).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/keys.h"
#include "btfpack/result.h"

namespace btfpack {

// check_bundle_name refuses a bundle name that cannot be a store directory
// or a key directory: empty, ".", "..", longer than 128 bytes, or holding
// '/', '\\', a control character or a space. `what` says where the name
// came from, for the message.
Result<void> check_bundle_name(std::string_view name, std::string_view what);

// TrustedKey is one key of the policy and the name it is bound to.
struct TrustedKey {
  std::filesystem::path file;
  PublicKey key;
  std::string name; // empty: trusted for every name
};

class TrustPolicy {
public:
  // all is every key (for signature verification), in file order.
  const std::vector<PublicKey> &all() const { return keys_; }
  const std::vector<TrustedKey> &entries() const { return entries_; }
  // find returns the first entry holding `id`, or nullptr.
  const TrustedKey *find(const KeyId &id) const;
  // check_signer: a bundle named `name` signed by `id` is allowed when a key
  // with that id is unbound or bound to `name`. Errc::bad_signature names
  // the bundle, the key id and where the policy is.
  Result<void> check_signer(std::string_view name, const KeyId &id) const;
  // location names where the keys came from (directories and files).
  const std::string &location() const { return location_; }
  // about names the policy in a signature refusal (Errc::bad_signature)
  // that does not name it yet; other errors are returned as they are.
  Error about(Error e) const;
  // add_text trusts, for every name, a key given as the contents of a
  // minisign .pub file (e.g. embedded with the bundle); `what` names it in
  // messages and in `location`.
  Result<void> add_text(std::string_view text, const std::string &what);

private:
  friend Result<TrustPolicy>
  load_trust_policy(const std::vector<std::filesystem::path> &files,
                    const std::filesystem::path &dir);
  std::vector<TrustedKey> entries_;
  std::vector<PublicKey> keys_;
  std::string location_;
};

// load_trust_policy reads the given key files or directories, or `dir`
// when `files` is empty. Errc::not_found when there is no key at all;
// Errc::io for a directory that cannot be read; a key that does not parse
// or a subdirectory whose name is not a bundle name is an error naming it.
Result<TrustPolicy>
load_trust_policy(const std::vector<std::filesystem::path> &files,
                  const std::filesystem::path &dir);

} // namespace btfpack
