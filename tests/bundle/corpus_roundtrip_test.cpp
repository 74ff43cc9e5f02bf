// SPDX-License-Identifier: Apache-2.0
//
// Every corpus kernel (105), minimized for the project's CO-RE objects,
// through a bundle and back; and the size target against `tar -cJf` of the
// same files.
#include <gtest/gtest.h>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "bundle_fixture.h"
#include "test_util.h"

namespace btfpack {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

TEST(CorpusRoundTrip, AllKernelsBackByteForByteAndSizeTarget) {
  SKIP_UNLESS_CORPUS(); // the whole corpus: its 105 kernels
  SKIP_UNLESS_MINIMIZED_CORPUS();
  const auto &btfs = test::minimized_corpus(1);
  ASSERT_EQ(btfs.size(), 105u);
  auto key = *SecretKey::generate();
  auto bytes = test::make_bundle(btfs, key);
  std::vector<PublicKey> trusted{key.public_key()};
  auto b = Bundle::open_memory(bytes, "corpus.btfpack", trusted);
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_TRUE(b->verify_blobs().ok());
  for (const auto &m : btfs) {
    const auto *e = b->find(m.kernel);
    ASSERT_NE(e, nullptr) << m.kernel.release;
    auto blob = b->read_blob(e->blob);
    ASSERT_TRUE(blob.ok()) << blob.error().message;
    EXPECT_EQ(*blob, m.btf) << m.kernel.release;
  }
  // Size: at most 1.1 x `tar -cJf` of the same files + 1 KiB, the files in
  // the custom-archive layout and tar run over the directory, as projects
  // ship them (libbpf-tools' Makefile.btfgen). The stricter form, tar over
  // the file list alone (no directory entries), is measured too and
  // recorded by bench/bundle_bench.sh.
  TempDir tmp;
  for (const auto &m : btfs) {
    fs::path rel = fs::path(m.kernel.distro) / m.kernel.version /
                   m.kernel.arch / (m.kernel.release + ".btf");
    fs::create_directories((tmp / "min" / rel).parent_path());
    test::write_bytes(tmp / "min" / rel, m.btf);
  }
  auto t = test::sh("tar -cJf " + (tmp / "min.tar.xz").string() + " -C " +
                    (tmp / "min").string() + " .");
  ASSERT_EQ(t.status, 0) << t.err;
  auto txz = fs::file_size(tmp / "min.tar.xz");
  RecordProperty("bundle_bytes", std::to_string(bytes.size()));
  RecordProperty("tar_xz_bytes", std::to_string(txz));
  EXPECT_LE(static_cast<double>(bytes.size()),
            1.1 * static_cast<double>(txz) + 1024)
      << "bundle " << bytes.size() << " B vs tar.xz " << txz << " B";
}

} // namespace
} // namespace btfpack
