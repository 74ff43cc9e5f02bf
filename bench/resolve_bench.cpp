// SPDX-License-Identifier: Apache-2.0
//
// resolve_bench: helper of bench/resolve_bench.sh.
//   resolve_bench make OUT_DIR N BTF...   write OUT_DIR/bench.btfpack with N
//       entries (realistic keys over several distros, blobs cycled from the
//       given minimized BTFs, so they dedup as real bundles do) signed with
//       OUT_DIR/bench.key, and print one matching host as
//       "distro version arch release"
//   resolve_bench api BUNDLE PUB RELEASE DISTRO VERSION ARCH RUNS
//       time btfpack::resolve() in-process (verify, match, memfd hand-off)
//       and print "median_ms min_ms max_ms"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "btfpack/runtime.h"

using namespace btfpack;
namespace fs = std::filesystem;

namespace {

int die(const std::string &m) {
  std::fprintf(stderr, "resolve_bench: %s\n", m.c_str());
  return 1;
}

int make(const fs::path &out, std::size_t n, std::vector<fs::path> btfs) {
  std::vector<std::vector<std::uint8_t>> blobs;
  for (const auto &p : btfs) {
    auto d = read_file(p);
    if (!d.ok())
      return die(d.error().message);
    blobs.push_back(std::move(*d));
  }
  auto key = SecretKey::generate();
  if (!key.ok())
    return die(key.error().message);
  fs::create_directories(out);
  auto rc = write_key_pair(*key, out / "bench.key");
  if (!rc.ok())
    return die(rc.error().message);
  BundleMeta meta;
  meta.name = "bench";
  meta.version = 1;
  BundleWriter w(meta);
  struct Family {
    const char *distro;
    std::vector<const char *> versions;
    const char *fmt; // printf with %zu build number
  };
  const std::vector<Family> fams = {
      {"ubuntu", {"18.04", "20.04", "22.04"}, "5.4.0-%zu-generic"},
      {"ubuntu", {"20.04", "22.04"}, "5.15.0-%zu-aws"},
      {"debian", {"10", "11", "12"}, "6.1.0-%zu-amd64"},
      {"centos", {"7", "8"}, "4.18.0-%zu.el8.x86_64"},
      {"amzn", {"2"}, "4.14.%zu-197.484.amzn2.x86_64"},
      {"fedora", {"37", "38", "39"}, "6.%zu.0-300.fc38.x86_64"},
      {"ol", {"8"}, "5.4.17-%zu.el8uek.x86_64"},
  };
  std::size_t i = 0, build = 1;
  KernelKey last;
  while (i < n) {
    for (const auto &f : fams) {
      for (const char *v : f.versions) {
        for (const char *arch : {"x86_64", "arm64"}) {
          if (i >= n)
            break;
          char rel[96];
          std::snprintf(rel, sizeof rel, f.fmt, build);
          KernelKey k{f.distro, v, arch, rel};
          // Neighbouring builds minimize alike: runs of 8 share a blob.
          const auto &b = blobs[(i / 8) % blobs.size()];
          auto a = w.add(k, b);
          if (!a.ok())
            return die(a.error().message);
          last = k;
          i++;
        }
      }
    }
    build++;
  }
  rc = w.write(out / "bench.btfpack", *key);
  if (!rc.ok())
    return die(rc.error().message);
  std::printf("%s %s %s %s\n", last.distro.c_str(), last.version.c_str(),
              last.arch.c_str(), last.release.c_str());
  return 0;
}

int api(char **a, int runs) {
  ResolveOptions o;
  o.bundle = a[0];
  o.keys = {a[1]};
  o.host.kernel_release = a[2];
  o.host.os_id = a[3];
  o.host.os_version_id = a[4];
  o.host.machine = a[5];
  o.host.native_btf = false;
  o.handoff = HandOff::memfd;
  std::vector<double> ms;
  for (int i = 0; i < runs; i++) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = resolve(o);
    auto t1 = std::chrono::steady_clock::now();
    if (!r.ok())
      return die(r.error().message);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%.3f %.3f %.3f\n", ms[ms.size() / 2], ms.front(), ms.back());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "make" && argc >= 5) {
    std::vector<fs::path> btfs(argv + 4, argv + argc);
    return make(argv[2], std::strtoul(argv[3], nullptr, 10), btfs);
  }
  if (mode == "api" && argc == 10)
    return api(argv + 2, std::atoi(argv[9]));
  return die("usage: resolve_bench make OUT_DIR N BTF... | api BUNDLE PUB "
             "RELEASE DISTRO VERSION ARCH RUNS");
}
