// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <bpf/btf.h>
#include <cstring>

#include "btfpack/btf_check.h"
#include "btfpack/c_free.h"
#include "btfpack/file_util.h"
#include "test_util.h"

using namespace btfpack;
namespace fs = std::filesystem;

namespace {

using BtfPtr = CHandle<struct btf, btf__free>;

// small_btf: int, int *, struct s { int *p; } built by libbpf itself.
std::vector<std::uint8_t> small_btf() {
  BtfPtr b(btf__new_empty());
  int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  int p = btf__add_ptr(b.get(), i);
  btf__add_struct(b.get(), "s", 8);
  btf__add_field(b.get(), "p", p, 0, 0);
  std::uint32_t sz = 0;
  auto *raw = static_cast<const std::uint8_t *>(btf__raw_data(b.get(), &sz));
  return {raw, raw + sz};
}

void put32(std::vector<std::uint8_t> &v, std::size_t off, std::uint32_t x) {
  std::memcpy(v.data() + off, &x, 4);
}

TEST(BtfCheck, AcceptsLibbpfOutput) {
  auto b = small_btf();
  auto r = check_btf(b, "small");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->types, 3u);
}

TEST(BtfCheck, OutOfRangeTypeIdIsRefused) {
  // The libbpf 1.1.2 segfault: a pointer to a type that does not exist.
  auto b = small_btf();
  // header 24 + int (12 + 4) + ptr's name_off, info: its type at 24+16+8.
  put32(b, 24 + 16 + 8, 9999);
  auto r = check_btf(b, "bad-ptr");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_NE(r.error().message.find("refers to type 9999, only 3 exist"),
            std::string::npos)
      << r.error().message;
}

TEST(BtfCheck, BadMemberTypeAndNameOffset) {
  auto b = small_btf();
  // struct at 24+16+12; its member after 12 bytes: name_off, type, offset.
  std::size_t member = 24 + 16 + 12 + 12;
  auto c = b;
  put32(c, member + 4, 77);
  EXPECT_FALSE(check_btf(c, "m").ok());
  auto d = b;
  put32(d, member, 0xffffff);
  auto r = check_btf(d, "n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("name offset"), std::string::npos);
}

TEST(BtfCheck, HeaderProblems) {
  auto b = small_btf();
  EXPECT_FALSE(check_btf({b.data(), 10}, "short").ok());
  auto m = b;
  m[0] = 0;
  EXPECT_NE(check_btf(m, "magic").error().message.find("magic"),
            std::string::npos);
  auto h = b;
  put32(h, 4, 0x1000); // hdr_len (little-endian u32 at 4: version,flags,len)
  h[2] = 1;
  h[3] = 0;
  EXPECT_FALSE(check_btf(h, "hdr_len").ok());
  auto t = b;
  t.resize(t.size() - 8); // strings cut short
  EXPECT_FALSE(check_btf(t, "truncated").ok());
  auto k = b;
  put32(k, 24 + 4, 31u << 24); // int's info: kind 31
  EXPECT_NE(check_btf(k, "kind").error().message.find("unknown kind"),
            std::string::npos);
}

TEST(BtfCheck, EmptyAndGarbage) {
  std::vector<std::uint8_t> empty;
  EXPECT_FALSE(check_btf(empty, "empty").ok());
  std::vector<std::uint8_t> junk(4096, 0xAB);
  EXPECT_FALSE(check_btf(junk, "junk").ok());
}

TEST(BtfCheck, RealKernelBtf) {
  if (!fs::exists("/sys/kernel/btf/vmlinux"))
    GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
  auto data = read_file("/sys/kernel/btf/vmlinux");
  ASSERT_TRUE(data.ok());
  auto r = check_btf(*data, "vmlinux");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GT(r->types, 10000u);
}

TEST(BtfCheck, CorpusRawElfAndLongHeader) {
  SKIP_UNLESS_CORPUS();
  test::TempDir t;
  struct Case {
    std::string tarball;
    bool elf;
  } cases[] = {
      {"archive/amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64.btf.tar.xz", false},
      {"archive/amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64.btf.tar.xz", true},
      {"edge-cases/hdr32-layout/vmlinux-7.1-cilium-ci.btf.tar.xz", false},
  };
  for (const auto &c : cases) {
    auto x =
        test::run({"tar", "-xJf", (test::corpus_dir() / c.tarball).string(),
                   "-C", t.path().string()});
    ASSERT_EQ(x.status, 0) << x.err;
  }
  int n = 0;
  for (const auto &f : fs::directory_iterator(t.path())) {
    auto data = read_file(f.path());
    ASSERT_TRUE(data.ok());
    auto r = check_btf(*data, f.path().string());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_GT(r->types, 10000u) << f.path();
    bool want_elf =
        f.path().filename().string().find("amzn2") != std::string::npos;
    EXPECT_EQ(r->elf, want_elf) << f.path();
    n++;
  }
  EXPECT_EQ(n, 3);
}

} // namespace
