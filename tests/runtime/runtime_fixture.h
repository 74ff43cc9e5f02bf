// SPDX-License-Identifier: Apache-2.0
//
// A real bundle for runtime tests: corpus kernels (../shared/corpus),
// minimized with bpftool against the project's bpf/ objects (the raw BTF
// where bpftool cannot), packed with BundleWriter and signed with a key made
// for the test. Built once per build tree (in the build directory, keyed by
// its inputs) and reused by every test process.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "btfpack/bundle.h"
#include "btfpack/keys.h"
#include "test_util.h"

namespace btfpack::test {

struct TestBundle {
  fs::path dir;                  // holds everything below
  fs::path bundle;               // the signed bundle
  fs::path pubkey, other_pubkey; // its key, and an unrelated trusted key
  std::vector<fs::path> objects; // the x86_64 bpf/ objects it was made for
  std::map<KernelKey, Sha256> digests;
  std::map<KernelKey, bool> minimized; // false: raw corpus BTF
};

// corpus_bundle builds (once) and returns the bundle: of a set of corpus
// kernels, or of the committed sample's four when ../shared is absent
// (has_corpus() false).
const TestBundle &corpus_bundle();

// minimize runs `bpftool gen min_core_btf` of `btf` against `objects`.
bool minimize(const fs::path &btf, const fs::path &out,
              const std::vector<fs::path> &objects, std::string *err);

// bpf_objects lists the bpf/ objects for an arch ("x86_64" or "arm64").
std::vector<fs::path> bpf_objects(const std::string &arch);

} // namespace btfpack::test
