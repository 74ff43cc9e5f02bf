// SPDX-License-Identifier: Apache-2.0
//
// index_parse_bench N FILE: writes an N-entry index file shaped like a real
// archive's (release patterns of the archive's distros, real-looking digests)
// to FILE, then times Index::read_file on it and prints
// "entries=N bytes=B best_ms=X median_ms=Y".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "btfpack/archive_index.h"
#include "btfpack/sha256.h"

using namespace btfpack;

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s N FILE\n", argv[0]);
    return 2;
  }
  std::size_t n = std::strtoull(argv[1], nullptr, 10);
  // (distro, version, arch, release pattern with %d for a build number)
  struct Pat {
    const char *distro, *version, *arch, *fmt;
  } pats[] = {
      {"ubuntu", "20.04", "x86_64", "5.4.0-%d-aws"},
      {"ubuntu", "20.04", "x86_64", "5.4.0-%d-generic"},
      {"ubuntu", "22.04", "arm64", "5.15.0-%d-azure"},
      {"centos", "7", "x86_64", "3.10.0-%d.el7.x86_64"},
      {"rhel", "8", "x86_64", "4.18.0-%d.3.1.el8_6.x86_64"},
      {"fedora", "38", "x86_64", "6.2.%d-300.fc38.x86_64"},
      {"amzn", "2", "x86_64", "4.14.%d-197.484.amzn2.x86_64"},
      {"ol", "8", "x86_64", "5.4.17-%d.300.7.el8uek.x86_64"},
      {"debian", "12", "x86_64", "6.1.0-%d-cloud-amd64"},
      {"debian", "12", "arm64", "6.12.%d+deb12-rt-arm64"},
      {"sles", "15.3", "x86_64", "5.3.18-150300.59.%d-default"},
      {"kylin", "V10", "aarch64", "4.19.90-%d.4.v2101.ky10.aarch64"},
  };
  std::mt19937_64 rng(42);
  Index idx;
  idx.source = "/srv/btfhub-archive";
  for (std::size_t i = 0; i < n; i++) {
    const auto &p = pats[i % std::size(pats)];
    char rel[128];
    std::snprintf(rel, sizeof rel, p.fmt,
                  static_cast<int>(i / std::size(pats)) + 1);
    auto e = parse_archive_path(std::string(p.distro) + "/" + p.version + "/" +
                                p.arch + "/" + rel + ".btf.tar.xz");
    if (!e) {
      std::fprintf(stderr, "%s\n", e.error().message.c_str());
      return 1;
    }
    e->size = 500000 + rng() % 2000000;
    e->sha256 = to_hex(sha256(std::to_string(rng())));
    e->mtime_ns =
        1700000000000000000 + static_cast<std::int64_t>(rng() % 1000000000000);
    idx.entries.push_back(std::move(e).value());
  }
  idx.sort();
  if (auto w = idx.write_file(argv[2]); !w) {
    std::fprintf(stderr, "%s\n", w.error().message.c_str());
    return 1;
  }
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  };
  std::vector<double> ms, cpu;
  std::size_t bytes = idx.to_json(true).size();
  for (int run = 0; run < 11; run++) {
    double c0 = cpu_now();
    auto t0 = std::chrono::steady_clock::now();
    auto r = Index::read_file(argv[2]);
    auto t1 = std::chrono::steady_clock::now();
    cpu.push_back(cpu_now() - c0);
    if (!r || r->entries.size() != n) {
      std::fprintf(stderr, "read failed\n");
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  // Wall time suffers from other load on a shared machine; CPU time of the
  // reading thread is the steadier figure.
  std::printf("entries=%zu bytes=%zu best_ms=%.1f median_ms=%.1f "
              "cpu_best_ms=%.1f cpu_median_ms=%.1f\n",
              n, bytes, ms.front(), ms[ms.size() / 2], cpu.front(),
              cpu[cpu.size() / 2]);
  return 0;
}
