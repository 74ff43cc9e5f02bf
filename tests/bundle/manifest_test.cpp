// SPDX-License-Identifier: Apache-2.0
//
// Hand-made manifests and bundles, signed with a real key, for what a
// correct writer never produces: a blob whose content does not match its
// digest, a manifest naming a missing blob, absurd sizes and counts.
#include <gtest/gtest.h>

#include "btfpack/bundle.h"
#include "bundle_fixture.h"
#include "bundle_format.h"

namespace btfpack {
namespace {

using namespace detail;

std::span<const std::uint8_t> as_bytes(const std::string &s) {
  return {reinterpret_cast<const std::uint8_t *>(s.data()), s.size()};
}

const std::string HEAD = "btfpack-manifest 1.0\nname\tt\nversion\t1\n"
                         "created\t1\nexpires\t0\nbtfpack\t\nbpftool\t\n"
                         "snapshot\t\n";

class CraftedTest : public ::testing::Test {
protected:
  void SetUp() override {
    key_ = std::make_unique<SecretKey>(*SecretKey::generate());
    trusted_ = {key_->public_key()};
  }
  // frame compresses one fake BTF blob as a magicless frame.
  std::vector<std::uint8_t> frame(const std::string &content) {
    return *zstd_compress(as_bytes(content), {}, 19, true);
  }
  std::string blob_line(const std::string &content, std::size_t stored,
                        const std::string &base = "-") {
    return "blob\t" + to_hex(sha256(content)) + "\t" + std::to_string(stored) +
           "\t" + std::to_string(content.size()) + "\t" + base + "\n";
  }
  // craft signs manifest text + frames as a bundle.
  std::vector<std::uint8_t>
  craft(const std::string &manifest,
        const std::vector<std::vector<std::uint8_t>> &frames) {
    auto mz = *zstd_compress(as_bytes(manifest), {}, 19, false);
    std::vector<std::uint8_t> body = mz;
    for (const auto &f : frames)
      body.insert(body.end(), f.begin(), f.end());
    return *assemble_signed_bundle(body, mz.size(), "crafted", *key_);
  }
  Result<Bundle> open(std::vector<std::uint8_t> bytes) {
    return Bundle::open_memory(std::move(bytes), "crafted.btfpack", trusted_);
  }
  std::unique_ptr<SecretKey> key_;
  std::vector<PublicKey> trusted_;
};

TEST_F(CraftedTest, WellFormedCraftedBundleOpens) {
  auto f = frame("AAAA-btf");
  auto b = open(craft(HEAD + blob_line("AAAA-btf", f.size()) +
                          "kernel\tu\t1\tx86_64\tr1\t0\n",
                      {f}));
  ASSERT_TRUE(b.ok()) << b.error().message;
  auto blob = b->read_blob(sha256(std::string("AAAA-btf")));
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(std::string(blob->begin(), blob->end()), "AAAA-btf");
}

TEST_F(CraftedTest, BlobDigestMismatchIsCaughtOnRead) {
  auto f = frame("BBBB-btf"); // stored content differs from the digest
  auto b = open(craft(HEAD + blob_line("AAAA-btf", f.size()) +
                          "kernel\tu\t1\tx86_64\tr1\t0\n",
                      {f}));
  ASSERT_TRUE(b.ok()) << b.error().message; // signed and well-formed
  auto blob = b->read_blob(sha256(std::string("AAAA-btf")));
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code, Errc::digest_mismatch);
  EXPECT_NE(blob.error().message.find("does not match"), std::string::npos);
  EXPECT_FALSE(b->verify_blobs().ok());
}

TEST_F(CraftedTest, ManifestNamingAMissingBlob) {
  auto f = frame("AAAA-btf");
  auto b = open(craft(HEAD + blob_line("AAAA-btf", f.size()) +
                          "kernel\tu\t1\tx86_64\tr1\t1\n",
                      {f}));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, Errc::corrupt);
  EXPECT_NE(b.error().message.find("names a blob that is not in the bundle"),
            std::string::npos)
      << b.error().message;
  // A blob listed but its frame missing from the file.
  auto g = frame("CCCC-btf");
  auto b2 = open(craft(HEAD + blob_line("AAAA-btf", f.size()) +
                           blob_line("CCCC-btf", g.size()) +
                           "kernel\tu\t1\tx86_64\tr1\t0\n"
                           "kernel\tu\t1\tx86_64\tr2\t1\n",
                       {f}));
  ASSERT_FALSE(b2.ok());
  EXPECT_NE(b2.error().message.find("do not match the blob region"),
            std::string::npos)
      << b2.error().message;
}

TEST_F(CraftedTest, AbsurdSizesAndCountsRefusedBeforeAllocating) {
  auto f = frame("AAAA-btf");
  // Raw size of 1 TiB.
  std::string huge = "blob\t" + to_hex(sha256(std::string("AAAA-btf"))) + "\t" +
                     std::to_string(f.size()) + "\t1099511627776\t-\n";
  auto b = open(craft(HEAD + huge + "kernel\tu\t1\tx86_64\tr1\t0\n", {f}));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("raw size"), std::string::npos);
  // Stored size far beyond the file.
  std::string far = "blob\t" + to_hex(sha256(std::string("AAAA-btf"))) +
                    "\t4611686018427387904\t8\t-\n";
  EXPECT_FALSE(
      open(craft(HEAD + far + "kernel\tu\t1\tx86_64\tr1\t0\n", {f})).ok());
  // A delta chain deeper than the limit (33 links).
  std::string chain = HEAD;
  std::vector<std::vector<std::uint8_t>> frames;
  std::string prev;
  std::string dict;
  for (int i = 0; i < 34; i++) {
    std::string c = "blob-" + std::to_string(i);
    auto fr = *zstd_compress(as_bytes(c), as_bytes(dict), 19, true);
    chain += blob_line(c, fr.size(), i == 0 ? "-" : std::to_string(i - 1));
    frames.push_back(fr);
    dict += c;
  }
  for (int i = 0; i < 34; i++)
    chain += "kernel\tu\t1\tx86_64\tr" + std::to_string(100 + i) + "\t" +
             std::to_string(i) + "\n";
  auto deep = open(craft(chain, frames));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("deeper than 32"), std::string::npos)
      << deep.error().message;
  // A manifest frame declaring 1 TiB of content (a hand-made frame header:
  // magic, descriptor with an 8-byte content size, then the size).
  std::vector<std::uint8_t> body = {
      0x28, 0xB5, 0x2F, 0xFD, 0xE0, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0x00, 0x00};
  auto bad = *assemble_signed_bundle(body, body.size(), "c", *key_);
  auto r = open(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("limit"), std::string::npos)
      << r.error().message;
  // Preamble sizes beyond the limits or the file.
  for (std::string pre :
       {"BTFPACK 1.0 99999999 10\n", "BTFPACK 1.0 10 999999999999\n",
        "BTFPACK 1.0 300 5000\n", "BTFPACK 1.0 01 5\n", "BTFPACK 1.0 -1 5\n",
        "BTFPACK 1 300 5\n"}) {
    std::vector<std::uint8_t> bytes(pre.begin(), pre.end());
    bytes.resize(400, 'x');
    auto p = open(bytes);
    ASSERT_FALSE(p.ok()) << pre;
    EXPECT_EQ(p.error().code, Errc::corrupt) << pre << p.error().message;
  }
}

// A 6-deep delta chain of 256 MiB blobs is within the depth and per-blob
// limits but would decompress 1.5 GiB to read one blob (verify took 15 s and
// 4.2 GB): refused when the manifest is read, before any blob is touched.
TEST_F(CraftedTest, DeltaChainDecompressingPastItsBoundIsRefused) {
  std::string m = HEAD;
  std::vector<std::vector<std::uint8_t>> frames;
  const std::uint64_t raw = MAX_BLOB_RAW;
  for (int i = 0; i < 6; i++) {
    auto fr = frame("blob-" + std::to_string(i));
    m += "blob\t" + to_hex(sha256("blob-" + std::to_string(i))) + "\t" +
         std::to_string(fr.size()) + "\t" + std::to_string(raw) + "\t" +
         (i == 0 ? std::string("-") : std::to_string(i - 1)) + "\n";
    frames.push_back(fr);
  }
  for (int i = 0; i < 6; i++)
    m += "kernel\tu\t1\tx86_64\tr" + std::to_string(100 + i) + "\t" +
         std::to_string(i) + "\n";
  auto b = open(craft(m, frames));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, Errc::corrupt);
  EXPECT_NE(b.error().message.find("delta chain decompresses to"),
            std::string::npos)
      << b.error().message;
  // One blob of the full size alone is fine as far as the manifest goes.
  auto one = parse_manifest(HEAD + "blob\t" + to_hex(sha256(std::string("x"))) +
                                "\t9\t" + std::to_string(raw) +
                                "\t-\nkernel\tu\t1\tx86_64\tr1\t0\n",
                            "one");
  EXPECT_TRUE(one.ok()) << one.error().message;
}

TEST_F(CraftedTest, ManifestRulesAreEnforced) {
  auto f = frame("AAAA-btf");
  auto g = frame("CCCC-btf");
  auto a = blob_line("AAAA-btf", f.size());
  auto c = blob_line("CCCC-btf", g.size());
  struct Case {
    std::string text, expect;
  } cases[] = {
      {HEAD + a + c +
           "kernel\tu\t1\tx86_64\tr2\t0\nkernel\tu\t1\tx86_64\tr1\t1\n",
       "not strictly sorted"},
      {HEAD + a + c +
           "kernel\tu\t1\tx86_64\tr1\t0\nkernel\tu\t1\tx86_64\tr1\t1\n",
       "not strictly sorted"},
      {HEAD + a + c + "kernel\tu\t1\tx86_64\tr1\t0\n", "used by no kernel"},
      {HEAD + a + a +
           "kernel\tu\t1\tx86_64\tr1\t0\nkernel\tu\t1\tx86_64\tr2\t1\n",
       "twice"},
      {HEAD + blob_line("AAAA-btf", f.size(), "0") + c +
           "kernel\tu\t1\tx86_64\tr1\t0\nkernel\tu\t1\tx86_64\tr2\t1\n",
       "earlier blob"},
      {HEAD + a + c + "kernel\tu\t1\tx86_64\tr1\t0\nfuture\tline\n" +
           "kernel\tu\t1\tx86_64\tr2\t1\n",
       "unknown line type"},
      {HEAD + a + c +
           "kernel\tu\t1\tx86 64\tr1\t0\nkernel\tu\t1\tx86_64\tr2\t1\n",
       "invalid kernel field"},
      {"btfpack-manifest 1.0\nversion\t1\n" + a + c, "expected \"name"},
  };
  for (const auto &k : cases) {
    auto b = open(craft(k.text, {f, g}));
    ASSERT_FALSE(b.ok()) << k.expect;
    EXPECT_EQ(b.error().code, Errc::corrupt);
    EXPECT_NE(b.error().message.find(k.expect), std::string::npos)
        << k.expect << " / " << b.error().message;
  }
}

TEST_F(CraftedTest, ChunkThatLiesAboutItsKernelsIsCaught) {
  auto f = frame("AAAA-btf");
  auto z = [&](const std::string &t) {
    return *zstd_compress(as_bytes(t), {}, 19, false);
  };
  // Chunk 1 announces r3 first but starts with r4.
  auto c0 = z("kernel\tu\t1\tx86_64\tr1\t0\nkernel\tu\t1\tx86_64\tr2\t0\n");
  auto c1 = z("kernel\tu\t1\tx86_64\tr4\t0\n");
  std::string head = HEAD + blob_line("AAAA-btf", f.size()) + "chunk\t" +
                     std::to_string(c0.size()) + "\t2\tu\t1\tx86_64\tr1\n" +
                     "chunk\t" + std::to_string(c1.size()) +
                     "\t1\tu\t1\tx86_64\tr3\n";
  auto hz = z(head);
  std::vector<std::uint8_t> man = hz;
  man.insert(man.end(), c0.begin(), c0.end());
  man.insert(man.end(), c1.begin(), c1.end());
  std::vector<std::uint8_t> body = man;
  body.insert(body.end(), f.begin(), f.end());
  auto b = open(*assemble_signed_bundle(body, man.size(), "c", *key_));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_NE(b->find({"u", "1", "x86_64", "r2"}), nullptr);
  EXPECT_EQ(b->find({"u", "1", "x86_64", "r4"}), nullptr);
  auto v = b->verify_blobs();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("not the one the chunk line names"),
            std::string::npos)
      << v.error().message;
  EXPECT_EQ(b->entries().size(), 2u); // the bad chunk contributes none
}

TEST_F(CraftedTest, NewerMinorVersionSkipsUnknownLines) {
  auto f = frame("AAAA-btf");
  std::string text = HEAD + blob_line("AAAA-btf", f.size()) +
                     "kernel\tu\t1\tx86_64\tr1\t0\nfuture\tthing\n";
  text.replace(text.find("1.0"), 3, "1.9");
  auto mz = *zstd_compress(as_bytes(text), {}, 19, false);
  std::vector<std::uint8_t> body = mz;
  body.insert(body.end(), f.begin(), f.end());
  auto sig = *key_->sign(body, "crafted");
  std::string pre = "BTFPACK 1.9 " + std::to_string(sig.size()) + " " +
                    std::to_string(mz.size()) + "\n";
  std::vector<std::uint8_t> bytes(pre.begin(), pre.end());
  bytes.insert(bytes.end(), sig.begin(), sig.end());
  bytes.insert(bytes.end(), body.begin(), body.end());
  auto b = open(bytes);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->stats().format_minor, 9u);
}

// Found by the bundle_manifest fuzz target: a manifest ending right after
// its metadata lines read past the end of the text (heap-buffer-overflow).
TEST(ManifestText, MetadataOnlyManifestIsAnErrorNotAnOverflow) {
  auto r = parse_manifest(HEAD, "meta-only");
  ASSERT_TRUE(r.ok()) << r.error().message; // valid text, no kernels yet
  EXPECT_TRUE(r->kernels.empty());
  EXPECT_TRUE(r->blobs.empty());
}

TEST(ManifestText, EncodeParseRoundTrip) {
  Manifest m;
  m.meta = test::test_meta();
  std::sort(m.meta.objects.begin(), m.meta.objects.end(),
            [](const auto &a, const auto &b) { return a.name < b.name; });
  ManifestBlob b;
  b.digest = sha256(std::string_view("x"));
  b.stored = 10;
  b.raw = 20;
  m.blobs.push_back(b);
  m.kernels.push_back({"debian", "12", "x86_64", "6.1.0-47-amd64", 0});
  auto text = encode_manifest(m);
  auto p = parse_manifest(text, "t");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(encode_manifest(*p), text);
  EXPECT_EQ(p->meta.objects[1].arch, "x86_64");
}

} // namespace
} // namespace btfpack
