// SPDX-License-Identifier: Apache-2.0
//
// consumer BTF_FILE DIR: packs BTF_FILE into a bundle signed with a fresh
// key, opens it again (signature first), reads the blob back and checks it
// equals the input: the runtime library's write and read paths, linked from
// the installed libbtfpack.
#include <btfpack/bundle.h>
#include <btfpack/file_util.h>
#include <btfpack/keys.h>

#include <cstdio>

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer BTF_FILE DIR\n");
    return 2;
  }
  auto btf = btfpack::read_file(argv[1]);
  auto key = btfpack::SecretKey::generate();
  if (!btf || !key) {
    std::fprintf(stderr, "setup failed\n");
    return 1;
  }
  btfpack::BundleMeta meta;
  meta.name = "consumer";
  meta.version = 7;
  btfpack::BundleWriter w(meta);
  btfpack::KernelKey k{"debian", "12", "x86_64", "6.1.0-test"};
  std::filesystem::path out = std::filesystem::path(argv[2]) / "c.btfpack";
  if (auto r = w.add(k, btf.value()); !r) {
    std::fprintf(stderr, "add: %s\n", r.error().message.c_str());
    return 1;
  }
  if (auto r = w.write(out, key.value()); !r) {
    std::fprintf(stderr, "write: %s\n", r.error().message.c_str());
    return 1;
  }
  std::vector<btfpack::PublicKey> trusted{key->public_key()};
  auto b = btfpack::Bundle::open(out, trusted);
  if (!b) {
    std::fprintf(stderr, "open: %s\n", b.error().message.c_str());
    return 1;
  }
  const auto *e = b->find(k);
  if (!e)
    return 1;
  auto blob = b->read_blob(e->blob);
  if (!blob || blob.value() != btf.value()) {
    std::fprintf(stderr, "blob does not round-trip\n");
    return 1;
  }
  std::printf("ok %s version %llu entries %zu signer %s\n",
              b->meta().name.c_str(),
              static_cast<unsigned long long>(b->meta().version),
              b->entries().size(), btfpack::key_id_hex(b->signer()).c_str());
  return 0;
}
