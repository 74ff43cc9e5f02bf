// SPDX-License-Identifier: Apache-2.0
//
// minisign public and secret key files (jedisct1/minisign src/minisign.c:
// pubkey_load_string, seckey_load, seckey_chk).
#include "btfpack/keys.h"

#include <cstring>
#include <sys/stat.h>

#include "btfpack/file_util.h"
#include "crypto.h"
#include "minisign_format.h"

namespace btfpack {

using namespace detail;

namespace {

constexpr std::uint64_t KEY_FILE_MAX = 4096;

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' ||
                        s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// key_line returns the base64 line of a key file, read as minisign does:
// a comment line, then the key line (or, for public keys, the bare line).
Result<std::string_view> key_line(std::string_view text, std::string_view name,
                                  std::string_view what, bool allow_bare) {
  std::string n(name), w(what);
  if (text.size() > KEY_FILE_MAX)
    return make_error(Errc::corrupt,
                      n + ": " + w + " file is larger than 4096 bytes");
  std::vector<std::string_view> lines;
  std::string_view rest = trim_right(text);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    lines.push_back(trim_right(rest.substr(0, nl)));
    rest =
        nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  if (lines.size() == 1 && allow_bare)
    return lines[0];
  if (lines.size() != 2)
    return make_error(Errc::corrupt,
                      n + ": not a minisign " + w +
                          " file (expected a comment line and a key line)");
  if (lines[0].size() > MS_COMMENT_MAX)
    return make_error(Errc::corrupt,
                      n + ": comment line longer than 1024 bytes");
  return lines[1];
}

} // namespace

std::string key_id_hex(const KeyId &id) {
  static const char hex[] = "0123456789ABCDEF";
  std::string s;
  for (int i = 7; i >= 0; i--) { // minisign prints le64_load(keynum)
    s += hex[id[i] >> 4];
    s += hex[id[i] & 15];
  }
  // ... with "%" PRIX64: no leading zeros (a key id of 0 prints "0").
  auto first = s.find_first_not_of('0');
  return first == std::string::npos ? "0" : s.substr(first);
}

Result<PublicKey> PublicKey::parse(std::string_view text,
                                   std::string_view name) {
  BTFPACK_TRY(line, key_line(text, name, "public key", true));
  auto raw = base64_decode(line);
  if (raw && raw->size() == MS_SECKEY_BYTES)
    return make_error(Errc::invalid_argument,
                      std::string(name) +
                          ": this is a secret key; pass the public key "
                          "(the .pub file `btfpack keygen` wrote beside it)");
  if (!raw || raw->size() != MS_PUBKEY_BYTES)
    return make_error(Errc::corrupt,
                      std::string(name) +
                          ": not a minisign public key (base64 of 42 bytes "
                          "expected)");
  if (std::memcmp(raw->data(), MS_SIGALG.data(), 2) != 0)
    return make_error(Errc::unsupported,
                      std::string(name) +
                          ": unsupported public key algorithm (only Ed25519 "
                          "\"Ed\" keys are supported)");
  PublicKey pk;
  std::memcpy(pk.id_.data(), raw->data() + 2, 8);
  std::memcpy(pk.pk_.data(), raw->data() + 10, 32);
  return pk;
}

Result<PublicKey> PublicKey::read_file(const std::filesystem::path &path) {
  BTFPACK_TRY(text, read_text_file(path, KEY_FILE_MAX));
  return parse(text, path.string());
}

std::string PublicKey::to_minisign() const {
  std::vector<std::uint8_t> raw(MS_SIGALG.begin(), MS_SIGALG.end());
  raw.insert(raw.end(), id_.begin(), id_.end());
  raw.insert(raw.end(), pk_.begin(), pk_.end());
  return "untrusted comment: minisign public key " + key_id_hex(id_) + "\n" +
         base64_encode(raw) + "\n";
}

Result<SecretKey> SecretKey::generate() {
  SecretKey k;
  BTFPACK_CHECK(random_bytes(k.id_));
  BTFPACK_CHECK(random_bytes(k.seed_));
  BTFPACK_TRY(pk, ed25519_public_from_seed(k.seed_));
  k.pk_ = pk;
  return k;
}

Result<SecretKey> SecretKey::parse(std::string_view text,
                                   std::string_view name) {
  std::string n(name);
  BTFPACK_TRY(line, key_line(text, name, "secret key", false));
  auto raw = base64_decode(line);
  if (!raw || raw->size() != MS_SECKEY_BYTES)
    return make_error(Errc::corrupt,
                      n + ": not a minisign secret key (base64 of 158 bytes "
                          "expected)");
  const std::uint8_t *p = raw->data();
  if (std::memcmp(p, MS_SIGALG.data(), 2) != 0)
    return make_error(Errc::unsupported,
                      n + ": unsupported secret key algorithm (only Ed25519)");
  if (std::memcmp(p + 2, MS_KDF_SCRYPT.data(), 2) == 0)
    return make_error(Errc::unsupported,
                      n + ": secret key is encrypted with a password; "
                          "btfpack needs an unencrypted key (btfpack keygen, "
                          "or minisign -G -W)");
  if (std::memcmp(p + 2, MS_KDF_NONE.data(), 2) != 0)
    return make_error(Errc::unsupported,
                      n + ": unsupported key derivation function");
  if (std::memcmp(p + 4, MS_CHKALG.data(), 2) != 0)
    return make_error(Errc::unsupported, n + ": unsupported checksum function");
  SecretKey k;
  std::memcpy(k.id_.data(), p + MS_SK_OFF_KEYNUM, 8);
  std::memcpy(k.seed_.data(), p + MS_SK_OFF_SK, 32);
  std::memcpy(k.pk_.data(), p + MS_SK_OFF_SK + 32, 32);
  // minisign 0.11 leaves the checksum of an unencrypted key all zero (and
  // never checks it then); when present it must match.
  const std::uint8_t *chk = p + MS_SK_OFF_CHK;
  bool zero = true;
  for (std::size_t i = 0; i < 32; i++)
    zero = zero && chk[i] == 0;
  if (!zero) {
    std::vector<std::uint8_t> in(p, p + 2);
    in.insert(in.end(), p + MS_SK_OFF_KEYNUM, p + MS_SK_OFF_CHK);
    auto want = blake2b(in, 32);
    if (std::memcmp(want.data(), chk, 32) != 0)
      return make_error(Errc::corrupt,
                        n + ": secret key checksum mismatch (damaged file)");
  }
  BTFPACK_TRY(pk, ed25519_public_from_seed(k.seed_));
  if (pk != k.pk_)
    return make_error(Errc::corrupt, n + ": secret key does not match its "
                                         "embedded public key (damaged file)");
  return k;
}

Result<SecretKey> SecretKey::read_file(const std::filesystem::path &path) {
  BTFPACK_TRY(text, read_text_file(path, KEY_FILE_MAX));
  return parse(text, path.string());
}

PublicKey SecretKey::public_key() const {
  PublicKey p;
  p.id_ = id_;
  p.pk_ = pk_;
  return p;
}

std::string SecretKey::to_minisign() const {
  std::vector<std::uint8_t> raw(MS_SECKEY_BYTES, 0);
  std::memcpy(raw.data(), MS_SIGALG.data(), 2);
  std::memcpy(raw.data() + 2, MS_KDF_NONE.data(), 2);
  std::memcpy(raw.data() + 4, MS_CHKALG.data(), 2);
  std::memcpy(raw.data() + MS_SK_OFF_KEYNUM, id_.data(), 8);
  std::memcpy(raw.data() + MS_SK_OFF_SK, seed_.data(), 32);
  std::memcpy(raw.data() + MS_SK_OFF_SK + 32, pk_.data(), 32);
  std::vector<std::uint8_t> in(raw.begin(), raw.begin() + 2);
  in.insert(in.end(), raw.begin() + MS_SK_OFF_KEYNUM,
            raw.begin() + MS_SK_OFF_CHK);
  auto chk = blake2b(in, 32);
  std::memcpy(raw.data() + MS_SK_OFF_CHK, chk.data(), 32);
  return "untrusted comment: btfpack secret key " + key_id_hex(id_) +
         " (unencrypted)\n" + base64_encode(raw) + "\n";
}

Result<void> write_key_pair(const SecretKey &key,
                            const std::filesystem::path &prefix) {
  std::filesystem::path pub = prefix.string() + ".pub";
  BTFPACK_CHECK(write_file_atomic(prefix, key.to_minisign(),
                                  Durability::file_and_dir, 0600));
  BTFPACK_CHECK(write_file_atomic(pub, key.public_key().to_minisign(),
                                  Durability::file_and_dir, 0644));
  return ok();
}

} // namespace btfpack
