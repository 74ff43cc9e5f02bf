#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Rebuilds this fixture: Debian's linux-source-6.1 cross-built for arm64 with
# gcc-aarch64-linux-gnu, tinyconfig plus config.fragment (the x86_64
# fixture's options, with the PL011 serial console of qemu's `virt` machine;
# DWARF on, CONFIG_DEBUG_INFO_BTF off). The kernel's BTF is then made
# separately from its DWARF with pahole, the way btfhub makes BTF for distro
# kernels without it, and packed like a btfhub-archive entry.
#   tests/data/kernels/nobtf-6.1-arm64/build.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/var/tmp/nobtf-arm64-build}
export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
need=(linux-source-6.1 gcc-aarch64-linux-gnu flex bison bc libelf-dev libssl-dev dwarves xz-utils)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$work" && cd "$work"
[ -d linux-source-6.1 ] || tar xJf /usr/src/linux-source-6.1.tar.xz
cd linux-source-6.1
make tinyconfig >/dev/null
./scripts/kconfig/merge_config.sh -m .config "$here/config.fragment" >/dev/null
make olddefconfig >/dev/null
# Every line of the fragment must have survived olddefconfig.
while IFS= read -r line; do
  case "$line" in
  # "=n" holds when the option is off or not offered at all (ACPI on arm64
  # without PCI).
  CONFIG_*=n) ! grep -q "^${line%=n}=[ym]" .config || { echo "build.sh: $line did not take" >&2; exit 1; } ;;
  CONFIG_*) grep -qx "$line" .config || { echo "build.sh: $line did not take" >&2; exit 1; } ;;
  esac
done <"$here/config.fragment"
make -j"$(nproc)" Image
release=$(make -s kernelrelease)
pahole --btf_encode_detached="$work/$release.btf" vmlinux
gzip -9n <arch/arm64/boot/Image >"$here/Image.gz"
cp .config "$here/config"
tar -C "$work" --owner=0 --group=0 --numeric-owner --mtime=@0 -cJf "$here/$release.btf.tar.xz" "$release.btf"
ls -l "$here/Image.gz" "$here/$release.btf.tar.xz"
