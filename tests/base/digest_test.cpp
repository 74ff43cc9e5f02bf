// SPDX-License-Identifier: Apache-2.0
//
// Digest over EVP and the git blob ids built on it, checked against real
// git (`git hash-object` in a SHA-1 and in a SHA-256 repository) and
// against `openssl dgst`.
#include <gtest/gtest.h>

#include "btfpack/archive_index.h"
#include "btfpack/digest.h"
#include "btfpack/file_util.h"
#include "btfpack/sha256.h"
#include "test_util.h"

using namespace btfpack;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> sample(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; i++)
    v[i] = static_cast<std::uint8_t>(i * 31 + 7);
  return v;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

// git_hash_object runs `git hash-object` on file inside a fresh repository
// of the given object format.
std::string git_hash_object(const fs::path &repo, const fs::path &file,
                            const char *format) {
  auto init =
      test::run({"git", "init", "-q", std::string("--object-format=") + format,
                 repo.string()});
  EXPECT_EQ(init.status, 0) << init.err;
  auto h = test::run(
      {"git", "-C", repo.string(), "hash-object", "--", file.string()});
  EXPECT_EQ(h.status, 0) << h.err;
  return trimmed(h.out);
}

} // namespace

TEST(Digest, GitBlobIdsMatchGitHashObjectInSha1AndSha256Repositories) {
  test::TempDir t;
  for (std::size_t n : {0u, 1u, 255u, 256u * 1024 + 3}) {
    fs::path f = t / ("blob" + std::to_string(n));
    auto data = sample(n);
    ASSERT_TRUE(write_file_atomic(f, data, Durability::none).ok());
    std::string want1 =
        git_hash_object(t / ("r1-" + std::to_string(n)), f, "sha1");
    std::string want256 =
        git_hash_object(t / ("r256-" + std::to_string(n)), f, "sha256");
    ASSERT_EQ(want1.size(), 40u);
    ASSERT_EQ(want256.size(), 64u);

    EXPECT_EQ(*git_blob_id(data, GitObjectFormat::sha1), want1) << n;
    EXPECT_EQ(*git_blob_id(data, GitObjectFormat::sha256), want256) << n;
    EXPECT_EQ(*git_blob_id_file(f), want1) << n;
    EXPECT_EQ(*git_blob_id_file(f, GitObjectFormat::sha256), want256) << n;
    EXPECT_EQ(git_object_format_of(want256), GitObjectFormat::sha256);
    EXPECT_EQ(git_object_format_of(want1), GitObjectFormat::sha1);
  }
}

TEST(Digest, AllAlgorithmsMatchOpensslDgstInAnyPieces) {
  test::TempDir t;
  auto data = sample(3 * 4096 + 77);
  fs::path f = t / "data";
  ASSERT_TRUE(write_file_atomic(f, data, Durability::none).ok());
  for (auto [algo, name] : {std::pair{DigestAlgo::sha256, "-sha256"},
                            std::pair{DigestAlgo::sha1, "-sha1"},
                            std::pair{DigestAlgo::blake2b512, "-blake2b512"}}) {
    auto r = test::run({"openssl", "dgst", name, "-r", f.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string want = r.out.substr(0, r.out.find(' '));
    ASSERT_EQ(want.size(), 2 * digest_size(algo)) << name;
    for (std::size_t piece : {1u, 127u, 4096u, 100000u}) {
      Digest d(algo);
      for (std::size_t off = 0; off < data.size(); off += piece)
        d.update(data.data() + off, std::min(piece, data.size() - off));
      auto hex = d.finish_hex();
      ASSERT_TRUE(hex.ok()) << hex.error().message;
      EXPECT_EQ(*hex, want) << name << " in pieces of " << piece;
    }
    EXPECT_EQ(to_hex(*digest_of(algo, data)), want) << name;
  }
  EXPECT_EQ(to_hex(*sha256_file(f)), to_hex(sha256(data)));
}

TEST(Digest, ASpentOrMovedFromDigestIsAnErrorNotAWrongValue) {
  Digest d(DigestAlgo::sha256);
  d.update("abc");
  Digest moved = std::move(d);
  auto gone = d.finish();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, Errc::internal);
  EXPECT_NE(gone.error().message.find("SHA2-256"), std::string::npos)
      << gone.error().message;
  EXPECT_EQ(*moved.finish_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(moved.finish().ok()); // spent
}
