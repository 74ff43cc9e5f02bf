// SPDX-License-Identifier: Apache-2.0
#include "runtime_fixture.h"

#include <algorithm>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
#include <sys/file.h>

#include "btfpack/file_util.h"
#include "btfpack/sha256.h"
#include "btfpack/unique_fd.h"

namespace btfpack::test {

namespace {

// The corpus kernels the fixture table needs (archive-relative paths).
const char *const KERNELS[] = {
    "amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64",
    "amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64",
    "amzn/2/x86_64/4.14.262-200.489.amzn2.x86_64",
    "ubuntu/18.04/x86_64/4.15.0-1054-aws",
    "ubuntu/20.04/x86_64/5.4.0-1029-aws",
    "ubuntu/20.04/x86_64/5.4.0-1055-aws",
    "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64",
    "kylin/V10/aarch64/4.19.90-24.4.v2101.ky10.aarch64",
    "debian/11/x86_64/5.10.0-30-amd64",
    "debian/12/x86_64/6.1.0-47-amd64",
    "debian/12/x86_64/6.1.0-50-amd64",
    "debian/12/x86_64/6.1.0-53-amd64",
    "debian/12/x86_64/6.1.0-56-amd64",
    "debian/12/x86_64/6.1.0-50-cloud-amd64",
    "debian/12/x86_64/6.12.107+deb12-amd64",
    "android/12/arm64/a12-5.10-2022-03-arm64",
};

// SAMPLE_KERNELS are the committed sample's (tests/data/archive): the
// bundle is made of them when ../shared is absent.
const char *const SAMPLE_KERNELS[] = {
    "debian/11/x86_64/5.10.0-32-amd64",
    "debian/12/x86_64/6.1.0-55-amd64",
    "debian/12/x86_64/6.1.0-55-cloud-amd64",
    "debian/12/arm64/6.1.0-55-arm64",
};

std::vector<std::string> kernels() {
  if (has_corpus())
    return {std::begin(KERNELS), std::end(KERNELS)};
  return {std::begin(SAMPLE_KERNELS), std::end(SAMPLE_KERNELS)};
}

KernelKey key_of(const std::string &rel) {
  KernelKey k;
  std::vector<std::string> p;
  std::size_t s = 0;
  for (int i = 0; i < 3; i++) {
    auto e = rel.find('/', s);
    p.push_back(rel.substr(s, e - s));
    s = e + 1;
  }
  return KernelKey{p[0], p[1], p[2], rel.substr(s)};
}

} // namespace

std::vector<fs::path> bpf_objects(const std::string &arch) {
  fs::path dir = arch == "x86_64" ? bpf_obj_dir() : bpf_obj_dir() / arch;
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto &f : fs::directory_iterator(dir, ec))
    if (f.path().string().ends_with(".bpf.o"))
      out.push_back(f.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool minimize(const fs::path &btf, const fs::path &out,
              const std::vector<fs::path> &objects, std::string *err) {
  std::vector<std::string> argv = {bpftool_path().string(), "gen",
                                   "min_core_btf", btf.string(), out.string()};
  for (const auto &o : objects)
    argv.push_back(o.string());
  auto r = run(argv);
  if (r.status != 0 && err)
    *err = r.err;
  return r.status == 0;
}

namespace {

// build_bundle makes the bundle in `dir` and records what went in
// (dir/entries.tsv: distro version arch release sha256 minimized).
void build_bundle(const fs::path &dir) {
  auto key = SecretKey::generate();
  auto other = SecretKey::generate();
  if (!key.ok() || !other.ok())
    throw std::runtime_error("keygen failed");
  if (!write_file_atomic(dir / "test.pub", key->public_key().to_minisign())
           .ok() ||
      !write_file_atomic(dir / "other.pub", other->public_key().to_minisign())
           .ok())
    throw std::runtime_error("write keys failed");
  BundleMeta meta;
  meta.name = "runtime-test";
  meta.version = 7;
  meta.created = 1760000000;
  meta.bpftool_version = "v7.1.0";
  meta.archive_snapshot = "shared/corpus";
  for (const auto &arch : {"x86_64", "arm64"})
    for (const auto &o : bpf_objects(arch)) {
      auto d = sha256_file(o);
      if (!d.ok())
        throw std::runtime_error(d.error().message);
      meta.objects.push_back({o.filename().string(), *d, arch});
    }
  BundleWriter w(meta);
  fs::path raw = dir / "raw";
  fs::create_directories(raw);
  std::string tsv;
  for (const auto &rel : kernels()) {
    KernelKey k = key_of(rel);
    fs::path tarball = test_archive() / (rel + ".btf.tar.xz");
    auto x = run({"tar", "-xJf", tarball.string(), "-C", raw.string()});
    if (x.status != 0)
      throw std::runtime_error("untar " + tarball.string() + ": " + x.err);
    fs::path btf = raw / (k.release + ".btf");
    fs::path min = raw / (k.release + ".min.btf");
    std::string arch = (k.arch == "x86_64") ? "x86_64" : "arm64";
    bool minimized = minimize(btf, min, bpf_objects(arch), nullptr);
    auto data = read_file(minimized ? min : btf);
    if (!data.ok())
      throw std::runtime_error(data.error().message);
    auto rc = w.add(k, *data);
    if (!rc.ok())
      throw std::runtime_error(rc.error().message);
    tsv += k.distro + "\t" + k.version + "\t" + k.arch + "\t" + k.release +
           "\t" + to_hex(sha256(*data)) + "\t" + (minimized ? "1" : "0") + "\n";
  }
  fs::remove_all(raw);
  auto rc = w.write(dir / "test.btfpack", *key);
  if (!rc.ok())
    throw std::runtime_error(rc.error().message);
  if (!write_file_atomic(dir / "entries.tsv", tsv).ok())
    throw std::runtime_error("write entries.tsv failed");
}

// stamp names the inputs: the kernel list and the objects' digests.
std::string stamp() {
  std::string s;
  for (const auto &rel : kernels())
    s += rel + "\n";
  for (const auto &arch : {"x86_64", "arm64"})
    for (const auto &o : bpf_objects(arch))
      s += to_hex(*sha256_file(o)) + "\n";
  return to_hex(sha256(s));
}

} // namespace

const TestBundle &corpus_bundle() {
  static std::unique_ptr<TestBundle> tb;
  if (tb)
    return *tb;
  // Built once per build tree and shared by every test process (ctest runs
  // each test in its own process); a lock serializes ctest -j.
  fs::path dir = fs::path(RUNTIME_FIXTURE_DIR) / stamp();
  fs::create_directories(dir);
  UniqueFd lock(
      ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock || ::flock(lock.get(), LOCK_EX) != 0)
    throw std::runtime_error("lock " + dir.string());
  if (!fs::exists(dir / "entries.tsv"))
    build_bundle(dir);
  auto b = std::make_unique<TestBundle>();
  b->dir = dir;
  b->bundle = dir / "test.btfpack";
  b->pubkey = dir / "test.pub";
  b->other_pubkey = dir / "other.pub";
  b->objects = bpf_objects("x86_64");
  auto tsv = read_text_file(dir / "entries.tsv");
  if (!tsv.ok())
    throw std::runtime_error(tsv.error().message);
  std::size_t pos = 0;
  while (pos < tsv->size()) {
    auto nl = tsv->find('\n', pos);
    std::string line = tsv->substr(pos, nl - pos);
    pos = nl + 1;
    std::vector<std::string> f;
    std::size_t s = 0;
    for (;;) {
      auto t = line.find('\t', s);
      f.push_back(line.substr(s, t - s));
      if (t == std::string::npos)
        break;
      s = t + 1;
    }
    if (f.size() != 6)
      throw std::runtime_error("bad entries.tsv line: " + line);
    KernelKey k{f[0], f[1], f[2], f[3]};
    b->digests[k] = *parse_sha256_hex(f[4]);
    b->minimized[k] = f[5] == "1";
  }
  tb = std::move(b);
  return *tb;
}

} // namespace btfpack::test
