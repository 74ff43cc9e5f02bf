// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <cstdlib>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "bundle_fixture.h"
#include "test_util.h"

namespace btfpack {
namespace {

using test::minimized_corpus;
using test::TempDir;

class BundleTest : public ::testing::Test {
protected:
  void SetUp() override {
    SKIP_UNLESS_MINIMIZED_CORPUS();
    btfs_ = &minimized_corpus(5); // 21 kernels
    key_ = std::make_unique<SecretKey>(*SecretKey::generate());
    trusted_ = {key_->public_key()};
  }
  const std::vector<test::MinimizedBtf> *btfs_ = nullptr;
  std::unique_ptr<SecretKey> key_;
  std::vector<PublicKey> trusted_;
};

TEST_F(BundleTest, RoundTripEveryKernel) {
  auto bytes = test::make_bundle(*btfs_, *key_);
  TempDir tmp;
  test::write_bytes(tmp / "b.btfpack", bytes);
  auto b = Bundle::open(tmp / "b.btfpack", trusted_);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->signer(), key_->id());
  EXPECT_TRUE(b->verified());
  EXPECT_EQ(b->meta().name, "test-agent");
  EXPECT_EQ(b->meta().version, 7u);
  EXPECT_EQ(b->meta().created, 1700000000);
  EXPECT_EQ(b->meta().bpftool_version, "v7.1.0");
  ASSERT_EQ(b->meta().objects.size(), 2u);
  EXPECT_EQ(b->meta().objects[0].name, "nspid.bpf.o"); // sorted
  EXPECT_EQ(b->meta().objects[0].arch, "");
  EXPECT_EQ(b->trusted_comment(), "btfpack bundle test-agent version 7");
  EXPECT_EQ(b->entries().size(), btfs_->size());
  for (const auto &m : *btfs_) {
    const auto *e = b->find(m.kernel);
    ASSERT_NE(e, nullptr) << m.kernel.release;
    EXPECT_EQ(e->blob, sha256(m.btf));
    auto blob = b->read_blob(e->blob);
    ASSERT_TRUE(blob.ok()) << blob.error().message;
    EXPECT_EQ(*blob, m.btf) << m.kernel.release;
  }
  EXPECT_TRUE(b->verify_blobs().ok());
  auto st = b->stats();
  EXPECT_EQ(st.entry_count, btfs_->size());
  EXPECT_LE(st.blob_count, btfs_->size());
  EXPECT_EQ(st.file_size, bytes.size());
  EXPECT_EQ(st.format_major, 1u);
  EXPECT_EQ(b->find({"nosuch", "1", "x86_64", "1.0"}), nullptr);
  auto missing = b->read_blob(sha256(std::string_view("not there")));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_F(BundleTest, IdenticalBtfsStoredOnce) {
  BundleWriter w(test::test_meta());
  const auto &m = (*btfs_)[0];
  for (int i = 0; i < 5; i++) {
    KernelKey k = m.kernel;
    k.release += "-copy" + std::to_string(i);
    ASSERT_TRUE(w.add(k, m.btf).ok());
  }
  EXPECT_EQ(w.entry_count(), 5u);
  EXPECT_EQ(w.blob_count(), 1u);
  // Same kernel, same content: fine. Different content: refused.
  KernelKey k0 = m.kernel;
  k0.release += "-copy0";
  EXPECT_TRUE(w.add(k0, m.btf).ok());
  auto r = w.add(k0, (*btfs_)[1].btf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
}

TEST_F(BundleTest, ReproducibleBytes) {
  auto a = test::make_bundle(*btfs_, *key_);
  // Insertion order must not matter.
  auto reversed = *btfs_;
  std::reverse(reversed.begin(), reversed.end());
  auto b = test::make_bundle(reversed, *key_);
  EXPECT_EQ(a, b);
}

// SOURCE_DATE_EPOCH gives the creation time, read once by the CLI and
// passed down (GenReproducible.BuildAndGenGiveTheSameBytes checks that end
// to end); the writer records what it is given and never reads the
// environment itself.
TEST_F(BundleTest, SourceDateEpochGivesCreated) {
  auto meta = test::test_meta();
  meta.created = 1234567890;
  ::setenv("SOURCE_DATE_EPOCH", "1", 1);
  auto bytes = test::make_bundle(*btfs_, *key_, meta);
  meta.created = 0;
  auto none = test::make_bundle(*btfs_, *key_, meta);
  ::unsetenv("SOURCE_DATE_EPOCH");
  auto b = Bundle::open_memory(bytes, "mem", trusted_);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->meta().created, 1234567890);
  auto n = Bundle::open_memory(none, "mem", trusted_);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->meta().created, 0);
}

TEST_F(BundleTest, WrongKeyAndTwoTrustedKeys) {
  auto bytes = test::make_bundle(*btfs_, *key_);
  auto other = *SecretKey::generate();
  std::vector<PublicKey> wrong{other.public_key()};
  auto r = Bundle::open_memory(bytes, "mem", wrong);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_signature);
  EXPECT_NE(r.error().message.find(key_id_hex(key_->id())), std::string::npos)
      << r.error().message;
  std::vector<PublicKey> two{other.public_key(), key_->public_key()};
  auto ok2 = Bundle::open_memory(bytes, "mem", two);
  ASSERT_TRUE(ok2.ok()) << ok2.error().message;
  EXPECT_EQ(ok2->signer(), key_->id());
  std::vector<PublicKey> none;
  auto r0 = Bundle::open_memory(bytes, "mem", none);
  ASSERT_FALSE(r0.ok());
  EXPECT_EQ(r0.error().code, Errc::invalid_argument);
}

TEST_F(BundleTest, MissingSignatureRefusedThenResigned) {
  BundleWriter w(test::test_meta());
  for (const auto &m : *btfs_)
    ASSERT_TRUE(w.add(m.kernel, m.btf).ok());
  auto unsigned_bytes = w.serialize_unsigned();
  ASSERT_TRUE(unsigned_bytes.ok());
  TempDir tmp;
  test::write_bytes(tmp / "u.btfpack", *unsigned_bytes);
  auto r = Bundle::open(tmp / "u.btfpack", trusted_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_signature);
  EXPECT_NE(r.error().message.find("not signed"), std::string::npos);
  ASSERT_TRUE(resign_bundle(tmp / "u.btfpack", *key_).ok());
  auto b = Bundle::open(tmp / "u.btfpack", trusted_);
  ASSERT_TRUE(b.ok()) << b.error().message;
  // Signing an unsigned bundle gives the same bytes as serialize().
  EXPECT_EQ(*read_file(tmp / "u.btfpack"), test::make_bundle(*btfs_, *key_));
  // Re-signing with another key replaces the signature.
  auto other = *SecretKey::generate();
  ASSERT_TRUE(resign_bundle(tmp / "u.btfpack", other).ok());
  EXPECT_FALSE(Bundle::open(tmp / "u.btfpack", trusted_).ok());
  std::vector<PublicKey> t2{other.public_key()};
  EXPECT_TRUE(Bundle::open(tmp / "u.btfpack", t2).ok());
}

TEST_F(BundleTest, ExpiredRefusedUnlessAllowed) {
  auto meta = test::test_meta();
  meta.expires = 1800000000;
  auto bytes = test::make_bundle(*btfs_, *key_, meta);
  OpenOptions before;
  before.now = 1799999999;
  EXPECT_TRUE(Bundle::open_memory(bytes, "mem", trusted_, before).ok());
  OpenOptions after;
  after.now = 1800000000;
  auto r = Bundle::open_memory(bytes, "mem", trusted_, after);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::expired);
  EXPECT_NE(r.error().message.find("--allow-expired"), std::string::npos);
  after.allow_expired = true;
  EXPECT_TRUE(Bundle::open_memory(bytes, "mem", trusted_, after).ok());
}

TEST_F(BundleTest, NewerMajorVersionRefusedClearly) {
  auto bytes = test::make_bundle(*btfs_, *key_);
  ASSERT_EQ(std::string(bytes.begin(), bytes.begin() + 12), "BTFPACK 1.0 ");
  bytes[8] = '2';
  auto r = Bundle::open_memory(bytes, "mem", trusted_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unsupported);
  EXPECT_NE(r.error().message.find("format 2.0 is newer"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("upgrade btfpack"), std::string::npos);
}

TEST_F(BundleTest, ChunkedManifestForManyKernels) {
  // 2,500 kernels: the manifest is chunked (1,024 kernel lines a frame).
  BundleWriter w(test::test_meta());
  std::vector<KernelKey> keys;
  for (int r = 0; r < 2500; r++) {
    const auto &m = (*btfs_)[static_cast<std::size_t>(r) % btfs_->size()];
    KernelKey k = m.kernel;
    k.release += "+r" + std::to_string(r);
    ASSERT_TRUE(w.add(k, m.btf).ok());
    keys.push_back(k);
  }
  auto bytes = w.serialize(*key_);
  ASSERT_TRUE(bytes.ok());
  auto b = Bundle::open_memory(*bytes, "chunked", trusted_);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->stats().entry_count, 2500u);
  std::sort(keys.begin(), keys.end());
  // Every kernel, including both sides of each chunk boundary.
  for (std::size_t i = 0; i < keys.size(); i++) {
    const auto *e = b->find(keys[i]);
    ASSERT_NE(e, nullptr) << i;
    EXPECT_EQ(e->kernel, keys[i]);
  }
  KernelKey before = keys.front();
  before.distro = "a";
  EXPECT_EQ(b->find(before), nullptr);
  KernelKey between = keys[1024];
  between.release += "x";
  EXPECT_EQ(b->find(between), nullptr);
  KernelKey after = keys.back();
  after.distro = "zzz";
  EXPECT_EQ(b->find(after), nullptr);
  EXPECT_EQ(b->entries().size(), 2500u);
  EXPECT_TRUE(b->verify_blobs().ok());
  const auto *e = b->find(keys[2000]);
  auto blob = b->read_blob(e->blob);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(sha256(*blob), e->blob);
}

TEST_F(BundleTest, WriterRejectsBadInput) {
  auto meta = test::test_meta();
  meta.name = "tab\there";
  BundleWriter w(meta);
  ASSERT_TRUE(w.add((*btfs_)[0].kernel, (*btfs_)[0].btf).ok());
  EXPECT_FALSE(w.serialize(*key_).ok());
  BundleWriter w2(test::test_meta());
  EXPECT_FALSE(
      w2.add({"ubuntu", "20.04", "x86_64", "has space"}, (*btfs_)[0].btf).ok());
  EXPECT_FALSE(w2.add({"", "20.04", "x86_64", "r"}, (*btfs_)[0].btf).ok());
  EXPECT_FALSE(w2.add({"u", "1", "x86_64", "r"}, {}).ok());
  EXPECT_FALSE(w2.serialize(*key_).ok()); // no kernels
}

} // namespace
} // namespace btfpack
