#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Go agent through a bundle (CTest go_agent_prefer_bundle, privileged):
# gen a bundle from the sample archive plus this host's kernel for
# nspid.bpf.o, then let btfpack-go-agent resolve with --prefer-bundle, load
# with the bundle's BTF and check the values it reads. A wrong kernel's BTF
# (Debian 11's, from the same bundle) must not pass that check.
#   test.sh BTFPACK AGENT BPF_OBJ_DIR SAMPLE_ARCHIVE       exit 77: skipped
set -euo pipefail
BP=$1 AGENT=$2 OBJ=$3/nspid.bpf.o ARCHIVE=$4
skip() { echo "SKIP: $*"; exit 77; }
caps=$((16#$(awk '/^CapEff/ {print $2}' /proc/self/status)))
if (( !(caps >> 21 & 1) )) && (( !(caps >> 39 & 1) || !(caps >> 38 & 1) )); then
  skip "needs CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN (sudo ctest -L privileged)"
fi
[ -r /sys/kernel/btf/vmlinux ] || skip "kernel has no /sys/kernel/btf/vmlinux to make this host's entry from"
. /etc/os-release
arch=$(uname -m)
[ "$arch" = aarch64 ] && arch=arm64
[ "$arch" = x86_64 ] || skip "the sample archive's wrong-kernel check is x86_64"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BP" keygen --out "$tmp/k" >/dev/null
"$BP" gen --archive "$ARCHIVE" --object "$OBJ" \
  --extra "$ID/$VERSION_ID/$arch/$(uname -r)=/sys/kernel/btf/vmlinux" \
  --bundle "$tmp/b.btfpack" --key "$tmp/k" --cache "$tmp/gen-cache" >/dev/null
out=$("$AGENT" -object "$OBJ" -btfpack "$BP" -- --bundle "$tmp/b.btfpack" \
  --key "$tmp/k.pub" --prefer-bundle --cache-dir "$tmp/cache" 2>&1) || {
  echo "$out"; echo "FAIL: the agent failed with this host's BTF from the bundle"; exit 1; }
echo "$out"
grep -q "^btf: $tmp/cache/" <<<"$out" || { echo "FAIL: not the bundle's BTF"; exit 1; }
grep -q "values correct" <<<"$out" || { echo "FAIL: no correct values"; exit 1; }
# Debian 11's 5.10 BTF on this kernel: the agent must notice.
if bad=$("$AGENT" -object "$OBJ" -btfpack "$BP" -- --bundle "$tmp/b.btfpack" \
  --key "$tmp/k.pub" --prefer-bundle --cache-dir "$tmp/cache" \
  --kernel-release 5.10.0-32-amd64 --os-id debian --os-version-id 11 --native-btf no 2>&1); then
  echo "$bad"; echo "FAIL: the wrong kernel's BTF passed the check"; exit 1
fi
echo "wrong kernel's BTF refused: ${bad##*$'\n'}"
echo "PASS"
