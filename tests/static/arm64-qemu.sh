#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arm64-qemu.sh X86_BTFPACK AARCH64_BTFPACK FIXTURE_DIR DATA_DIR
# The aarch64 static btfpack, run under qemu-user (qemu-aarch64-static, which
# reports `uname -m` aarch64), gives exactly the JSON of resolve and explain
# that the x86_64 build gives for the same arm64 host facts (--arch aarch64
# there): Debian 12 arm64 and, from the corpus, CentOS 8 / Amazon Linux 2
# aarch64 kernels.
set -euo pipefail
X86=$1 A64=$2 FIX=$3 DATA=$4
QEMU=$(command -v qemu-aarch64-static || true)
[ -n "$QEMU" ] || { echo "SKIP: qemu-aarch64-static not found (apt-get install qemu-user-static)"; exit 77; }
[ -x "$A64" ] || { echo "FAIL: $A64 missing (the aarch64 static sub-build)"; exit 1; }
T=$(mktemp -d) && trap 'rm -rf "$T"' EXIT
rc=0
check() { # name release os-release-file
  local name=$1 rel=$2 osr=$3
  local common=(--bundle "$FIX/bundle" --key "$FIX/key.pub" --kernel-release "$rel"
    --os-release "$osr" --native-btf no --cache-dir "$T/cache")
  for cmd in resolve explain; do
    "$X86" -j "$cmd" "${common[@]}" --arch aarch64 >"$T/x86.json" 2>"$T/x86.err" || true
    # Without --arch: the arch is qemu-user's uname -m.
    "$QEMU" "$A64" -j "$cmd" "${common[@]}" >"$T/a64.json" 2>"$T/a64.err" || true
    if ! jq -e . "$T/x86.json" >/dev/null; then
      echo "FAIL $name $cmd: x86_64 output is not JSON:"; cat "$T/x86.json" "$T/x86.err"; rc=1; continue
    fi
    if cmp -s "$T/x86.json" "$T/a64.json"; then
      echo "ok $name $cmd: $(jq -c '{match: .match, path: .path}' "$T/x86.json" 2>/dev/null)"
    else
      echo "FAIL $name $cmd: aarch64 and x86_64 answers differ"
      diff <(jq -S . "$T/x86.json") <(jq -S . "$T/a64.json" 2>/dev/null || cat "$T/a64.json" "$T/a64.err") || true
      rc=1
    fi
  done
}
arch=$("$QEMU" "$A64" -j explain --bundle "$FIX/bundle" --key "$FIX/key.pub" \
  --native-btf no --cache-dir "$T/cache" --kernel-release 6.1.0-55-arm64 \
  --os-release "$DATA/os-release/debian-12" 2>/dev/null | jq -r '.. | .arch? // empty' | head -1)
echo "arch seen by the aarch64 btfpack under qemu-user: $arch"
check debian-12-arm64 6.1.0-55-arm64 "$DATA/os-release/debian-12"
for f in "$FIX"/archive/centos/8/aarch64/*.btf.tar.xz; do
  [ -e "$f" ] || continue
  r=$(basename "$f" .btf.tar.xz)
  check "centos-8-aarch64" "$r" "$DATA/os-release/centos-8"
done
for f in "$FIX"/archive/amzn/2/arm64/*.btf.tar.xz; do
  [ -e "$f" ] || continue
  r=$(basename "$f" .btf.tar.xz)
  check "amzn-2-arm64" "$r" "$DATA/os-release/amzn-2"
done
# A release the bundle does not hold: the same refusal on both.
check debian-12-arm64-unknown 6.1.0-99-arm64 "$DATA/os-release/debian-12"
exit $rc
