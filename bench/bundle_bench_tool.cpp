// SPDX-License-Identifier: Apache-2.0
//
// bundle_bench_tool: the C++ side of bench/bundle_bench.sh.
//   make OUT SECRET_KEY DIR [REPLICATE]   bundle DIR/<distro>/<version>/
//       <arch>/<release>.btf; with REPLICATE=N every kernel is also added
//       N-1 more times as <release>+rK (same blob, distinct name)
//   tree DIR OUT REPLICATE   the same replicated entries as files under OUT
//       (for the tar.xz side of the comparison)
//   tarxz TAR_XZ MEMBER OUT [REPEAT]   the existing projects' way, in
//       process (libarchive, as libbpf-tools' btf_helpers.c does with
//       liblzma): decompress the tar.xz up to MEMBER and write it to OUT
//   lookup BUNDLE PUB DISTRO VERSION ARCH RELEASE OUT [REPEAT]
//       open (verify) + find + read_blob, REPEAT times; prints the median
//       and the peak RSS, writes the BTF to OUT
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <vector>

#include <archive.h>
#include <archive_entry.h>

#include "btfpack/bundle.h"
#include "btfpack/c_free.h"
#include "btfpack/file_util.h"

using namespace btfpack;
namespace fs = std::filesystem;

namespace {

int die(const Error &e) {
  std::fprintf(stderr, "Error: %s\n", e.message.c_str());
  return 1;
}

int do_make(int argc, char **argv) {
  if (argc < 5)
    return 2;
  fs::path out = argv[2], keyp = argv[3], dir = argv[4];
  int replicate = argc > 5 ? std::atoi(argv[5]) : 1;
  auto key = SecretKey::read_file(keyp);
  if (!key)
    return die(key.error());
  BundleMeta meta;
  meta.name = "bench";
  meta.version = 1;
  meta.created = 1700000000;
  meta.btfpack_version = "bench";
  BundleWriter w(meta);
  std::vector<fs::path> files;
  for (const auto &e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".btf")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto &f : files) {
    auto rel = fs::relative(f, dir);
    std::vector<std::string> parts(rel.begin(), rel.end());
    if (parts.size() != 4)
      continue;
    KernelKey k{parts[0], parts[1], parts[2], rel.stem().string()};
    auto data = read_file(f);
    if (!data)
      return die(data.error());
    for (int r = 0; r < replicate; r++) {
      KernelKey kr = k;
      if (r > 0)
        kr.release += "+r" + std::to_string(r);
      if (auto a = w.add(kr, *data); !a)
        return die(a.error());
    }
  }
  if (auto r = w.write(out, *key); !r)
    return die(r.error());
  std::printf("entries %zu blobs %zu\n", w.entry_count(), w.blob_count());
  return 0;
}

int do_tree(int argc, char **argv) {
  if (argc < 5)
    return 2;
  fs::path dir = argv[2], out = argv[3];
  int replicate = std::atoi(argv[4]);
  for (const auto &e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".btf")
      continue;
    auto rel = fs::relative(e.path(), dir);
    auto data = read_file(e.path());
    if (!data)
      return die(data.error());
    fs::create_directories(out / rel.parent_path());
    for (int r = 0; r < replicate; r++) {
      std::string name = rel.stem().string();
      if (r > 0)
        name += "+r" + std::to_string(r);
      std::ofstream f(out / rel.parent_path() / (name + ".btf"),
                      std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char *>(data->data()),
              static_cast<std::streamsize>(data->size()));
      if (!f)
        return die(make_error(Errc::io, "write failed under " + out.string()));
    }
  }
  return 0;
}

using ArchivePtr = CHandle<struct archive, archive_read_free>;

int do_tarxz(int argc, char **argv) {
  if (argc < 5)
    return 2;
  int repeat = argc > 5 ? std::atoi(argv[5]) : 1;
  std::string member = argv[3];
  std::vector<double> ms;
  std::vector<char> out;
  for (int i = 0; i < repeat; i++) {
    auto t0 = std::chrono::steady_clock::now();
    ArchivePtr a(archive_read_new());
    archive_read_support_filter_xz(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), argv[2], 1 << 16) != ARCHIVE_OK)
      return die(make_error(Errc::io, archive_error_string(a.get())));
    struct archive_entry *e = nullptr;
    bool found = false;
    while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
      if (member == archive_entry_pathname(e)) {
        out.resize(static_cast<std::size_t>(archive_entry_size(e)));
        if (archive_read_data(a.get(), out.data(), out.size()) !=
            static_cast<la_ssize_t>(out.size()))
          return die(make_error(Errc::io, "short read"));
        found = true;
        break;
      }
    }
    if (!found)
      return die(make_error(Errc::not_found, member + " not in archive"));
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::ofstream f(argv[4], std::ios::binary | std::ios::trunc);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  std::sort(ms.begin(), ms.end());
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("median_ms %.3f min_ms %.3f max_ms %.3f runs %d maxrss_kb %ld\n",
              ms[ms.size() / 2], ms.front(), ms.back(), repeat, ru.ru_maxrss);
  return 0;
}

int do_lookup(int argc, char **argv) {
  if (argc < 9)
    return 2;
  int repeat = argc > 9 ? std::atoi(argv[9]) : 1;
  auto pub = PublicKey::read_file(argv[3]);
  if (!pub)
    return die(pub.error());
  std::vector<PublicKey> keys{*pub};
  KernelKey k{argv[4], argv[5], argv[6], argv[7]};
  std::vector<double> ms;
  std::vector<std::uint8_t> btf;
  for (int i = 0; i < repeat; i++) {
    auto t0 = std::chrono::steady_clock::now();
    auto b = Bundle::open(argv[2], keys);
    if (!b)
      return die(b.error());
    const auto *e = b->find(k);
    if (!e)
      return die(make_error(Errc::not_found, "kernel not in bundle"));
    auto blob = b->read_blob(e->blob);
    if (!blob)
      return die(blob.error());
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    btf = std::move(*blob);
  }
  if (auto r = write_file_atomic(argv[8], btf); !r)
    return die(r.error());
  std::sort(ms.begin(), ms.end());
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("median_ms %.3f min_ms %.3f max_ms %.3f runs %d maxrss_kb %ld\n",
              ms[ms.size() / 2], ms.front(), ms.back(), repeat, ru.ru_maxrss);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  int rc = 2;
  if (cmd == "make")
    rc = do_make(argc, argv);
  else if (cmd == "tree")
    rc = do_tree(argc, argv);
  else if (cmd == "tarxz")
    rc = do_tarxz(argc, argv);
  else if (cmd == "lookup")
    rc = do_lookup(argc, argv);
  if (rc == 2)
    std::fprintf(
        stderr,
        "usage: bundle_bench_tool make OUT SECRET_KEY DIR "
        "[REPLICATE] | tree DIR OUT REPLICATE | tarxz TAR_XZ MEMBER OUT "
        "[REPEAT] | lookup BUNDLE "
        "PUB DISTRO VERSION ARCH "
        "RELEASE OUT [REPEAT]\n");
  return rc;
}
