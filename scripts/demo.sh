#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README's main command: the whole btfpack story on the built-in default.
#   1. build btfpack and the project's CO-RE programs (bpf/);
#   2. make a throwaway signing key;
#   3. minimize the committed Debian sample archive (tests/data/archive) and,
#      where the kernel has BTF, this host's own kernel (entered under its
#      os-release facts) for bpf/'s objects, into one signed bundle;
#   4. verify it, install it into a temporary store;
#   5. explain and resolve for this host, and (as root) load the programs
#      with the BTF btfpack chose and check the values they read.
# Works without ../shared and without network (after the apt step).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

BUILD=${BUILD_DIR:-build}
OUT=${OUT_DIR:-out/demo}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "build"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target btfpack btfpack-build btfpack-bpf-demo -j"$(nproc)"
BP=$BUILD/cli/btfpack
DEMO=$BUILD/bpf/btfpack-bpf-demo

rm -rf "$OUT"
mkdir -p "$OUT/keys"
step "keygen (throwaway key)"
$BP keygen --out "$OUT/demo-key"
cp "$OUT/demo-key.pub" "$OUT/keys/"

# This host's facts, the way btfpack reads them (see docs/matching.md).
release=$(uname -r)
arch=$(uname -m)
case "$arch" in aarch64) arch=arm64 ;; amd64) arch=x86_64 ;; esac
osr=/etc/os-release
[ -r "$osr" ] || osr=/usr/lib/os-release
ID=$(. "$osr" && echo "${ID:-linux}")
VERSION_ID=$(. "$osr" && echo "${VERSION_ID:-}")
extra=()
if [ -r /sys/kernel/btf/vmlinux ] && [ -n "$VERSION_ID" ]; then
  extra=(--extra "$ID/$VERSION_ID/$arch/$release=/sys/kernel/btf/vmlinux")
fi

step "gen: sample archive$([ ${#extra[@]} -gt 0 ] && echo " + this host's kernel ($ID/$VERSION_ID/$arch/$release)") -> signed bundle"
objects=()
for o in "$BUILD"/bpf/*.bpf.o "$BUILD"/bpf/arm64/*.bpf.o; do objects+=(--object "$o"); done
$BP gen --archive tests/data/archive "${objects[@]}" "${extra[@]}" \
  --bundle "$OUT/demo.btfpack" --key "$OUT/demo-key" \
  --bundle-name demo --bundle-version 1 \
  --report "$OUT/coverage.json" --cache "$OUT/gen-cache"

step "verify and inspect (docs/bundle-format.md shows the same check with minisign)"
$BP verify "$OUT/demo.btfpack" --key "$OUT/demo-key.pub"
$BP inspect "$OUT/demo.btfpack" --key "$OUT/demo-key.pub"

step "install into a temporary store"
export BTFPACK_STORE=$PWD/$OUT/store BTFPACK_KEYS_DIR=$PWD/$OUT/keys
$BP install "$OUT/demo.btfpack"
$BP list

step "explain: which BTF this host gets, and why"
$BP explain
step "resolve (native BTF first, as libbpf would)"
$BP resolve
if [ ${#extra[@]} -gt 0 ]; then
  step "resolve --prefer-bundle (this host's entry from the bundle)"
  btf=$($BP resolve --prefer-bundle --cache-dir "$PWD/$OUT/btf-cache" | tail -n1)
  echo "$btf"
  if [ "$(id -u)" -eq 0 ]; then
    step "load and attach bpf/'s programs with that BTF; check what they read"
    $DEMO all --btf "$btf"
  else
    echo "(not root: skipping the load; run as root to load the programs)"
  fi
fi
step "done: bundle $OUT/demo.btfpack, report $OUT/coverage.json"
