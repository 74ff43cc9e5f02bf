// SPDX-License-Identifier: Apache-2.0
//
// Interop with Debian's real minisign, both ways: minisign verifies our
// signatures, and a key pair made by `minisign -G -W` signs what we verify.
#include <gtest/gtest.h>

#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "test_util.h"

namespace btfpack {
namespace {

using test::run;
using test::TempDir;

bool have_minisign() {
  return run({"sh", "-c", "command -v minisign"}).status == 0;
}

#define SKIP_UNLESS_MINISIGN()                                                 \
  do {                                                                         \
    if (!have_minisign())                                                      \
      GTEST_SKIP() << "minisign not installed (apt-get install minisign)";     \
  } while (0)

TEST(MinisignInterop, MinisignVerifiesOurSignature) {
  SKIP_UNLESS_MINISIGN();
  TempDir tmp;
  auto key = *SecretKey::generate();
  ASSERT_TRUE(write_key_pair(key, tmp / "k").ok());
  std::string msg = "some bundle bytes\n";
  ASSERT_TRUE(write_file_atomic(tmp / "m", msg).ok());
  auto sig =
      key.sign({reinterpret_cast<const std::uint8_t *>(msg.data()), msg.size()},
               "btfpack test");
  ASSERT_TRUE(sig.ok());
  ASSERT_TRUE(write_file_atomic(tmp / "m.minisig", *sig).ok());
  auto r = run({"minisign", "-Vm", (tmp / "m").string(), "-p",
                (tmp / "k.pub").string()});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Trusted comment: btfpack test"), std::string::npos);
  // And it notices a modified message.
  ASSERT_TRUE(write_file_atomic(tmp / "m", msg + "x").ok());
  auto bad = run({"minisign", "-Vm", (tmp / "m").string(), "-p",
                  (tmp / "k.pub").string()});
  EXPECT_NE(bad.status, 0);
}

TEST(MinisignInterop, MinisignSignsWithOurSecretKeyFile) {
  SKIP_UNLESS_MINISIGN();
  TempDir tmp;
  auto key = *SecretKey::generate();
  ASSERT_TRUE(write_key_pair(key, tmp / "k").ok());
  ASSERT_TRUE(write_file_atomic(tmp / "m", std::string("data")).ok());
  auto s = run({"minisign", "-S", "-s", (tmp / "k").string(), "-m",
                (tmp / "m").string(), "-t", "from minisign"});
  ASSERT_EQ(s.status, 0) << s.out << s.err;
  auto text = read_text_file(tmp / "m.minisig");
  ASSERT_TRUE(text.ok());
  auto sig = Signature::parse(*text, "m.minisig");
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  std::vector<PublicKey> trusted{key.public_key()};
  std::string data = "data";
  auto who = verify_signature(
      {reinterpret_cast<const std::uint8_t *>(data.data()), data.size()}, *sig,
      trusted);
  ASSERT_TRUE(who.ok()) << who.error().message;
}

TEST(MinisignInterop, MinisignKeyPairReadAndUsed) {
  SKIP_UNLESS_MINISIGN();
  TempDir tmp;
  auto g = run({"minisign", "-G", "-W", "-p", (tmp / "ms.pub").string(), "-s",
                (tmp / "ms.key").string()});
  ASSERT_EQ(g.status, 0) << g.out << g.err;
  auto sk = SecretKey::read_file(tmp / "ms.key");
  ASSERT_TRUE(sk.ok()) << sk.error().message;
  auto pk = PublicKey::read_file(tmp / "ms.pub");
  ASSERT_TRUE(pk.ok()) << pk.error().message;
  EXPECT_EQ(sk->id(), pk->id());
  EXPECT_EQ(sk->public_key().raw(), pk->raw());
  // minisign prints the key id in the public key's comment.
  auto pubtext = *read_text_file(tmp / "ms.pub");
  EXPECT_NE(pubtext.find(key_id_hex(pk->id())), std::string::npos);
  // Our signature with minisign's key verifies with minisign and with us.
  std::string msg = "payload";
  ASSERT_TRUE(write_file_atomic(tmp / "m", msg).ok());
  auto sig = sk->sign(
      {reinterpret_cast<const std::uint8_t *>(msg.data()), msg.size()}, "x");
  ASSERT_TRUE(sig.ok());
  ASSERT_TRUE(write_file_atomic(tmp / "m.minisig", *sig).ok());
  auto v = run({"minisign", "-Vm", (tmp / "m").string(), "-p",
                (tmp / "ms.pub").string()});
  EXPECT_EQ(v.status, 0) << v.out << v.err;
}

} // namespace
} // namespace btfpack
