// SPDX-License-Identifier: Apache-2.0
//
// The bpf/ programs must be loadable on the archive's kernels (4.14 and
// later): for each kernel, every CO-RE relocation must resolve except the
// alternatives the programs pick between at load time (state/__state,
// pid_link/thread_pid). Checked with bpftool's own resolution (-d log).
#include "relo_coverage.h"
#include "test_util.h"

#include <gtest/gtest.h>

namespace btfpack::test {
namespace {

struct Kernel {
  std::string root; // "sample", "data" (committed), "corpus" or "kernels"
  std::string path; // btfhub-layout path without .btf.tar.xz
  std::string arch; // objects to use
};

void PrintTo(const Kernel &k, std::ostream *os) {
  *os << k.root << ":" << k.path << " (" << k.arch << ")";
}

fs::path tarball(const Kernel &k) {
  if (k.root == "sample")
    return sample_archive() / (k.path + ".btf.tar.xz");
  if (k.root == "data")
    return data_dir() / "kernels" / (k.path + ".btf.tar.xz");
  if (k.root == "corpus")
    return corpus_archive() / (k.path + ".btf.tar.xz");
  return fs::path(BTFPACK_SHARED_DIR) / "kernels" / (k.path + ".btf.tar.xz");
}

class ReloCoverageTest : public ::testing::TestWithParam<Kernel> {};

TEST_P(ReloCoverageTest, EveryNeededRelocationResolves) {
  const auto &k = GetParam();
  const bool committed = k.root == "sample" || k.root == "data";
  if (!committed)
    SKIP_UNLESS_CORPUS();
  auto tar = tarball(k);
  // tests/data is committed: a missing file there is a broken checkout,
  // never a reason to skip.
  if (committed)
    ASSERT_TRUE(fs::exists(tar)) << tar << " is committed but missing";
  else if (!fs::exists(tar))
    GTEST_SKIP() << tar << " not found";
  TempDir tmp;
  auto x = run({"tar", "-xJf", tar.string(), "-C", tmp.path().string()});
  ASSERT_EQ(x.status, 0) << x.err;
  auto btf = tmp / (fs::path(k.path).filename().string() + ".btf");
  ASSERT_TRUE(fs::exists(btf)) << btf;
  auto cov = relo_coverage(btf, k.arch, tmp.path());
  EXPECT_EQ(check_relo_coverage(cov), "") << k.path;
  std::string unresolved;
  for (const auto &d : cov.unresolved)
    unresolved += d + "; ";
  RecordProperty("unresolved", unresolved);
}

std::string name(const ::testing::TestParamInfo<Kernel> &p) {
  auto s = p.param.root + "_" + fs::path(p.param.path).filename().string();
  for (auto &c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return s;
}

// The committed sample kernels and the arm64 BTF-less VM kernel's BTF
// (tests/data), one kernel per distro, version and arch of
// ../shared/corpus, oldest first, and the x86_64 BTF-less VM kernel's
// separately made BTF.
INSTANTIATE_TEST_SUITE_P(
    Kernels, ReloCoverageTest,
    ::testing::Values(
        Kernel{"sample", "debian/11/x86_64/5.10.0-32-amd64", "x86_64"},
        Kernel{"sample", "debian/12/arm64/6.1.0-55-arm64", "arm64"},
        Kernel{"data", "nobtf-6.1-arm64/6.1.192", "arm64"},
        Kernel{"corpus", "amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64", "x86_64"},
        Kernel{"corpus", "amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64",
               "x86_64"},
        Kernel{"corpus", "ubuntu/18.04/x86_64/4.15.0-1054-aws", "x86_64"},
        Kernel{"corpus", "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64",
               "arm64"},
        Kernel{"corpus",
               "bclinux/21.10U3/x86_64/"
               "4.19.90-2107.6.0.0248.35.oe1.bclinux.x86_64",
               "x86_64"},
        Kernel{"corpus", "kylin/V10/aarch64/4.19.90-24.4.v2101.ky10.aarch64",
               "arm64"},
        Kernel{"corpus", "ubuntu/20.04/x86_64/5.4.0-1029-aws", "x86_64"},
        Kernel{"corpus", "android/12/arm64/a12-5.10-2021-09-arm64", "arm64"},
        Kernel{"corpus", "android/13/arm64/a13-5.10-2022-04-arm64", "arm64"},
        Kernel{"corpus", "debian/12/x86_64/6.12.115+deb12-amd64", "x86_64"},
        Kernel{"corpus", "debian/12/arm64/6.12.115+deb12-arm64", "arm64"},
        Kernel{"kernels", "nobtf-6.1/6.1.192", "x86_64"}),
    name);

} // namespace
} // namespace btfpack::test
