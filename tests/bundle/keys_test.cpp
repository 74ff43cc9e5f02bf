// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "btfpack/sha256.h"
#include "crypto.h"
#include "test_util.h"

namespace btfpack {
namespace {

using namespace detail;
using test::TempDir;

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t *>(s.data()), s.size()};
}

std::vector<std::uint8_t> openssl_blake2b512(std::span<const std::uint8_t> m) {
  std::vector<std::uint8_t> out(64);
  unsigned int n = 0;
  EXPECT_EQ(
      EVP_Digest(m.data(), m.size(), out.data(), &n, EVP_blake2b512(), nullptr),
      1);
  EXPECT_EQ(n, 64u);
  return out;
}

TEST(Blake2b, OwnImplementationMatchesOpenSsl512) {
  // Both widths and the streaming form share all code with the 512-bit
  // one-shot form, which OpenSSL computes too: compare them over block edges.
  std::vector<std::uint8_t> msg;
  for (std::size_t len : {0, 1, 3, 127, 128, 129, 255, 256, 257, 1000}) {
    msg.resize(len);
    for (std::size_t i = 0; i < len; i++)
      msg[i] = static_cast<std::uint8_t>(i * 7 + 1);
    auto ours = blake2b(msg, 64);
    auto ref = openssl_blake2b512(msg);
    EXPECT_EQ(ref, ours) << len;
    auto one = blake2b512(msg);
    EXPECT_EQ(ref, std::vector<std::uint8_t>(one.begin(), one.end())) << len;
  }
}

TEST(Blake2b, StreamingInAnyPiecesMatchesOpenSsl512) {
  std::vector<std::uint8_t> msg(3 * 128 + 77);
  for (std::size_t i = 0; i < msg.size(); i++)
    msg[i] = static_cast<std::uint8_t>(i * 13 + 5);
  for (std::size_t len : {0, 128, 129, 256, 300, 461})
    for (std::size_t piece : {1, 7, 127, 128, 129, 200, 1000}) {
      auto m = std::span<const std::uint8_t>(msg).first(len);
      Blake2b512Stream s;
      for (std::size_t off = 0; off < m.size(); off += piece)
        s.update(m.data() + off, std::min(piece, m.size() - off));
      auto got = s.finish();
      EXPECT_EQ(openssl_blake2b512(m),
                std::vector<std::uint8_t>(got.begin(), got.end()))
          << len << " in pieces of " << piece;
    }
}

TEST(Blake2b, Rfc7693And256BitVectors) {
  // RFC 7693 appendix A: BLAKE2b-512("abc").
  EXPECT_EQ(to_hex(std::span<const std::uint8_t>(blake2b(bytes("abc"), 64))),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  // BLAKE2b-256("abc"), as Python's hashlib.blake2b(digest_size=32).
  EXPECT_EQ(to_hex(std::span<const std::uint8_t>(blake2b(bytes("abc"), 32))),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Base64, StrictCanonical) {
  EXPECT_EQ(base64_encode(bytes("ab")), "YWI=");
  EXPECT_EQ(base64_decode("YWI="), std::vector<std::uint8_t>({'a', 'b'}));
  EXPECT_FALSE(base64_decode("YWJ="));  // unused bits set
  EXPECT_FALSE(base64_decode("YWI"));   // no padding
  EXPECT_FALSE(base64_decode("YW I=")); // whitespace
  EXPECT_FALSE(base64_decode("Y=I="));
  EXPECT_EQ(base64_decode(""), std::vector<std::uint8_t>{});
}

TEST(Keys, GenerateSignVerify) {
  auto key = SecretKey::generate();
  ASSERT_TRUE(key.ok());
  auto sig = key->sign(bytes("hello"), "comment here");
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  auto parsed = Signature::parse(*sig, "sig");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->prehashed);
  EXPECT_EQ(parsed->trusted_comment, "comment here");
  EXPECT_EQ(parsed->key_id, key->id());
  std::vector<PublicKey> trusted{key->public_key()};
  auto who = verify_signature(bytes("hello"), *parsed, trusted);
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->id(), key->id());

  auto bad = verify_signature(bytes("hellO"), *parsed, trusted);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::bad_signature);

  Signature tc = *parsed;
  tc.trusted_comment = "comment hero";
  auto bad_tc = verify_signature(bytes("hello"), tc, trusted);
  ASSERT_FALSE(bad_tc.ok());
  EXPECT_NE(bad_tc.error().message.find("trusted comment"), std::string::npos);
}

TEST(Keys, WrongKeyNamesBothIds) {
  auto a = SecretKey::generate();
  auto b = SecretKey::generate();
  ASSERT_TRUE(a.ok() && b.ok());
  auto sig = Signature::parse(*a->sign(bytes("m"), "c"), "sig");
  std::vector<PublicKey> trusted{b->public_key()};
  auto r = verify_signature(bytes("m"), *sig, trusted);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_signature);
  EXPECT_NE(r.error().message.find(key_id_hex(a->id())), std::string::npos);
  EXPECT_NE(r.error().message.find(key_id_hex(b->id())), std::string::npos);
  // Two trusted keys, one matching.
  trusted.push_back(a->public_key());
  auto ok2 = verify_signature(bytes("m"), *sig, trusted);
  ASSERT_TRUE(ok2.ok());
  EXPECT_EQ(ok2->id(), a->id());
}

TEST(Keys, KeyFilesRoundTripAndSecretIs0600) {
  TempDir tmp;
  auto key = SecretKey::generate();
  ASSERT_TRUE(key.ok());
  auto prefix = tmp / "signing";
  ASSERT_TRUE(write_key_pair(*key, prefix).ok());
  struct stat st {};
  ASSERT_EQ(::stat(prefix.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto sk = SecretKey::read_file(prefix);
  ASSERT_TRUE(sk.ok()) << sk.error().message;
  EXPECT_EQ(sk->id(), key->id());
  EXPECT_EQ(sk->to_minisign(), key->to_minisign());
  auto pk = PublicKey::read_file(prefix.string() + ".pub");
  ASSERT_TRUE(pk.ok()) << pk.error().message;
  EXPECT_EQ(pk->raw(), key->public_key().raw());
  EXPECT_EQ(pk->id(), key->id());
  // The bare base64 line is a key too (minisign -P).
  auto text = key->public_key().to_minisign();
  auto line = text.substr(text.find('\n') + 1);
  auto bare = PublicKey::parse(line, "bare");
  ASSERT_TRUE(bare.ok()) << bare.error().message;
  EXPECT_EQ(bare->raw(), pk->raw());
}

TEST(Keys, KeyIdPrintedLikeMinisign) {
  // minisign prints le64_load(keynum) with "%" PRIX64: uppercase, and no
  // leading zeros (1 key in 16 has a shorter id; minisign 0.11 measured).
  KeyId id{0x30, 0x24, 0xf7, 0x3b, 0x16, 0x38, 0x41, 0xed};
  EXPECT_EQ(key_id_hex(id), "ED4138163BF72430");
  KeyId low{0xf8, 0xef, 0x0c, 0x2c, 0x02, 0x69, 0x59, 0x0a};
  EXPECT_EQ(key_id_hex(low), "A5969022C0CEFF8");
  KeyId zero{};
  EXPECT_EQ(key_id_hex(zero), "0");
}

TEST(Keys, RejectsDamagedSecretKey) {
  auto key = SecretKey::generate();
  std::string text = key->to_minisign();
  auto nl = text.find('\n');
  // Flip a character inside the secret seed (base64 offset ~ 90).
  std::string bad = text;
  char &c = bad[nl + 1 + 90];
  c = c == 'A' ? 'B' : 'A';
  auto r = SecretKey::parse(bad, "damaged");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_NE(r.error().message.find("damaged"), std::string::npos);
}

TEST(Keys, RejectsEncryptedSecretKey) {
  auto key = SecretKey::generate();
  std::string text = key->to_minisign();
  auto nl = text.find('\n');
  auto raw = base64_decode(
      std::string_view(text).substr(nl + 1, text.size() - nl - 2));
  ASSERT_TRUE(raw);
  (*raw)[2] = 'S';
  (*raw)[3] = 'c';
  auto enc = "untrusted comment: x\n" + base64_encode(*raw) + "\n";
  auto r = SecretKey::parse(enc, "enc.key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unsupported);
  EXPECT_NE(r.error().message.find("minisign -G -W"), std::string::npos);
}

TEST(Signature, StrictParsing) {
  auto key = SecretKey::generate();
  std::string sig = *key->sign(bytes("x"), "tc");
  EXPECT_TRUE(Signature::parse(sig, "s").ok());
  EXPECT_FALSE(Signature::parse(sig + "extra\n", "s").ok());
  EXPECT_FALSE(Signature::parse(sig.substr(0, sig.size() - 1), "s").ok());
  EXPECT_FALSE(Signature::parse("untrusted comment: x\n", "s").ok());
  std::string no_prefix = sig;
  no_prefix[0] = 'U';
  EXPECT_FALSE(Signature::parse(no_prefix, "s").ok());
  EXPECT_FALSE(key->sign(bytes("x"), "two\nlines").ok());
  EXPECT_FALSE(key->sign(bytes("x"), std::string(9000, 'a')).ok());
}

} // namespace
} // namespace btfpack
