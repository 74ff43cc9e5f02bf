#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# seeds_bundle.sh [BUILD_DIR]: regenerate the seeds of the bundle,
# bundle_manifest and minisign fuzz targets from ../shared/corpus and the
# project's CO-RE objects: a real 3-kernel bundle, its manifest text and
# preamble, btfpack and minisign key files and signatures (throwaway keys).
set -euo pipefail
BUILD=$(realpath "${1:-build}")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=$(realpath "$SRC/../shared/corpus")
OUT=$SRC/fuzz/corpus
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
shopt -s nullglob
OBJS=("$BUILD"/bpf/*.bpf.o)
for path in debian/12/x86_64/6.1.0-47-amd64.btf.tar.xz \
            debian/12/x86_64/6.1.0-47-cloud-amd64.btf.tar.xz \
            amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64.btf.tar.xz; do
  d=$W/min/$(dirname "$path"); mkdir -p "$d" "$W/x"
  tar -xJf "$CORPUS/archive/$path" -C "$W/x"
  bpftool gen min_core_btf "$W"/x/* "$d/$(basename "$path" .tar.xz)" "${OBJS[@]}" >/dev/null
  rm -rf "$W/x"
done
mkdir -p "$OUT/bundle" "$OUT/bundle_manifest" "$OUT/minisign"
"$BUILD/cli/btfpack" keygen --out "$W/k" >/dev/null
"$BUILD/bench/bundle_bench_tool" make "$OUT/bundle/three-kernels.btfpack" "$W/k" "$W/min" >/dev/null
B=$OUT/bundle/three-kernels.btfpack
read -r _ _ sig man < <(head -n 1 "$B")
plen=$(head -n 1 "$B" | wc -c)
head -n 1 "$B" > "$OUT/bundle_manifest/preamble.txt"
tail -c +$((plen + sig + 1)) "$B" | head -c "$man" | zstd -dq > "$OUT/bundle_manifest/manifest.tsv"
tail -c +$((plen + 1)) "$B" | head -c "$sig" > "$OUT/minisign/btfpack.minisig"
cp "$W/k.pub" "$OUT/minisign/btfpack.pub"
cp "$W/k" "$OUT/minisign/btfpack.key"
minisign -G -W -p "$W/ms.pub" -s "$W/ms.key" >/dev/null
echo data > "$W/m"
minisign -S -s "$W/ms.key" -m "$W/m" >/dev/null
cp "$W/ms.pub" "$OUT/minisign/minisign.pub"
cp "$W/ms.key" "$OUT/minisign/minisign.key"
cp "$W/m.minisig" "$OUT/minisign/minisign.minisig"
ls -l "$OUT/bundle" "$OUT/bundle_manifest" "$OUT/minisign"
