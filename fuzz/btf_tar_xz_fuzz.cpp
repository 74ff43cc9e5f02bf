// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_btfgen
//
// `.btf.tar.xz` unpacking (btfgen/src/unpack.cpp): an archive mirror is
// untrusted. Any input must give either the one `.btf` member's bytes
// (non-empty, within the limits) or an Errc::corrupt error naming the
// cause; never a crash, a hang or unbounded memory. The input is fed both
// as is (xz-compressed tar) and, since mutating compressed bytes rarely
// reaches the tar parser, wrapped: the first byte selects whether the rest
// is first compressed with xz here so that tar-level mutations are seen.
#include <archive.h>
#include <archive_entry.h>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "btfpack/btfgen.h"
#include "btfpack/c_free.h"

using namespace btfpack;

namespace {

using WriterPtr = CHandle<struct archive, archive_write_free>;

// xz_wrap compresses raw bytes with the xz filter and no archive format
// (a "raw" xz stream holding a tar image).
std::vector<std::uint8_t> xz_wrap(const std::uint8_t *data, std::size_t size) {
  WriterPtr w(archive_write_new());
  archive_write_add_filter_xz(w.get());
  // Level 0: a small dictionary, so that each run stays fast.
  archive_write_set_filter_option(w.get(), "xz", "compression-level", "0");
  archive_write_set_format_raw(w.get());
  std::vector<std::uint8_t> out(size + size / 2 + 4096);
  std::size_t used = 0;
  if (archive_write_open_memory(w.get(), out.data(), out.size(), &used) !=
      ARCHIVE_OK)
    return {};
  CHandle<struct archive_entry, archive_entry_free> e(archive_entry_new());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  if (archive_write_header(w.get(), e.get()) != ARCHIVE_OK)
    return {};
  archive_write_data(w.get(), data, size);
  archive_write_close(w.get());
  out.resize(used);
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  btfgen::UnpackLimits limits;
  limits.max_btf_bytes = 4u << 20; // keep memory small under the fuzzer
  limits.max_members = 16;
  std::vector<std::uint8_t> input;
  if (size > 0 && data[0] == 'T') {
    input = xz_wrap(data + 1, size - 1);
  } else {
    input.assign(data, data + size);
  }
  auto r = btfgen::unpack_btf_tar_xz_memory(input, limits);
  if (r.ok()) {
    if (r->empty() || r->size() > limits.max_btf_bytes)
      std::abort(); // an accepted member is non-empty and within the limit
  } else if (r.error().code != Errc::corrupt || r.error().message.empty()) {
    std::abort(); // every refusal is a classified, explained corrupt input
  }
  return 0;
}
