// SPDX-License-Identifier: Apache-2.0
//
// A structural check of a BTF blob before it is handed to libbpf. libbpf
// 1.1.2 segfaults inside bpf_object__load on an out-of-range type id
// (docs/sharp-edges.md), so the header, section bounds, every type's kind and
// size, every referenced type id and every string offset are checked here.
// Integrity (is it the right BTF?) comes from the signed digest, not from
// this check.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "btfpack/result.h"

namespace btfpack {

// BtfSummary is what the check learned.
struct BtfSummary {
  std::uint32_t types = 0;
  std::uint32_t string_bytes = 0;
  bool elf = false; // the BTF was the .BTF section of an ELF file
};

// check_btf validates raw BTF (native byte order) or an ELF file whose
// .BTF section holds it. Errc::corrupt names `name` and the first problem
// ("type 12 refers to type 9999, only 40 exist").
Result<BtfSummary> check_btf(std::span<const std::uint8_t> data,
                             std::string_view name);

} // namespace btfpack
