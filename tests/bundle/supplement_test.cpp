// SPDX-License-Identifier: Apache-2.0
//
// Supplements (docs/bundle-format.md "Supplements"): format 1.1's
// supplement_of line, check_supplement's refusals, BundleSet's newest-wins
// view, and resolve/explain consulting a base and its supplements. Real
// minimized BTFs of the shared corpus, real keys.
#include <gtest/gtest.h>

#include "btfpack/file_util.h"
#include "btfpack/runtime.h"
#include "btfpack/supplement.h"
#include "bundle_fixture.h"
#include "bundle_format.h"
#include "test_util.h"

namespace btfpack {
namespace {

namespace fs = std::filesystem;
using test::MinimizedBtf;

class SupplementTest : public ::testing::Test {
protected:
  void SetUp() override {
    SKIP_UNLESS_MINIMIZED_CORPUS();
    btfs_ = &test::minimized_corpus(5);
    ASSERT_GE(btfs_->size(), 4u);
    key_ = std::make_unique<SecretKey>(*SecretKey::generate());
    other_ = std::make_unique<SecretKey>(*SecretKey::generate());
    for (auto [k, name] : {std::pair{key_.get(), "vendor-a.pub"},
                           std::pair{other_.get(), "vendor-b.pub"}}) {
      std::string text = k->public_key().to_minisign();
      test::write_bytes(tmp_ / name,
                        std::vector<std::uint8_t>(text.begin(), text.end()));
      pubs_.push_back(tmp_ / name);
      trusted_.push_back(k->public_key());
    }
    // The base lacks the corpus's last kernel.
    std::vector<MinimizedBtf> base(btfs_->begin(), btfs_->end() - 1);
    test::write_bytes(base_path(), test::make_bundle(base, *key_));
  }
  fs::path base_path() { return tmp_ / "base.btfpack"; }
  const MinimizedBtf &late() { return btfs_->back(); }
  Bundle open(const fs::path &p) {
    auto b = Bundle::open(p, trusted_);
    EXPECT_TRUE(b.ok()) << b.error().message;
    return std::move(*b);
  }
  // supp_meta is the metadata of a supplement of the base.
  BundleMeta supp_meta(std::uint64_t version = 8) {
    Bundle base = open(base_path());
    BundleMeta m = test::test_meta();
    m.version = version;
    m.supplement_of = SupplementOf{m.name, base.meta().version,
                                   *parse_sha256_hex(base.manifest_sha256())};
    return m;
  }
  fs::path write_supp(const std::string &name,
                      const std::vector<MinimizedBtf> &btfs,
                      const BundleMeta &meta, const SecretKey &key) {
    test::write_bytes(tmp_ / name, test::make_bundle(btfs, key, meta));
    return tmp_ / name;
  }
  // options resolve the late kernel with base + supplements.
  ResolveOptions options(std::vector<fs::path> supplements) {
    ResolveOptions o;
    o.bundle = base_path();
    o.supplements = std::move(supplements);
    o.keys = pubs_;
    const auto &k = late().kernel;
    o.host.kernel_release = k.release;
    o.host.machine = k.arch;
    o.host.os_id = k.distro;
    o.host.os_version_id = k.version;
    o.host.os_id_like = "";
    o.host.native_btf = false;
    o.host.os_release_file = tmp_ / "no-os-release";
    o.handoff = HandOff::none;
    return o;
  }

  test::TempDir tmp_;
  const std::vector<MinimizedBtf> *btfs_ = nullptr;
  std::unique_ptr<SecretKey> key_, other_;
  std::vector<fs::path> pubs_;
  std::vector<PublicKey> trusted_;
};

TEST_F(SupplementTest, WrittenAsFormat11OnlyWhenASupplement) {
  auto p = write_supp("s.btfpack", {late()}, supp_meta(), *key_);
  auto bytes = *read_file(p, 1u << 30);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 12), "BTFPACK 1.1 ");
  auto base_bytes = *read_file(base_path(), 1u << 30);
  EXPECT_EQ(std::string(base_bytes.begin(), base_bytes.begin() + 12),
            "BTFPACK 1.0 ");
  Bundle s = open(p);
  EXPECT_EQ(s.stats().format_minor, 1u);
  ASSERT_TRUE(s.meta().supplement_of.has_value());
  EXPECT_EQ(*s.meta().supplement_of, *supp_meta().supplement_of);
  EXPECT_EQ(to_hex(s.meta().supplement_of->base_manifest),
            open(base_path()).manifest_sha256());
  EXPECT_FALSE(open(base_path()).meta().supplement_of.has_value());
}

TEST_F(SupplementTest, SupplementAddsAKernelTheBaseLacksAndResolveFindsIt) {
  // Without the supplement the late kernel is not found.
  auto miss = resolve(options({}));
  ASSERT_FALSE(miss.ok());
  EXPECT_EQ(miss.error().code, Errc::no_match) << miss.error().message;

  auto sp = write_supp("s.btfpack", {late()}, supp_meta(), *key_);
  auto r = resolve(options({sp}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->digest, sha256(late().btf));
  EXPECT_NE(r->source.find("supplement \"test-agent\" version 8"),
            std::string::npos)
      << r->source;
  EXPECT_NE(r->source.find(sp.string()), std::string::npos);

  auto x = explain(options({sp}));
  ASSERT_FALSE(x.error) << x.error->message;
  ASSERT_EQ(x.r.bundle.supplements.size(), 1u);
  EXPECT_NE(x.r.bundle.supplements[0].find("version 8"), std::string::npos);
  bool won = false;
  for (const auto &c : x.r.decision.candidates)
    if (c.won) {
      won = true;
      EXPECT_EQ(c.entry.kernel, late().kernel);
      EXPECT_EQ(c.source.rfind("supplement ", 0), 0u) << c.source;
    } else {
      EXPECT_EQ(c.source.rfind("base ", 0), 0u) << c.source;
    }
  EXPECT_TRUE(won);
}

TEST_F(SupplementTest, NewestSupplementWinsForAKernelInSeveral) {
  const auto &k = (*btfs_)[0];
  // Version 8 gives kernel 0 another kernel's BTF; version 9 the late one's.
  MinimizedBtf v8{k.kernel, (*btfs_)[1].btf}, v9{k.kernel, late().btf};
  auto s8 = write_supp("s8.btfpack", {v8}, supp_meta(8), *key_);
  auto s9 = write_supp("s9.btfpack", {v9}, supp_meta(9), *key_);
  BundleSet set(open(base_path()));
  // Added out of order: the version decides, not the order.
  ASSERT_TRUE(set.add_supplement(open(s9)).ok());
  ASSERT_TRUE(set.add_supplement(open(s8)).ok());
  ASSERT_NE(set.find(k.kernel), nullptr);
  EXPECT_EQ(set.find(k.kernel)->blob, sha256(late().btf));
  EXPECT_NE(set.source(k.kernel).label.find("version 9"), std::string::npos);
  EXPECT_EQ(set.entries().size(), btfs_->size() - 1);
  for (const auto &e : set.entries()) {
    if (e.kernel == k.kernel) {
      EXPECT_EQ(e.blob, sha256(late().btf));
    }
  }
  auto blob = set.read_blob(*set.find(k.kernel));
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  EXPECT_EQ(*blob, late().btf);
  // A second supplement of an existing version is refused.
  auto again = set.add_supplement(open(s8));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("both have version 8"),
            std::string::npos);
}

TEST_F(SupplementTest, SupplementSignedByAnotherKeyIsRefused) {
  // Both vendors' keys are trusted on the host; the supplement of vendor
  // A's bundle is signed by vendor B.
  auto sp = write_supp("s.btfpack", {late()}, supp_meta(), *other_);
  auto r = resolve(options({sp}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_signature);
  const auto &m = r.error().message;
  EXPECT_NE(m.find(key_id_hex(other_->id())), std::string::npos) << m;
  EXPECT_NE(m.find(key_id_hex(key_->id())), std::string::npos) << m;
  EXPECT_NE(m.find("not trusted for bundle \"test-agent\""), std::string::npos)
      << m;
  // A key bound to the name is accepted.
  KeyId bound = other_->id();
  EXPECT_TRUE(check_supplement(open(base_path()), open(sp),
                               std::span<const KeyId>(&bound, 1))
                  .ok());
}

TEST_F(SupplementTest, SupplementWhoseObjectsDifferIsRefused) {
  BundleMeta m = supp_meta();
  m.objects[0].digest = sha256(std::string_view("another build"));
  auto sp = write_supp("s.btfpack", {late()}, m, *key_);
  auto r = resolve(options({sp}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::stale);
  const auto &msg = r.error().message;
  EXPECT_NE(msg.find("objects differ"), std::string::npos) << msg;
  EXPECT_NE(msg.find(base_path().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find(sp.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find(to_hex(m.objects[0].digest).substr(0, 12)),
            std::string::npos)
      << msg;
}

TEST_F(SupplementTest, SupplementOfAnotherBaseIsRefused) {
  BundleMeta m = supp_meta();
  m.supplement_of->base_manifest = sha256(std::string_view("rebuilt base"));
  auto sp = write_supp("s.btfpack", {late()}, m, *key_);
  auto r = resolve(options({sp}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::stale);
  EXPECT_NE(r.error().message.find(to_hex(m.supplement_of->base_manifest)),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find(open(base_path()).manifest_sha256()),
            std::string::npos);

  // Not newer than the base, another name, not a supplement at all.
  auto old = write_supp("old.btfpack", {late()}, supp_meta(7), *key_);
  auto e = check_supplement(open(base_path()), open(old));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("not newer"), std::string::npos);
  BundleMeta other = supp_meta();
  other.name = "other-agent";
  auto on = write_supp("on.btfpack", {late()}, other, *key_);
  EXPECT_EQ(check_supplement(open(base_path()), open(on)).error().code,
            Errc::invalid_argument);
  auto plain = check_supplement(open(base_path()), open(base_path()));
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("is not a supplement"),
            std::string::npos);
}

TEST_F(SupplementTest, DiffEntriesOnRealBundles) {
  // NEW: the base without kernel 0, kernel 1 with another BTF, the late
  // kernel added.
  std::vector<MinimizedBtf> next(btfs_->begin() + 1, btfs_->end());
  // Kernel 1 gets the BTF of the first kernel whose BTF differs from its.
  const MinimizedBtf *other = nullptr;
  for (const auto &m : *btfs_)
    if (!other && sha256(m.btf) != sha256((*btfs_)[1].btf))
      other = &m;
  ASSERT_NE(other, nullptr) << "every corpus kernel has one BTF";
  next[0].btf = other->btf;
  auto np = write_supp("next.btfpack", next, test::test_meta(), *key_);
  auto d = diff_entries(open(base_path()).entries(), open(np).entries());
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].kernel, late().kernel);
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(d.removed[0].kernel, (*btfs_)[0].kernel);
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].kernel, (*btfs_)[1].kernel);
  EXPECT_EQ(d.changed[0].old_blob, sha256((*btfs_)[1].btf));
  EXPECT_EQ(d.changed[0].new_blob, sha256(other->btf));
  // Base: kernels 0..n-2; NEW: 1..n-1. Unchanged: 2..n-2.
  EXPECT_EQ(d.unchanged, btfs_->size() - 3);
  EXPECT_TRUE(
      diff_entries(open(base_path()).entries(), open(base_path()).entries())
          .empty());
}

} // namespace
} // namespace btfpack

namespace btfpack {
namespace {

// The supplement_of line as the parser sees it: only in 1.1, once, before
// the objects, with a canonical digest; each refusal says which rule.
TEST(SupplementManifest, MalformedSupplementOfLinesAreRefused) {
  const std::string d(64, 'a');
  auto head = [](const std::string &version) {
    return "btfpack-manifest " + version +
           "\nname\tt\nversion\t2\ncreated\t1\nexpires\t0\nbtfpack\t\n"
           "bpftool\t\nsnapshot\t\n";
  };
  const std::string tail = "blob\t" + std::string(64, 'b') +
                           "\t5\t5\t-\nkernel\tdebian\t12\tx86_64\t6.1\t0\n";
  auto good = detail::parse_manifest(
      head("1.1") + "supplement_of\tt\t1\t" + d + "\n" + tail, "m");
  ASSERT_TRUE(good.ok()) << good.error().message;
  ASSERT_TRUE(good->meta.supplement_of.has_value());
  EXPECT_EQ(good->meta.supplement_of->version, 1u);
  EXPECT_EQ(to_hex(good->meta.supplement_of->base_manifest), d);
  const std::string obj = "object\ta.o\t-\t" + std::string(64, 'c') + "\n";
  for (const auto &[text, why] :
       std::vector<std::pair<std::string, std::string>>{
           {head("1.0") + "supplement_of\tt\t1\t" + d + "\n" + tail,
            "unknown line type \"supplement_of\""},
           {head("1.1") + "supplement_of\tt\t1\t" + d +
                "\nsupplement_of\tt\t1\t" + d + "\n" + tail,
            "listed twice"},
           {head("1.1") + obj + "supplement_of\tt\t1\t" + d + "\n" + tail,
            "after \"object\""},
           {head("1.1") + "supplement_of\tt\t1\t" + std::string(64, 'A') +
                "\n" + tail,
            "64 lowercase hex digits"},
           {head("1.1") + "supplement_of\tt\t01\t" + d + "\n" + tail,
            "version is not a number"},
           {head("1.1") + "supplement_of\tt\t1\n" + tail, "expected"}}) {
    auto m = detail::parse_manifest(text, "m");
    ASSERT_FALSE(m.ok()) << text;
    EXPECT_EQ(m.error().code, Errc::corrupt);
    EXPECT_NE(m.error().message.find(why), std::string::npos)
        << m.error().message;
  }
}

} // namespace
} // namespace btfpack
