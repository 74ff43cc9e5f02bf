// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_runtime
//
// Whole bundle files through Bundle::open_memory. In the fuzz build
// (BTFPACK_FUZZING) the signature check is skipped so that the preamble,
// manifest and blob parsers behind it are reached. Beyond "no crash": an
// accepted bundle's entries are sorted and each is found by find(); every
// blob read back matches its manifest digest; verify_blobs() succeeds
// exactly when every blob reads back and passes the BTF structure check;
// stats agree with the manifest.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <vector>

#include "btfpack/btf_check.h"
#include "btfpack/bundle.h"

using namespace btfpack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  static const std::vector<PublicKey> trusted = [] {
    // Any key: the fuzz build does not check the signature.
    auto k = PublicKey::parse(
        "RWSDrtw3mqWKihZFS7jAA+S8rXRxknRcC51xH15wa3CIhZRl0oO5FC9j", "fuzz.pub");
    if (!k)
      std::abort();
    return std::vector<PublicKey>{*k};
  }();
  OpenOptions opts;
  opts.allow_expired = true;
  opts.now = 1;
  auto b = Bundle::open_memory(std::vector<std::uint8_t>(data, data + size),
                               "fuzz.btfpack", trusted, opts);
  if (!b)
    return 0;
  const auto &entries = b->entries();
  auto st = b->stats();
  if (entries.empty() || st.entry_count != entries.size() ||
      st.file_size != size || st.blob_count == 0)
    std::abort();
  std::set<Sha256> blobs;
  for (std::size_t i = 0; i < entries.size(); i++) {
    if (i > 0 && !(entries[i - 1].kernel < entries[i].kernel))
      std::abort();
    const auto *e = b->find(entries[i].kernel);
    if (!e || e->blob != entries[i].blob)
      std::abort();
    blobs.insert(entries[i].blob);
  }
  if (blobs.size() != st.blob_count)
    std::abort();
  bool all_ok = true;
  for (const auto &d : blobs) {
    auto raw = b->read_blob(d);
    if (raw && sha256(*raw) != d)
      std::abort();
    // verify_blobs also applies resolve's BTF structure check.
    all_ok = all_ok && raw.ok() && check_btf(*raw, "fuzz").ok();
  }
  if (b->verify_blobs().ok() != all_ok)
    std::abort();
  return 0;
}
