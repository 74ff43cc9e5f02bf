// SPDX-License-Identifier: Apache-2.0
//
// Host identification: the facts matching uses (kernel release, arch,
// os-release ID/VERSION_ID/ID_LIKE/NAME, native BTF) plus what explain shows
// (/proc/version, the kernel's GNU build-id). Each fact records where it came
// from, so an operator can see that a value was overridden or read from a
// host root mounted into a container.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "btfpack/result.h"

namespace btfpack {

// Fact is one value and where it came from ("uname(2)",
// "/host/etc/os-release", "--kernel-release", ...). An absent fact has an
// empty value and a source saying why ("missing: no os-release found").
struct Fact {
  std::string value;
  std::string source;
  bool present() const { return !value.empty(); }
};

// HostFacts describes the machine to resolve for.
struct HostFacts {
  Fact kernel_release; // uname -r
  Fact machine;        // uname -m
  Fact arch;           // machine in the archive's naming (aarch64 -> arm64)
  Fact os_id, os_version_id, os_id_like, os_name;
  Fact os_release_file; // which file was read
  Fact native_btf;      // "yes"/"no" with the path checked as source
  Fact proc_version;    // /proc/version (informational)
  Fact build_id;        // GNU build-id from /sys/kernel/notes, when readable
  // warnings: things explain should show (skipped os-release lines, an
  // unknown arch, an unreadable file).
  std::vector<std::string> warnings;

  bool has_native_btf() const { return native_btf.value == "yes"; }
  std::vector<std::string> id_like() const;
};

// HostOptions: where to look and which facts to override. Every override
// wins over detection and is recorded as the fact's source.
struct HostOptions {
  // host_root is prefixed to every host file (/etc/os-release,
  // /sys/kernel/btf/vmlinux, /proc/version, /sys/kernel/notes), for agents
  // in a container with the host's filesystem mounted. Absolute symlinks
  // inside it are resolved inside it.
  std::filesystem::path host_root;
  std::optional<std::string> kernel_release; // --kernel-release
  std::optional<std::string> machine;        // --arch (uname -m or archive)
  std::optional<std::filesystem::path> os_release_file; // --os-release
  std::optional<std::string> os_id, os_version_id, os_id_like;
  std::optional<bool> native_btf;
};

// known_arch tells whether an archive arch name is one btfhub-archive uses
// (x86_64, arm64, s390x, ppc64le, riscv64, loongarch64, ...).
bool known_arch(std::string_view arch);

// detect_host gathers the facts. It fails only when the kernel release or
// the machine cannot be determined (uname failing and no override); a missing
// or malformed os-release is a warning and an absent fact, since matching
// can still go kernel-first.
Result<HostFacts> detect_host(const HostOptions &opts = {});

} // namespace btfpack
