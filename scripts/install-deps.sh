#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every build and test dependency of btfpack from Debian 12's
# packages. Idempotent and non-interactive: does nothing when all are there.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config git
  clang llvm lld libclang-rt-14-dev clang-format
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libcurl4-openssl-dev libarchive-dev nlohmann-json3-dev libssl-dev
  libzstd-dev zstd xz-utils libcli11-dev
  libgtest-dev libgmock-dev googletest
  minisign nginx-light curl
  qemu-system-x86 busybox-static cpio
  rpm dpkg-dev file jq
  strace
  # The static host btfpack (cmake/BtfpackStaticSubbuild.cmake): x86_64
  # natively, aarch64 cross-built from the arm64 static archives, run under
  # qemu-user in the tests.
  crossbuild-essential-arm64 qemu-user-static
  libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64
  libssl-dev:arm64
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# The :arm64 packages need the architecture known to dpkg.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
