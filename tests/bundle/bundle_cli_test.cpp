// SPDX-License-Identifier: Apache-2.0
//
// The bundle commands end to end (keygen, sign, verify, inspect), and the
// standard-tools verification steps of docs/bundle-format.md, run verbatim
// with Debian's minisign and zstd.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "bundle_fixture.h"
#include "test_util.h"

namespace btfpack {
namespace {

using test::cli_path;
using test::run;
using test::TempDir;
namespace fs = std::filesystem;

class BundleCliTest : public ::testing::Test {
protected:
  void SetUp() override {
    SKIP_UNLESS_MINIMIZED_CORPUS();
    btfs_ = &test::minimized_corpus(5);
  }
  test::CmdResult btfpack(std::vector<std::string> args) {
    args.insert(args.begin(), cli_path().string());
    return run(args);
  }
  // unsigned_bundle writes an unsigned bundle of the fixture's kernels.
  void write_unsigned(const fs::path &p, BundleMeta meta = test::test_meta()) {
    BundleWriter w(meta);
    for (const auto &m : *btfs_)
      ASSERT_TRUE(w.add(m.kernel, m.btf).ok());
    auto bytes = w.serialize_unsigned();
    ASSERT_TRUE(bytes.ok());
    test::write_bytes(p, *bytes);
  }
  const std::vector<test::MinimizedBtf> *btfs_ = nullptr;
};

TEST_F(BundleCliTest, KeygenSignVerifyInspect) {
  TempDir tmp;
  auto kg = btfpack({"keygen", "--out", (tmp / "k").string()});
  ASSERT_EQ(kg.status, 0) << kg.err;
  struct stat st {};
  ASSERT_EQ(::stat((tmp / "k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(fs::exists(tmp / "k.pub"));
  // Refuses to overwrite without --force.
  EXPECT_NE(btfpack({"keygen", "--out", (tmp / "k").string()}).status, 0);
  auto id = key_id_hex(PublicKey::read_file(tmp / "k.pub")->id());

  write_unsigned(tmp / "b.btfpack");
  auto v0 = btfpack({"verify", (tmp / "b.btfpack").string(), "--key",
                     (tmp / "k.pub").string()});
  EXPECT_EQ(v0.status, 1);
  EXPECT_NE(v0.err.find("not signed"), std::string::npos) << v0.err;

  auto s = btfpack(
      {"sign", (tmp / "b.btfpack").string(), "--key", (tmp / "k").string()});
  ASSERT_EQ(s.status, 0) << s.err;
  auto v = btfpack({"verify", (tmp / "b.btfpack").string(), "--key",
                    (tmp / "k.pub").string()});
  ASSERT_EQ(v.status, 0) << v.err;
  EXPECT_NE(v.out.find("signed by key " + id), std::string::npos) << v.out;

  // Two trusted keys, one matching; and JSON.
  ASSERT_EQ(btfpack({"keygen", "--out", (tmp / "other").string()}).status, 0);
  auto vj = btfpack({"-j", "verify", (tmp / "b.btfpack").string(), "--key",
                     (tmp / "other.pub").string(), "--key",
                     (tmp / "k.pub").string()});
  ASSERT_EQ(vj.status, 0) << vj.err << vj.out;
  auto j = nlohmann::json::parse(vj.out);
  EXPECT_EQ(j["signer"], id);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["kernels"], btfs_->size());

  // Wrong key only: refused, naming the signer's key id.
  auto vw = btfpack({"-j", "verify", (tmp / "b.btfpack").string(), "--key",
                     (tmp / "other.pub").string()});
  EXPECT_EQ(vw.status, 1);
  auto jw = nlohmann::json::parse(vw.out);
  EXPECT_EQ(jw["code"], "bad_signature");
  EXPECT_NE(jw["error"].get<std::string>().find(id), std::string::npos);

  // inspect, verified and not.
  auto in = btfpack({"-j", "inspect", (tmp / "b.btfpack").string(), "--key",
                     (tmp / "k.pub").string()});
  ASSERT_EQ(in.status, 0) << in.err;
  auto ji = nlohmann::json::parse(in.out);
  EXPECT_EQ(ji["verified"], true);
  EXPECT_EQ(ji["signer"], id);
  EXPECT_EQ(ji["name"], "test-agent");
  EXPECT_EQ(ji["kernels"], btfs_->size());
  EXPECT_EQ(ji["objects"].size(), 2u);
  std::size_t sum = 0;
  for (const auto &g : ji["groups"])
    sum += g["kernels"].get<std::size_t>();
  EXPECT_EQ(sum, btfs_->size());
  EXPECT_GE(ji["dedup_ratio"].get<double>(), 1.0);
  EXPECT_EQ(ji["sizes"]["file"], fs::file_size(tmp / "b.btfpack"));
  auto iu = btfpack({"inspect", (tmp / "b.btfpack").string()});
  ASSERT_EQ(iu.status, 0) << iu.err;
  EXPECT_NE(iu.out.find("UNVERIFIED"), std::string::npos);
  auto ip = btfpack({"inspect", (tmp / "b.btfpack").string(), "--key",
                     (tmp / "k.pub").string()});
  EXPECT_EQ(ip.out.find("UNVERIFIED"), std::string::npos);
  EXPECT_NE(ip.out.find("debian/12/x86_64"), std::string::npos) << ip.out;
}

TEST_F(BundleCliTest, ExpiredNeedsAllowExpired) {
  TempDir tmp;
  ASSERT_EQ(btfpack({"keygen", "--out", (tmp / "k").string()}).status, 0);
  auto meta = test::test_meta();
  meta.created = 1000000000;
  meta.expires = 1000000001; // long past
  write_unsigned(tmp / "b.btfpack", meta);
  ASSERT_EQ(btfpack({"sign", (tmp / "b.btfpack").string(), "--key",
                     (tmp / "k").string()})
                .status,
            0);
  auto v = btfpack({"-j", "verify", (tmp / "b.btfpack").string(), "--key",
                    (tmp / "k.pub").string()});
  EXPECT_EQ(v.status, 1);
  EXPECT_EQ(nlohmann::json::parse(v.out)["code"], "expired");
  auto va = btfpack({"verify", (tmp / "b.btfpack").string(), "--key",
                     (tmp / "k.pub").string(), "--allow-expired"});
  EXPECT_EQ(va.status, 0) << va.err;
  EXPECT_NE(va.out.find("EXPIRED"), std::string::npos);
}

// verify_steps returns the shell block of docs/bundle-format.md.
std::string verify_steps() {
  std::ifstream f(test::source_dir() / "docs" / "bundle-format.md");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string doc = ss.str();
  auto b = doc.find("<!-- verify-steps:begin -->");
  auto e = doc.find("<!-- verify-steps:end -->");
  if (b == std::string::npos || e == std::string::npos)
    return "";
  std::string block = doc.substr(b, e - b);
  auto s = block.find("```bash\n");
  auto t = block.rfind("```");
  return block.substr(s + 8, t - s - 8);
}

TEST_F(BundleCliTest, StandardToolsVerifyEveryByteAsDocumented) {
  if (run({"sh", "-c", "command -v minisign && command -v zstd"}).status != 0)
    GTEST_SKIP() << "minisign or zstd not installed";
  std::string steps = verify_steps();
  ASSERT_FALSE(steps.empty()) << "no verify-steps block in the docs";
  TempDir tmp;
  auto key = *SecretKey::generate();
  ASSERT_TRUE(write_key_pair(key, tmp / "key").ok());
  test::write_bytes(tmp / "bundle.btfpack", test::make_bundle(*btfs_, key));
  ASSERT_TRUE(write_file_atomic(tmp / "steps.sh", steps).ok());
  auto r =
      run({"bash", "-c", "cd " + tmp.path().string() + " && bash steps.sh"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Signature and comment signature verified"),
            std::string::npos)
      << r.out;
  // Every kernel's extracted file is its minimized BTF, byte for byte.
  std::ifstream kernels(tmp / "kernels.txt");
  std::map<std::string, std::string> file_of;
  std::string name, file, digest;
  while (kernels >> name >> file >> digest)
    file_of[name] = file;
  ASSERT_EQ(file_of.size(), btfs_->size());
  for (const auto &m : *btfs_) {
    auto k = m.kernel.distro + "/" + m.kernel.version + "/" + m.kernel.arch +
             "/" + m.kernel.release + ".btf";
    ASSERT_TRUE(file_of.contains(k)) << k;
    EXPECT_EQ(*read_file(tmp / file_of[k]), m.btf) << k;
  }

  // A chunked manifest (more than 1024 kernels) reads the same way.
  {
    TempDir big;
    BundleWriter w(test::test_meta());
    for (int n = 0; n < 1500; n++) {
      const auto &m = (*btfs_)[static_cast<std::size_t>(n) % btfs_->size()];
      KernelKey k = m.kernel;
      k.release += "+r" + std::to_string(n);
      ASSERT_TRUE(w.add(k, m.btf).ok());
    }
    ASSERT_TRUE(w.write(big / "bundle.btfpack", key).ok());
    ASSERT_TRUE(write_key_pair(key, big / "key").ok());
    ASSERT_TRUE(write_file_atomic(big / "steps.sh", steps).ok());
    auto rb =
        run({"bash", "-c", "cd " + big.path().string() + " && bash steps.sh"});
    ASSERT_EQ(rb.status, 0) << rb.out << rb.err;
    EXPECT_NE(rb.out.find("verified 1500 kernels"), std::string::npos)
        << rb.out;
  }

  // The same steps fail on a tampered body, at the minisign step.
  auto bytes = *read_file(tmp / "bundle.btfpack");
  bytes[bytes.size() - 3] ^= 1;
  test::write_bytes(tmp / "bundle.btfpack", bytes);
  fs::remove_all(tmp / "blobs");
  auto bad =
      run({"bash", "-c", "cd " + tmp.path().string() + " && bash steps.sh"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("Signature verification failed"), std::string::npos)
      << bad.err;
}

} // namespace
} // namespace btfpack
