// SPDX-License-Identifier: Apache-2.0
#include "bundle_fixture.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "btfpack/file_util.h"
#include "test_util.h"

namespace btfpack::test {

namespace {

std::vector<fs::path> bpf_objects() {
  std::vector<fs::path> objs;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(bpf_obj_dir(), ec))
    if (e.path().string().ends_with(".bpf.o"))
      objs.push_back(e.path());
  std::sort(objs.begin(), objs.end());
  return objs;
}

// Row is one archive file: its path and kernel fields.
struct Row {
  std::string path, distro, version, arch, release;
};

// archive_rows lists ../shared/corpus from its INDEX.tsv, or, without the
// corpus, the committed sample archive from its btfhub layout.
std::vector<Row> archive_rows() {
  std::vector<Row> rows;
  if (!has_corpus()) {
    for (const auto &e : fs::recursive_directory_iterator(sample_archive())) {
      if (!e.is_regular_file())
        continue;
      auto rel = fs::relative(e.path(), sample_archive());
      std::vector<std::string> c(rel.begin(), rel.end());
      std::string name = c.back();
      if (c.size() != 4 || !name.ends_with(".btf.tar.xz"))
        continue;
      name.resize(name.size() - 11);
      rows.push_back({rel.string(), c[0], c[1], c[2], name});
    }
    std::sort(rows.begin(), rows.end(),
              [](const Row &a, const Row &b) { return a.path < b.path; });
    return rows;
  }
  std::ifstream index(corpus_dir() / "INDEX.tsv");
  std::string line;
  std::getline(index, line); // header
  while (std::getline(index, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t'))
      f.push_back(field);
    if (f.size() >= 5)
      rows.push_back({f[0], f[1], f[2], f[3], f[4]});
  }
  return rows;
}

// cache_dir holds minimized BTFs across test processes (ctest runs each
// test in its own process), keyed by the objects' and the index's digests.
fs::path cache_dir(const std::vector<fs::path> &objs) {
  Sha256Stream h;
  for (const auto &o : objs) {
    auto d = sha256_file(o);
    if (d)
      h.update(d->data(), d->size());
  }
  for (const auto &r : archive_rows())
    for (const auto *s : {&r.path, &r.release})
      h.update(s->data(), s->size() + 1); // with the NUL: unambiguous
  return fs::path(BTFPACK_BUNDLE_CACHE_DIR) / to_hex(h.finish()).substr(0, 16);
}

std::vector<MinimizedBtf> make_minimized(int stride) {
  std::vector<MinimizedBtf> out;
  auto objs = bpf_objects();
  fs::path cache = cache_dir(objs);
  fs::create_directories(cache);
  TempDir tmp;
  int row = 0;
  // The sample is a handful of kernels: take them all.
  if (!has_corpus())
    stride = 1;
  for (const auto &a : archive_rows()) {
    if (row++ % stride != 0)
      continue;
    const std::vector<std::string> f{a.path, a.distro, a.version, a.arch,
                                     a.release};
    fs::path cached = cache / (std::to_string(row) + ".btf");
    if (auto c = read_file(cached); c.ok()) {
      out.push_back({KernelKey{f[1], f[2], f[3], f[4]}, std::move(*c)});
      continue;
    }
    fs::path dir = tmp / ("k" + std::to_string(row));
    fs::create_directories(dir);
    auto x = run(
        {"tar", "-xJf", (test_archive() / f[0]).string(), "-C", dir.string()});
    if (x.status != 0)
      throw std::runtime_error("tar failed on " + f[0] + ": " + x.err);
    fs::path in;
    for (const auto &e : fs::directory_iterator(dir))
      in = e.path();
    fs::path outp = tmp / ("k" + std::to_string(row) + ".min.btf");
    std::vector<std::string> argv{bpftool_path().string(), "gen",
                                  "min_core_btf", in.string(), outp.string()};
    for (const auto &o : objs)
      argv.push_back(o.string());
    auto r = run(argv);
    if (r.status != 0)
      throw std::runtime_error("bpftool gen min_core_btf failed on " + f[0] +
                               ": " + r.err);
    auto data = read_file(outp);
    if (!data)
      throw std::runtime_error(data.error().message);
    if (auto w = write_file_atomic(cached, *data); !w)
      throw std::runtime_error(w.error().message);
    out.push_back({KernelKey{f[1], f[2], f[3], f[4]}, std::move(*data)});
    fs::remove_all(dir);
  }
  return out;
}

} // namespace

std::string why_no_minimized_corpus() {
  if (bpf_objects().empty())
    return "no CO-RE objects in " + bpf_obj_dir().string() +
           " (build the bpf/ targets)";
  return "";
}

const std::vector<MinimizedBtf> &minimized_corpus(int stride) {
  static std::mutex mu;
  static std::map<int, std::vector<MinimizedBtf>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(stride);
  if (it == cache.end()) {
    std::vector<MinimizedBtf> v;
    if (why_no_minimized_corpus().empty())
      v = make_minimized(stride);
    it = cache.emplace(stride, std::move(v)).first;
  }
  return it->second;
}

BundleMeta test_meta() {
  BundleMeta m;
  m.name = "test-agent";
  m.version = 7;
  m.created = 1700000000;
  m.expires = 0;
  m.btfpack_version = "0.1.0";
  m.bpftool_version = "v7.1.0";
  m.archive_snapshot = "corpus-105";
  m.objects.push_back(
      {"taskstate.bpf.o", sha256(std::string_view("t")), "x86_64"});
  m.objects.push_back({"nspid.bpf.o", sha256(std::string_view("n")), ""});
  return m;
}

std::vector<std::uint8_t> make_bundle(const std::vector<MinimizedBtf> &btfs,
                                      const SecretKey &key, BundleMeta meta) {
  BundleWriter w(std::move(meta));
  for (const auto &b : btfs) {
    auto r = w.add(b.kernel, b.btf);
    if (!r)
      throw std::runtime_error(r.error().message);
  }
  auto bytes = w.serialize(key);
  if (!bytes)
    throw std::runtime_error(bytes.error().message);
  return std::move(*bytes);
}

void write_bytes(const fs::path &p, const std::vector<std::uint8_t> &bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(bytes.data()),
          static_cast<std::streamsize>(bytes.size()));
}

} // namespace btfpack::test
