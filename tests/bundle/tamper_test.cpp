// SPDX-License-Identifier: Apache-2.0
//
// Tamper resistance of a small real bundle: every single byte flipped, one
// at a time, and truncation at every 1 KiB boundary.
#include <gtest/gtest.h>
#include <map>

#include "btfpack/bundle.h"
#include "bundle_fixture.h"

namespace btfpack {
namespace {

using test::minimized_corpus;

struct Original {
  std::vector<std::uint8_t> bytes;
  std::string manifest;
  std::vector<std::pair<KernelKey, std::vector<std::uint8_t>>> btfs;
};

class TamperTest : public ::testing::Test {
protected:
  void SetUp() override {
    SKIP_UNLESS_MINIMIZED_CORPUS();
    key_ = std::make_unique<SecretKey>(*SecretKey::generate());
    trusted_ = {key_->public_key()};
    const auto &all = minimized_corpus(35); // 3 kernels
    ASSERT_GE(all.size(), 3u);
    auto meta = test::test_meta();
    meta.expires = 4000000000;
    bytes_ = test::make_bundle(all, *key_, meta);
    for (const auto &m : all)
      btfs_.push_back({m.kernel, m.btf});
  }

  // same_as_original: the bundle opened from tampered bytes uses exactly
  // the original content (manifest and every blob).
  void expect_same_as_original(const Bundle &b) {
    auto orig = Bundle::open_memory(bytes_, "orig", trusted_);
    ASSERT_TRUE(orig.ok());
    EXPECT_EQ(b.manifest_sha256(), orig->manifest_sha256());
    EXPECT_EQ(b.meta().name, orig->meta().name);
    EXPECT_EQ(b.trusted_comment(), orig->trusted_comment());
    ASSERT_EQ(b.entries().size(), btfs_.size());
    for (const auto &[k, btf] : btfs_) {
      const auto *e = b.find(k);
      ASSERT_NE(e, nullptr);
      auto blob = b.read_blob(e->blob);
      ASSERT_TRUE(blob.ok());
      EXPECT_EQ(*blob, btf);
    }
  }

  std::unique_ptr<SecretKey> key_;
  std::vector<PublicKey> trusted_;
  std::vector<std::uint8_t> bytes_;
  std::vector<std::pair<KernelKey, std::vector<std::uint8_t>>> btfs_;
};

TEST_F(TamperTest, EveryByteFlipIsRejectedOrChangesNothingUsed) {
  // The only bytes outside anything signed or checked are the untrusted
  // comment's text (minisign's "can be freely modified" line).
  std::string text(bytes_.begin(), bytes_.end());
  auto sig_start = text.find('\n') + 1;
  const std::string prefix = "untrusted comment: ";
  ASSERT_EQ(text.compare(sig_start, prefix.size(), prefix), 0);
  auto free_begin = sig_start + prefix.size();
  auto free_end = text.find('\n', free_begin);

  std::size_t rejected = 0, accepted = 0;
  std::map<Errc, std::size_t> by_code;
  for (std::size_t i = 0; i < bytes_.size(); i++) {
    auto t = bytes_;
    t[i] ^= 0xFF;
    auto b = Bundle::open_memory(std::move(t), "tampered", trusted_);
    if (b.ok()) {
      // Accepted: must be in the unsigned free text, and change nothing.
      EXPECT_TRUE(i >= free_begin && i < free_end)
          << "flip at byte " << i << " was accepted";
      expect_same_as_original(*b);
      EXPECT_TRUE(b->verify_blobs().ok());
      accepted++;
    } else {
      EXPECT_FALSE(b.error().message.empty());
      EXPECT_NE(b.error().message.find("tampered"), std::string::npos)
          << b.error().message; // names the file
      by_code[b.error().code]++;
      rejected++;
    }
  }
  EXPECT_EQ(accepted, free_end - free_begin);
  EXPECT_EQ(rejected + accepted, bytes_.size());
  for (const auto &[code, n] : by_code)
    EXPECT_TRUE(code == Errc::corrupt || code == Errc::bad_signature ||
                code == Errc::unsupported)
        << errc_name(code) << " x" << n;
  // The body (after the signature) is all signature-checked.
  EXPECT_GT(by_code[Errc::bad_signature], bytes_.size() / 2);
}

TEST_F(TamperTest, TruncationAtEvery1KiBBoundaryIsRejected) {
  for (std::size_t len = 0; len < bytes_.size(); len += 1024) {
    std::vector<std::uint8_t> t(bytes_.begin(), bytes_.begin() + len);
    auto b = Bundle::open_memory(std::move(t), "truncated", trusted_);
    ASSERT_FALSE(b.ok()) << "truncated to " << len << " bytes";
    EXPECT_FALSE(b.error().message.empty());
  }
  // And at every byte of the last KiB, and by one byte.
  for (std::size_t len = bytes_.size() > 1024 ? bytes_.size() - 1024 : 0;
       len < bytes_.size(); len++) {
    std::vector<std::uint8_t> t(bytes_.begin(), bytes_.begin() + len);
    EXPECT_FALSE(Bundle::open_memory(std::move(t), "truncated", trusted_).ok())
        << len;
  }
  auto longer = bytes_;
  longer.push_back(0);
  auto b = Bundle::open_memory(std::move(longer), "extended", trusted_);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, Errc::bad_signature);
}

} // namespace
} // namespace btfpack
