// SPDX-License-Identifier: Apache-2.0
//
// Test fixtures for the bundle: real minimized BTFs made from the shared
// corpus with bpftool against the project's CO-RE objects (build/bpf), made
// once per test binary, and helpers to build and sign bundles from them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "btfpack/bundle.h"
#include "btfpack/keys.h"

namespace btfpack::test {

struct MinimizedBtf {
  KernelKey kernel;
  std::vector<std::uint8_t> btf;
};

// minimized_corpus returns minimized BTFs for every `stride`-th kernel of
// ../shared/corpus/INDEX.tsv (stride 1: all 105), made with
// `bpftool gen min_core_btf` against build/bpf/*.bpf.o. Cached per process.
// Empty when the corpus or the objects are missing (callers skip).
const std::vector<MinimizedBtf> &minimized_corpus(int stride);
// why_no_minimized_corpus says what is missing, or "".
std::string why_no_minimized_corpus();

// test_meta is the metadata the tests write.
BundleMeta test_meta();
// make_bundle packs `btfs` and signs with `key`.
std::vector<std::uint8_t> make_bundle(const std::vector<MinimizedBtf> &btfs,
                                      const SecretKey &key,
                                      BundleMeta meta = test_meta());
// small_btfs is a handful of minimized BTFs (from the corpus when present,
// otherwise none) for the tamper test.
void write_bytes(const std::filesystem::path &p,
                 const std::vector<std::uint8_t> &bytes);

} // namespace btfpack::test

#define SKIP_UNLESS_MINIMIZED_CORPUS()                                         \
  do {                                                                         \
    auto _why = ::btfpack::test::why_no_minimized_corpus();                    \
    if (!_why.empty())                                                         \
      GTEST_SKIP() << _why;                                                    \
  } while (0)
