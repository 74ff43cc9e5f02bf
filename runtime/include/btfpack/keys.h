// SPDX-License-Identifier: Apache-2.0
//
// Ed25519 signing keys in minisign's formats (through OpenSSL), so a bundle
// signed by btfpack verifies with the stock `minisign -V` and a minisign key
// pair can sign btfpack bundles. Public keys: "untrusted comment: ...\n" +
// base64("Ed" || key_id[8] || pk[32]). Secret keys: minisign's unencrypted
// secret key file (kdf "\0\0", checksum BLAKE2b-256). Signatures: minisign's
// prehashed "ED" form (Ed25519 over BLAKE2b-512 of the message) plus the
// global signature over the trusted comment.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/result.h"

namespace btfpack {

using KeyId = std::array<std::uint8_t, 8>;

// key_id_hex prints a key id the way minisign does: the 8 bytes as a
// little-endian integer in uppercase hex without leading zeros ("%" PRIX64),
// so it matches the comment of minisign's own .pub files.
std::string key_id_hex(const KeyId &id);

class PublicKey {
public:
  // parse reads a minisign public key file's text, or the bare base64 line.
  static Result<PublicKey> parse(std::string_view text, std::string_view name);
  static Result<PublicKey> read_file(const std::filesystem::path &path);
  const KeyId &id() const { return id_; }
  const std::array<std::uint8_t, 32> &raw() const { return pk_; }
  // to_minisign returns the public key file text.
  std::string to_minisign() const;

private:
  KeyId id_{};
  std::array<std::uint8_t, 32> pk_{};
  friend class SecretKey;
};

class SecretKey {
public:
  // generate makes a fresh key pair with a random key id.
  static Result<SecretKey> generate();
  static Result<SecretKey> parse(std::string_view text, std::string_view name);
  static Result<SecretKey> read_file(const std::filesystem::path &path);
  const KeyId &id() const { return id_; }
  PublicKey public_key() const;
  // to_minisign returns the (unencrypted) secret key file text.
  std::string to_minisign() const;
  // sign returns a whole minisign signature file text for `message`.
  Result<std::string> sign(std::span<const std::uint8_t> message,
                           std::string_view trusted_comment) const;

private:
  KeyId id_{};
  std::array<std::uint8_t, 32> seed_{};
  std::array<std::uint8_t, 32> pk_{};
};

// Signature is a parsed minisign signature file.
struct Signature {
  bool prehashed = true; // "ED" (BLAKE2b-512) vs legacy "Ed"
  KeyId key_id{};
  std::array<std::uint8_t, 64> sig{};
  std::string trusted_comment;
  std::array<std::uint8_t, 64> global_sig{};

  static Result<Signature> parse(std::string_view text, std::string_view name);
};

// verify_signature checks `sig` over `message` against the trusted keys and
// returns the key that matched. Errc::bad_signature names the key ids tried
// when none matches, or the failing part (signature, trusted comment).
Result<PublicKey> verify_signature(std::span<const std::uint8_t> message,
                                   const Signature &sig,
                                   std::span<const PublicKey> trusted);

// verify_signature_prehashed is verify_signature for an "ED" signature when
// the caller has hashed the message itself (BLAKE2b-512, streaming), so that
// a large file need not be held in memory. A legacy "Ed" signature is
// Errc::unsupported.
Result<PublicKey>
verify_signature_prehashed(const std::array<std::uint8_t, 64> &blake2b512,
                           const Signature &sig,
                           std::span<const PublicKey> trusted);

// write_key_pair writes PREFIX (secret, created 0600) and PREFIX.pub, each
// atomically; existing files are replaced (the CLI refuses unless --force).
Result<void> write_key_pair(const SecretKey &key,
                            const std::filesystem::path &prefix);

} // namespace btfpack
