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
same() { # label file-a file-b [jq filter]
  # The x86_64 build, asked for --arch aarch64, adds a note that this
  # machine cannot load the chosen arm64 entry; on aarch64 there is none.
  local own='walk(if type == "object" and has("notes") then
    (.notes |= map(select(startswith("this machine is") | not)))
    | if .notes == [] then del(.notes) else . end else . end)'
  local f="$own | ${4:-.}"
  if cmp -s <(jq -S "$f" "$2") <(jq -S "$f" "$3" 2>/dev/null); then
    echo "ok $1: $(jq -c '{match: (.match // .decision.match), path: (.path // .handed_over)}' "$2" 2>/dev/null)"
  else
    echo "FAIL $1: aarch64 and x86_64 answers differ"
    diff <(jq -S "$f" "$2") <(jq -S "$f" "$3" 2>/dev/null || cat "$3") || true
    rc=1
  fi
}
check() { # name release os-release-file
  local name=$1 rel=$2 osr=$3
  local common=(--bundle "$FIX/bundle" --key "$FIX/key.pub" --kernel-release "$rel"
    --os-release "$osr" --native-btf no --cache-dir "$T/cache")
  for cmd in resolve explain; do
    # Each run starts with an empty cache, so all write the same file.
    rm -rf "$T/cache"
    "$X86" -j "$cmd" "${common[@]}" --arch aarch64 >"$T/x86.json" 2>"$T/x86.err" || true
    if ! jq -e . "$T/x86.json" >/dev/null; then
      echo "FAIL $name $cmd: x86_64 output is not JSON:"; cat "$T/x86.json" "$T/x86.err"; rc=1; continue
    fi
    rm -rf "$T/cache"
    "$QEMU" "$A64" -j "$cmd" "${common[@]}" --arch aarch64 >"$T/a64.json" 2>"$T/a64.err" || true
    same "$name $cmd (--arch aarch64 on both)" "$T/x86.json" "$T/a64.json"
    # Without --arch the aarch64 build takes qemu-user's uname -m: the same
    # answer; only the facts' "source" fields say uname(2) instead of --arch.
    rm -rf "$T/cache"
    "$QEMU" "$A64" -j "$cmd" "${common[@]}" >"$T/a64u.json" 2>"$T/a64u.err" || true
    same "$name $cmd (uname -m on aarch64)" "$T/x86.json" "$T/a64u.json" \
      'del(.host.arch.source, .host.machine.source)'
  done
}
arch=$("$QEMU" "$A64" -j explain --bundle "$FIX/bundle" --key "$FIX/key.pub" \
  --native-btf no --cache-dir "$T/cache" --kernel-release 6.1.0-55-arm64 \
  --os-release "$DATA/os-release/debian-12" 2>/dev/null | jq -r '.host.machine.value')
echo "uname -m seen by the aarch64 btfpack under qemu-user: $arch"
[ "$arch" = aarch64 ] || { echo "FAIL: expected aarch64"; rc=1; }
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
