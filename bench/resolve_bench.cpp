// SPDX-License-Identifier: Apache-2.0
//
// resolve_bench: helper of bench/resolve_bench.sh.
//   resolve_bench make OUT_DIR N BTF...   write OUT_DIR/bench.btfpack with N
//       entries (realistic keys over several distros, blobs cycled from the
//       given minimized BTFs, so they dedup as real bundles do) signed with
//       OUT_DIR/bench.key, and print the middle entry as a host
//       "distro version arch release"
//   resolve_bench api BUNDLE PUB RELEASE DISTRO VERSION ARCH RUNS
//       time btfpack::resolve() in-process (verify, match, memfd hand-off)
//       and print "median_ms min_ms max_ms median_cpu_ms"
//   resolve_bench api-embedded BUNDLE PUB RELEASE DISTRO VERSION ARCH RUNS
//       the same from the bundle's bytes and the key's text in memory
//       (ResolveOptions::bundle_bytes/key_texts), as an agent that embeds
//       them (btfpack_embed_bundle) resolves: the bytes are read once
//       before timing, as the linked-in bytes are mapped with the program
//   resolve_bench proc RUNS CMD ARGS...
//       time CMD as a process (spawn to exit): "median_ms min_ms max_ms
//       median_cpu_ms" (user+sys, insensitive to other load)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
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
          if (i == n / 2 || last.distro.empty())
            last = k; // a host in the middle of the bundle
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

int api(char **a, int runs, bool embedded) {
  ResolveOptions o;
  std::vector<std::uint8_t> bytes;
  if (embedded) {
    auto b = read_file(a[0]);
    auto k = read_file(a[1]);
    if (!b.ok() || !k.ok())
      return die(std::string("read ") + a[0] + " or " + a[1]);
    bytes = std::move(*b);
    o.bundle_bytes = bytes;
    o.bundle_bytes_name = "embedded bundle in resolve_bench";
    o.key_texts = {std::string(k->begin(), k->end())};
  } else {
    o.bundle = a[0];
    o.keys = {a[1]};
  }
  o.host.kernel_release = a[2];
  o.host.os_id = a[3];
  o.host.os_version_id = a[4];
  o.host.machine = a[5];
  o.host.native_btf = false;
  o.handoff = HandOff::memfd;
  std::vector<double> ms, cpu;
  auto thread_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  };
  for (int i = 0; i < runs; i++) {
    double c0 = thread_ms();
    auto t0 = std::chrono::steady_clock::now();
    auto r = resolve(o);
    auto t1 = std::chrono::steady_clock::now();
    double c1 = thread_ms();
    if (!r.ok())
      return die(r.error().message);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    cpu.push_back(c1 - c0);
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("%.3f %.3f %.3f %.3f\n", ms[ms.size() / 2], ms.front(), ms.back(),
              cpu[cpu.size() / 2]);
  return 0;
}

// proc times a command run as a process (posix_spawn + wait), stdout to
// /dev/null; prints "median_ms min_ms max_ms".
int proc(int runs, char **cmd) {
  std::vector<double> ms, cpu;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  for (int i = 0; i < runs; i++) {
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid;
    if (posix_spawn(&pid, cmd[0], &fa, nullptr, cmd, environ) != 0)
      return die(std::string("spawn ") + cmd[0]);
    int st = 0;
    struct rusage ru {};
    wait4(pid, &st, 0, &ru);
    auto t1 = std::chrono::steady_clock::now();
    cpu.push_back((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                  (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      return die(std::string(cmd[0]) + " failed");
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  posix_spawn_file_actions_destroy(&fa);
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("%.3f %.3f %.3f %.3f\n", ms[ms.size() / 2], ms.front(), ms.back(),
              cpu[cpu.size() / 2]);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "make" && argc >= 5) {
    std::vector<fs::path> btfs(argv + 4, argv + argc);
    return make(argv[2], std::strtoul(argv[3], nullptr, 10), btfs);
  }
  if (mode == "proc" && argc >= 4)
    return proc(std::atoi(argv[2]), argv + 3);
  if ((mode == "api" || mode == "api-embedded") && argc == 9)
    return api(argv + 2, std::atoi(argv[8]), mode == "api-embedded");
  return die("usage: resolve_bench make OUT_DIR N BTF... | api|api-embedded "
             "BUNDLE PUB RELEASE DISTRO VERSION ARCH RUNS | proc RUNS CMD...");
}
