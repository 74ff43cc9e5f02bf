#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every build and test dependency of btfpack from Debian 12's
# packages. Idempotent and non-interactive: does nothing when all are there.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config git
  clang llvm lld libclang-rt-14-dev clang-format
  libbpf-dev bpftool libelf-dev zlib1g-dev
  golang-go golang-github-cilium-ebpf-dev
  libcurl4-openssl-dev libarchive-dev nlohmann-json3-dev libssl-dev
  libzstd-dev zstd xz-utils libcli11-dev
  libgtest-dev libgmock-dev googletest
  minisign nginx-light curl
  qemu-system-x86 busybox-static cpio
  rpm dpkg-dev file jq rsync python3-yaml
  man-db bsdextrautils
  strace
  # The static host btfpack (cmake/BtfpackStaticSubbuild.cmake): x86_64
  # natively, aarch64 cross-built from the arm64 static archives, run under
  # qemu-user in the tests.
  crossbuild-essential-arm64 qemu-user-static
  libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64
  libssl-dev:arm64
  # The arm64 VM test (tests/vm, --guest-arch aarch64).
  qemu-system-arm
)

# gitlab-ci-local (the suite runs packaging/ci/gitlab-ci.yml with it) needs
# node and npm; Debian's, unless some node is already there.
command -v npm >/dev/null || PKGS+=(nodejs npm)

# The arm64 VM test's initramfs needs a static arm64 busybox; busybox-static
# for amd64 (the x86_64 VM test's) and for arm64 cannot both be installed,
# so the arm64 one is unpacked from its package where run-vm-test.sh looks.
BUSYBOX_A64=/usr/local/lib/btfpack-vm/busybox-aarch64
if [ ! -x "$BUSYBOX_A64" ] &&
  ! dpkg-query -W -f='${Status}' busybox-static:arm64 2>/dev/null | grep -q "install ok installed"; then
  S=""
  [ "$(id -u)" -eq 0 ] || S="sudo"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $S dpkg --add-architecture arm64
  fi
  $S apt-get update -qq
  d=$(mktemp -d)
  (cd "$d" && apt-get download -qq busybox-static:arm64 >/dev/null &&
    dpkg-deb -x busybox-static_*_arm64.deb x &&
    $S install -D -m 0755 x/bin/busybox "$BUSYBOX_A64")
  rm -rf "$d"
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
# gitlab-ci-local at the version pinned in its package-lock.json, into the
# checkout (git-ignored); the test finds it there.
install_gitlab_ci_local() {
  local dir
  dir="$(dirname "$0")/../tests/packaging/gitlab-ci-local"
  [ -x "$dir/node_modules/.bin/gitlab-ci-local" ] && return 0
  echo "install-deps: npm ci gitlab-ci-local into $dir" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}
if [ ${#missing[@]} -eq 0 ]; then
  install_gitlab_ci_local
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
install_gitlab_ci_local
