// SPDX-License-Identifier: Apache-2.0
//
// minisign signature files (jedisct1/minisign src/minisign.c: sig_load,
// verify, sign): four lines, "untrusted comment: ...", base64(sig_alg ||
// keynum || sig), "trusted comment: ...", base64(global_sig), where sig
// signs the message (or, for "ED", its BLAKE2b-512) and global_sig signs
// sig || trusted comment. Parsing is strict so that our reading of a file is
// the same as minisign's, and every byte outside the untrusted comment is
// checked.
#include <cstring>

#include "btfpack/keys.h"
#include "crypto.h"
#include "minisign_format.h"

namespace btfpack {

using namespace detail;

namespace {

bool valid_trusted_comment(std::string_view tc) {
  // minisign reads the comment with fgets and strlen: NUL would cut it, and
  // its trim() drops a trailing CR, so neither may appear.
  return tc.size() + MS_TRUSTED_PREFIX.size() + 1 < MS_TRUSTED_COMMENT_MAX &&
         tc.find_first_of(std::string_view("\0\r\n", 3)) ==
             std::string_view::npos;
}

Result<PublicKey> check_signature(std::span<const std::uint8_t> signed_data,
                                  const Signature &sig,
                                  std::span<const PublicKey> trusted) {
  if (trusted.empty())
    return make_error(Errc::invalid_argument, "no trusted public key given");
  std::string tried;
  for (const auto &key : trusted) {
    if (key.id() != sig.key_id) {
      tried += (tried.empty() ? "" : ", ") + key_id_hex(key.id());
      continue;
    }
    if (!ed25519_verify(key.raw(), signed_data, sig.sig))
      return make_error(Errc::bad_signature,
                        "signature verification failed with key " +
                            key_id_hex(key.id()) +
                            " (the signed content was modified)");
    std::vector<std::uint8_t> global(sig.sig.begin(), sig.sig.end());
    global.insert(global.end(), sig.trusted_comment.begin(),
                  sig.trusted_comment.end());
    if (!ed25519_verify(key.raw(), global, sig.global_sig))
      return make_error(Errc::bad_signature,
                        "trusted comment signature verification failed with "
                        "key " +
                            key_id_hex(key.id()) +
                            " (the trusted comment was modified)");
    return key;
  }
  return make_error(Errc::bad_signature,
                    "signed by key " + key_id_hex(sig.key_id) +
                        ", which is not a trusted key (trusted: " + tried +
                        ")");
}

} // namespace

Result<Signature> Signature::parse(std::string_view text,
                                   std::string_view name) {
  std::string n(name);
  auto bad = [&](const std::string &why) {
    return make_error(Errc::corrupt,
                      n + ": invalid minisign signature: " + why);
  };
  if (text.size() > MS_SIG_FILE_MAX)
    return bad("larger than " + std::to_string(MS_SIG_FILE_MAX) + " bytes");
  std::string_view lines[4];
  std::string_view rest = text;
  for (auto &line : lines) {
    auto nl = rest.find('\n');
    if (nl == std::string_view::npos)
      return bad("expected 4 lines ending in a newline");
    line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
  }
  if (!rest.empty())
    return bad("unexpected text after the 4th line");
  if (!lines[0].starts_with(MS_COMMENT_PREFIX))
    return bad("first line must start with \"untrusted comment: \"");
  if (lines[0].size() + 1 >= MS_COMMENT_MAX)
    return bad("untrusted comment longer than 1022 bytes");
  auto raw = base64_decode(lines[1]);
  if (!raw || raw->size() != MS_SIG_BYTES)
    return bad("second line is not base64 of 74 bytes");
  if (!lines[2].starts_with(MS_TRUSTED_PREFIX))
    return bad("third line must start with \"trusted comment: \"");
  std::string_view tc = lines[2].substr(MS_TRUSTED_PREFIX.size());
  if (!valid_trusted_comment(tc))
    return bad("trusted comment too long or holding NUL/CR");
  auto global = base64_decode(lines[3]);
  if (!global || global->size() != 64)
    return bad("fourth line is not base64 of 64 bytes");
  Signature s;
  if (std::memcmp(raw->data(), MS_SIGALG_HASHED.data(), 2) == 0)
    s.prehashed = true;
  else if (std::memcmp(raw->data(), MS_SIGALG.data(), 2) == 0)
    s.prehashed = false;
  else
    return make_error(Errc::unsupported,
                      n + ": unsupported signature algorithm (expected ED "
                          "or Ed)");
  std::memcpy(s.key_id.data(), raw->data() + 2, 8);
  std::memcpy(s.sig.data(), raw->data() + 10, 64);
  s.trusted_comment = std::string(tc);
  std::memcpy(s.global_sig.data(), global->data(), 64);
  return s;
}

Result<std::string> SecretKey::sign(std::span<const std::uint8_t> message,
                                    std::string_view trusted_comment) const {
  if (!valid_trusted_comment(trusted_comment))
    return make_error(Errc::invalid_argument,
                      "trusted comment too long or holding NUL/CR/LF");
  auto hash = blake2b512(message);
  BTFPACK_TRY(sig, ed25519_sign(seed_, hash));
  std::vector<std::uint8_t> global(sig.begin(), sig.end());
  global.insert(global.end(), trusted_comment.begin(), trusted_comment.end());
  BTFPACK_TRY(gsig, ed25519_sign(seed_, global));
  std::vector<std::uint8_t> sigblob(MS_SIGALG_HASHED.begin(),
                                    MS_SIGALG_HASHED.end());
  sigblob.insert(sigblob.end(), id_.begin(), id_.end());
  sigblob.insert(sigblob.end(), sig.begin(), sig.end());
  std::string out = "untrusted comment: btfpack signature\n";
  out += base64_encode(sigblob) + "\n";
  out += std::string(MS_TRUSTED_PREFIX) + std::string(trusted_comment) + "\n";
  out += base64_encode(gsig) + "\n";
  return out;
}

Result<PublicKey> verify_signature(std::span<const std::uint8_t> message,
                                   const Signature &sig,
                                   std::span<const PublicKey> trusted) {
  if (!sig.prehashed)
    return check_signature(message, sig, trusted);
  auto hash = blake2b512(message);
  return check_signature(hash, sig, trusted);
}

Result<PublicKey>
verify_signature_prehashed(const std::array<std::uint8_t, 64> &blake2b512,
                           const Signature &sig,
                           std::span<const PublicKey> trusted) {
  if (!sig.prehashed)
    return make_error(Errc::unsupported,
                      "legacy (non-prehashed \"Ed\") signature where a "
                      "prehashed \"ED\" one is required");
  return check_signature(blake2b512, sig, trusted);
}

} // namespace btfpack
