// SPDX-License-Identifier: Apache-2.0
//
// The C API (btfpack/btfpack.h) as an agent calls it: libbpf's opts
// conventions (sz, OPTS_VALID refusal of unknown non-zero fields), negative
// errno returns with errno set, the handle's lifetime against copied and
// reused opts, the staleness check on the bytes a skeleton embeds, the
// environment honoured only on request, and no exception escaping into the
// caller. Bundles are real (BundleWriter, a fresh key) and are entered
// under this host's own facts; resolve uses them with prefer_bundle.
#include <gtest/gtest.h>

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "btfpack/btfpack.h"
#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/host.h"
#include "btfpack/keys.h"
#include "nspid.skel.h"
#include "taskstate.skel.h"
#include "test_util.h"

using namespace btfpack;
using namespace btfpack::test;

namespace {

// tiny_btf is a valid raw BTF: one type, `int`.
std::vector<std::uint8_t> tiny_btf() {
  std::vector<std::uint8_t> b;
  b.reserve(64);
  auto u16 = [&](std::uint16_t v) {
    b.push_back(std::uint8_t(v));
    b.push_back(std::uint8_t(v >> 8));
  };
  auto u32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; i++)
      b.push_back(std::uint8_t(v >> (8 * i)));
  };
  u16(0xeb9f);
  b.push_back(1); // version
  b.push_back(0); // flags
  u32(24);        // hdr_len
  u32(0);         // type_off
  u32(16);        // type_len
  u32(16);        // str_off
  u32(5);         // str_len
  u32(1);         // name "int"
  u32(1u << 24);  // kind INT
  u32(4);         // size
  u32((1u << 24) | 32);
  for (char c : std::string("\0int\0", 5))
    b.push_back(std::uint8_t(c));
  return b;
}

class CApi : public ::testing::Test {
protected:
  void SetUp() override {
    auto h = detect_host();
    ASSERT_TRUE(h.ok()) << h.error().message;
    host_ = *h;
    ASSERT_TRUE(host_.os_id.present()) << "this host has no os-release ID";
    size_t sz = 0;
    const void *elf = taskstate_bpf__elf_bytes(&sz);
    skel_bytes_.assign(static_cast<const char *>(elf),
                       static_cast<const char *>(elf) + sz);
    blob_ = tiny_btf();
    bundle_ = make({{"taskstate.bpf.o", bpf_obj_dir() / "taskstate.bpf.o"}},
                   blob_, "b.btfpack");
  }

  KernelKey host_key() const {
    return {host_.os_id.value, host_.os_version_id.value, host_.arch.value,
            host_.kernel_release.value};
  }

  // make writes a bundle for this host holding `blob`, made for `objects`
  // (name, file), signed with the test key.
  fs::path make(const std::vector<std::pair<std::string, fs::path>> &objects,
                const std::vector<std::uint8_t> &blob, const std::string &fn) {
    BundleMeta meta;
    meta.name = "capi";
    meta.version = 1;
    for (const auto &[name, file] : objects) {
      auto d = sha256_file(file);
      EXPECT_TRUE(d.ok()) << file;
      meta.objects.push_back({name, *d, host_.arch.value});
    }
    BundleWriter w(meta);
    EXPECT_TRUE(w.add(host_key(), blob).ok());
    fs::path out = dir_ / fn;
    auto rc = w.write(out, *key_);
    EXPECT_TRUE(rc.ok()) << rc.error().message;
    return out;
  }

  TempDir dir_;
  HostFacts host_;
  fs::path pub_;
  Result<SecretKey> key_ = [this] {
    auto k = SecretKey::generate();
    pub_ = dir_ / "k.pub";
    EXPECT_TRUE(write_file_atomic(pub_, k->public_key().to_minisign()).ok());
    return k;
  }();
  fs::path bundle_;
  std::vector<std::uint8_t> blob_;
  std::string skel_bytes_;
};

std::string read_path(const char *p) {
  auto r = read_file(p);
  return r.ok() ? std::string(r->begin(), r->end())
                : std::string("<unreadable>");
}

TEST_F(CApi, HandleGivesTheVerifiedBtfAndOwnsTheMemfd) {
  const char *keys[] = {pub_.c_str(), nullptr};
  BTFPACK_OPTS(bo, .bundle_path = bundle_.c_str(), .key_paths = keys,
               .prefer_bundle = 1);
  struct btfpack_btf *a = btfpack_resolve(&bo);
  ASSERT_NE(a, nullptr) << btfpack_last_error();
  EXPECT_EQ(btfpack_btf__is_native(a), 0);
  ASSERT_NE(btfpack_btf__path(a), nullptr);
  std::string pa = btfpack_btf__path(a);
  EXPECT_EQ(pa.rfind("/proc/self/fd/", 0), 0u) << pa;
  EXPECT_EQ(read_path(pa.c_str()), std::string(blob_.begin(), blob_.end()));
  EXPECT_NE(std::string(btfpack_btf__summary(a)), "");

  // The same opts struct reused, and a copy of it: each call gets its own
  // hand-off, and freeing one leaves the other intact.
  struct btfpack_opts copy = bo;
  struct btfpack_btf *b = btfpack_resolve(&copy);
  ASSERT_NE(b, nullptr) << btfpack_last_error();
  std::string pb = btfpack_btf__path(b);
  EXPECT_NE(pa, pb);
  int fd_a = std::atoi(pa.c_str() + std::strlen("/proc/self/fd/"));
  btfpack_btf__free(a);
  EXPECT_EQ(::fcntl(fd_a, F_GETFD), -1) << "memfd of a freed handle is open";
  EXPECT_EQ(read_path(pb.c_str()), std::string(blob_.begin(), blob_.end()));
  btfpack_btf__free(b);
  btfpack_btf__free(nullptr);

  // libbpf-tools form: a thin wrapper over the handle.
  LIBBPF_OPTS(bpf_object_open_opts, oo);
  ASSERT_EQ(btfpack_ensure_core_btf_opts(&oo, &bo), 0) << btfpack_last_error();
  ASSERT_NE(oo.btf_custom_path, nullptr);
  EXPECT_EQ(read_path(oo.btf_custom_path),
            std::string(blob_.begin(), blob_.end()));
  btfpack_cleanup_core_btf(&oo);
  EXPECT_EQ(oo.btf_custom_path, nullptr);
  btfpack_cleanup_core_btf(&oo); // twice is fine
}

TEST_F(CApi, NativeWithoutPreferBundle) {
  if (!host_.has_native_btf())
    GTEST_SKIP() << "this kernel has no BTF of its own";
  const char *keys[] = {pub_.c_str(), nullptr};
  BTFPACK_OPTS(bo, .bundle_path = bundle_.c_str(), .key_paths = keys);
  struct btfpack_btf *h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  EXPECT_EQ(btfpack_btf__is_native(h), 1);
  EXPECT_EQ(btfpack_btf__path(h), nullptr);
  btfpack_btf__free(h);
}

// libbpf's OPTS_VALID: a newer caller's larger struct is accepted when its
// extra bytes are zero and refused (-EINVAL) when they are not; an older
// caller's smaller struct reads as zero past its sz.
TEST_F(CApi, OptsValidRefusesUnknownNonZeroFields) {
  const char *keys[] = {pub_.c_str(), nullptr};
  struct bigger {
    struct btfpack_opts o;
    long future_field;
  } big;
  std::memset(&big, 0, sizeof(big));
  big.o.bundle_path = bundle_.c_str();
  big.o.key_paths = keys;
  big.o.prefer_bundle = 1;
  big.o.sz = sizeof(big);

  struct btfpack_btf *h = btfpack_resolve(&big.o);
  ASSERT_NE(h, nullptr) << "zero extra bytes must be accepted: "
                        << btfpack_last_error();
  btfpack_btf__free(h);

  big.future_field = 1;
  errno = 0;
  EXPECT_EQ(btfpack_resolve(&big.o), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(std::string(btfpack_last_error()).find("does not know"),
            std::string::npos)
      << btfpack_last_error();
  LIBBPF_OPTS(bpf_object_open_opts, oo);
  EXPECT_EQ(btfpack_ensure_core_btf_opts(&oo, &big.o), -EINVAL);
  EXPECT_EQ(oo.btf_custom_path, nullptr);

  struct btfpack_opts zero;
  std::memset(&zero, 0, sizeof(zero));
  errno = 0;
  EXPECT_EQ(btfpack_resolve(&zero), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(std::string(btfpack_last_error()).find("sz"), std::string::npos);

  // An old caller's struct ends before objects: the fields past sz are
  // never read, whatever lies there.
  big.future_field = 0;
  big.o.objects_cnt = 99; // would be EINVAL (objects NULL) if read
  big.o.sz = offsetof(struct btfpack_opts, objects);
  h = btfpack_resolve(&big.o);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  btfpack_btf__free(h);

  // A struct of before `name` (it ends at use_env): a name past its sz is
  // never read; read, it would refuse the bundle as made for another agent.
  big.o.objects_cnt = 0;
  big.o.name = "not-this-agent";
  big.o.sz = offsetof(struct btfpack_opts, name);
  h = btfpack_resolve(&big.o);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  btfpack_btf__free(h);
  big.o.sz = sizeof(struct btfpack_opts);
  errno = 0;
  EXPECT_EQ(btfpack_resolve(&big.o), nullptr);
  EXPECT_EQ(errno, ESTALE);
  EXPECT_NE(std::string(btfpack_last_error()).find("not 'not-this-agent'"),
            std::string::npos)
      << btfpack_last_error();
}

TEST_F(CApi, ErrorsAreNegativeErrnoWithErrnoSet) {
  const char *keys[] = {pub_.c_str(), nullptr};
  LIBBPF_OPTS(bpf_object_open_opts, oo);
  // No bundle there.
  std::string missing = (dir_ / "nope.btfpack").string();
  BTFPACK_OPTS(bo, .bundle_path = missing.c_str(), .key_paths = keys,
               .prefer_bundle = 1);
  errno = 0;
  int rc = btfpack_ensure_core_btf_opts(&oo, &bo);
  EXPECT_LT(rc, 0);
  EXPECT_EQ(errno, -rc);
  EXPECT_NE(std::string(btfpack_last_error()).find(missing), std::string::npos)
      << btfpack_last_error();
  errno = 0;
  EXPECT_EQ(btfpack_resolve(&bo), nullptr);
  EXPECT_EQ(errno, -rc);

  // Signed by a key that is not trusted.
  auto other = SecretKey::generate();
  fs::path opub = dir_ / "other.pub";
  ASSERT_TRUE(write_file_atomic(opub, other->public_key().to_minisign()).ok());
  const char *okeys[] = {opub.c_str(), nullptr};
  BTFPACK_OPTS(bad, .bundle_path = bundle_.c_str(), .key_paths = okeys,
               .prefer_bundle = 1);
  errno = 0;
  EXPECT_EQ(btfpack_ensure_core_btf_opts(&oo, &bad), -EKEYREJECTED)
      << btfpack_last_error();
  EXPECT_EQ(errno, EKEYREJECTED);

  errno = 0;
  EXPECT_EQ(btfpack_ensure_core_btf_opts(nullptr, &bo), -EINVAL);
  EXPECT_EQ(errno, EINVAL);
}

// A skeleton-based loader has no .o on disk: it passes the bytes the
// skeleton embeds, here those of the project's own taskstate skeleton.
TEST_F(CApi, StalenessOnSkeletonBytes) {
  const char *keys[] = {pub_.c_str(), nullptr};
  struct btfpack_object objs[2] = {
      {"taskstate.skel.h", skel_bytes_.data(), skel_bytes_.size()},
      {"other.skel.h", "not the object", 14}};
  BTFPACK_OPTS(bo, .bundle_path = bundle_.c_str(), .key_paths = keys,
               .prefer_bundle = 1, .objects = objs, .objects_cnt = 1);
  struct btfpack_btf *h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  btfpack_btf__free(h);

  bo.objects_cnt = 2; // one of the two is not what the bundle was made for
  errno = 0;
  EXPECT_EQ(btfpack_resolve(&bo), nullptr);
  EXPECT_EQ(errno, ESTALE);
  std::string msg = btfpack_last_error();
  EXPECT_NE(msg.find("other.skel.h"), std::string::npos) << msg;
  EXPECT_NE(msg.find("taskstate.bpf.o"), std::string::npos) << msg;

  // Several objects, all known to the bundle.
  size_t nspid_sz = 0;
  const void *nspid = nspid_bpf__elf_bytes(&nspid_sz);
  fs::path two = make({{"taskstate.bpf.o", bpf_obj_dir() / "taskstate.bpf.o"},
                       {"nspid.bpf.o", bpf_obj_dir() / "nspid.bpf.o"}},
                      blob_, "two.btfpack");
  objs[1] = {"nspid.skel.h", nspid, nspid_sz};
  bo.bundle_path = two.c_str();
  h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  btfpack_btf__free(h);

  objs[1].data = nullptr;
  errno = 0;
  EXPECT_EQ(btfpack_resolve(&bo), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

// $BTFPACK_STORE / $BTFPACK_KEYS_DIR move the defaults only with use_env.
TEST_F(CApi, EnvironmentOnlyWhenAskedFor) {
  fs::path store = dir_ / "store", keys = dir_ / "keys";
  fs::create_directories(store);
  fs::create_directories(keys);
  fs::create_symlink(bundle_, store / "current");
  fs::copy_file(pub_, keys / "k.pub");
  ::setenv("BTFPACK_STORE", store.c_str(), 1);
  ::setenv("BTFPACK_KEYS_DIR", keys.c_str(), 1);
  BTFPACK_OPTS(bo, .prefer_bundle = 1);
  errno = 0;
  struct btfpack_btf *h = btfpack_resolve(&bo);
  std::string msg = btfpack_last_error();
  if (h)
    ADD_FAILURE() << "resolved without use_env: the environment was read";
  btfpack_btf__free(h);
  EXPECT_EQ(msg.find(store.string()), std::string::npos) << msg;
  EXPECT_EQ(msg.find(keys.string()), std::string::npos) << msg;

  bo.use_env = 1;
  h = btfpack_resolve(&bo);
  EXPECT_NE(h, nullptr) << btfpack_last_error();
  if (h) {
    EXPECT_EQ(read_path(btfpack_btf__path(h)),
              std::string(blob_.begin(), blob_.end()));
  }
  btfpack_btf__free(h);
  ::unsetenv("BTFPACK_STORE");
  ::unsetenv("BTFPACK_KEYS_DIR");
}

// An allocation failure deep inside resolve (a bundle blob larger than the
// memory the process may use) comes back as -ENOMEM, not as an exception
// through C frames that aborts the agent.
TEST_F(CApi, ExceptionsNeverEscape) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan reports allocation failure instead of throwing "
                  "std::bad_alloc; the plain build runs this test";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "ASan reports allocation failure instead of throwing "
                  "std::bad_alloc; the plain build runs this test";
#endif
#endif
  constexpr std::size_t kBig = 96u << 20;
  std::vector<std::uint8_t> big = tiny_btf();
  big.resize(kBig); // valid header, then zeros: compresses to little
  fs::path b = make({}, big, "big.btfpack");
  big.clear();
  big.shrink_to_fit();
  const char *keys[] = {pub_.c_str(), nullptr};
  BTFPACK_OPTS(bo, .bundle_path = b.c_str(), .key_paths = keys,
               .prefer_bundle = 1);
  std::fflush(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Room for what the process has mapped now plus a little, not for the
    // blob.
    long pages = 0;
    if (FILE *f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld", &pages) != 1)
        pages = 0;
      std::fclose(f);
    }
    rlim_t lim = rlim_t(pages) * rlim_t(::sysconf(_SC_PAGESIZE)) + (24u << 20);
    struct rlimit rl = {lim, lim};
    if (::setrlimit(RLIMIT_AS, &rl) != 0)
      ::_exit(90);
    errno = 0;
    struct btfpack_btf *h = btfpack_resolve(&bo);
    int e = errno;
    std::fprintf(stderr, "child: %s (errno %d): %s\n", h ? "resolved" : "NULL",
                 e, btfpack_last_error());
    ::_exit(h ? 91 : (e == ENOMEM ? 0 : 92));
  }
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st)) << "the child died of signal " << WTERMSIG(st)
                             << ": an exception escaped the C API";
  EXPECT_EQ(WEXITSTATUS(st), 0)
      << "90: setrlimit failed, 91: resolved, 92: another errno";
}

} // namespace
