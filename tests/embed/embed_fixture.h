// SPDX-License-Identifier: Apache-2.0
//
// A bundle for this very host, as an agent would embed it: this kernel's
// BTF (/sys/kernel/btf/vmlinux) minimized by bpftool against the x86_64 or
// arm64 bpf/ objects, entered under this host's os-release facts, signed
// with a key made for the test; its bytes and key text kept in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "btfpack/bundle.h"
#include "btfpack/host.h"
#include "test_util.h"

namespace btfpack::test {

struct HostBundle {
  HostFacts host;
  fs::path bundle, pub;            // the files
  std::vector<std::uint8_t> bytes; // the bundle's bytes
  std::string pub_text;            // the .pub file's text
  std::string other_pub_text;      // an unrelated key's .pub text
  std::vector<std::uint8_t> blob;  // the BTF entered for this host
  std::vector<fs::path> objects;   // the objects it was minimized for
};

// make_host_bundle writes the bundle into `dir`; false with `why` when this
// host cannot have one (no native BTF to minimize, no os-release ID).
bool make_host_bundle(const fs::path &dir, HostBundle &out, std::string &why);

} // namespace btfpack::test
