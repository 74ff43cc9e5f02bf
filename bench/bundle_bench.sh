#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bundle_bench.sh [BUILD_DIR]: the signed bundle against tar.xz, side by side.
#  1. size: a bundle of the 105 corpus kernels minimized for build/bpf/*.bpf.o
#     vs `tar -cJf` of the same .btf files (over the directory, and over the
#     file list alone); target: bundle <= 1.1 x tar.xz + 1 KiB;
#  2. one lookup in a bundle of >= 20,000 entries (the real blobs replicated
#     under distinct release names): open + verify signature + find +
#     decompress one blob, vs extracting that one file from the tar.xz of the
#     same 20,000 files; targets: < 5 ms median, >= 20x faster, peak RSS
#     < 16 MB.
set -euo pipefail
BUILD=$(realpath "${1:-build}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=$(realpath "$SRC/../shared/corpus")
TOOL=$BUILD/bench/bundle_bench_tool
CLI=$BUILD/cli/btfpack
REPLICATE=${REPLICATE:-191} # 105 x 191 = 20,055 entries
for f in "$TOOL" "$CLI"; do [ -x "$f" ] || { echo "build first: $f missing" >&2; exit 2; }; done
shopt -s nullglob
OBJS=("$BUILD"/bpf/*.bpf.o)
[ ${#OBJS[@]} -gt 0 ] || { echo "no $BUILD/bpf/*.bpf.o" >&2; exit 2; }

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
ms() { echo $(( $(date +%s%N) / 1000 )); } # microseconds
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== minimizing the 105 corpus kernels for: ${OBJS[*]##*/}"
tail -n +2 "$CORPUS/INDEX.tsv" | while IFS=$'\t' read -r path distro ver arch rel _; do
  d=$W/min/$distro/$ver/$arch; mkdir -p "$d" "$W/x"
  tar -xJf "$CORPUS/archive/$path" -C "$W/x"
  bpftool gen min_core_btf "$W"/x/* "$d/$rel.btf" "${OBJS[@]}" >/dev/null
  rm -rf "$W/x"
done

"$CLI" keygen --out "$W/k" >/dev/null
(cd "$W/min" && find . -name '*.btf' | sort > "$W/list")
n=$(wc -l < "$W/list")

echo "== size ($n kernels)"
"$TOOL" make "$W/b.btfpack" "$W/k" "$W/min" >/dev/null
tar -cJf "$W/dir.tar.xz" -C "$W/min" .
(cd "$W/min" && tar -cJf "$W/list.tar.xz" -T "$W/list")
raw=$(cat "$W/list" | (cd "$W/min" && xargs cat) | wc -c)
b=$(stat -c %s "$W/b.btfpack")
td=$(stat -c %s "$W/dir.tar.xz")
tl=$(stat -c %s "$W/list.tar.xz")
printf '%-44s %8s\n' "raw .btf bytes (sum)" "$raw"
printf '%-44s %8s\n' "bundle (signed, manifest, blobs)" "$b"
for pair in "tar -cJf -C DIR . (directory)|$td" "tar -cJf -T LIST (files only)|$tl"; do
  name=${pair%|*}; t=${pair#*|}
  limit=$(awk -v t="$t" 'BEGIN {printf "%d", 1.1 * t + 1024}')
  verdict=$([ "$b" -le "$limit" ] && echo PASS || echo FAIL)
  printf '%-44s %8s  bundle/tar %.3f  limit 1.1x+1KiB %s  %s\n' "$name" "$t" \
    "$(awk -v a="$b" -v t="$t" 'BEGIN {print a / t}')" "$limit" "$verdict"
done
"$CLI" inspect "$W/b.btfpack" --key "$W/k.pub" | grep -E '^(blobs|sizes):'

echo "== one lookup, $((n * REPLICATE)) entries"
"$TOOL" make "$W/big.btfpack" "$W/k" "$W/min" "$REPLICATE"
# The same entries as files, for the tar.xz.
"$TOOL" tree "$W/min" "$W/bigmin" "$REPLICATE"
tar -cJf "$W/big.tar.xz" -C "$W/bigmin" .
entries=$(find "$W/bigmin" -name '*.btf' | wc -l)
bb=$(stat -c %s "$W/big.btfpack"); bt=$(stat -c %s "$W/big.tar.xz")
printf '%-44s %8s\n' "entries" "$entries"
printf '%-44s %8s\n' "bundle bytes" "$bb"
printf '%-44s %8s\n' "tar.xz bytes" "$bt"

# The kernel looked up: the middle entry of the tar, by name.
mid=$(tar -tJf "$W/big.tar.xz" | grep '\.btf$' | awk -v n="$entries" 'NR == int(n / 2)')
IFS=/ read -r _ distro ver arch file <<< "$mid"
rel=${file%.btf}
echo "kernel: $distro/$ver/$arch/$rel"

inproc=$("$TOOL" lookup "$W/big.btfpack" "$W/k.pub" "$distro" "$ver" "$arch" "$rel" "$W/out.btf" 200)
echo "in-process, 200 runs: $inproc"
cmp "$W/out.btf" "$W/bigmin/$mid" && echo "extracted BTF identical to the input file"

for i in $(seq 1 31); do
  s=$(ms); "$TOOL" lookup "$W/big.btfpack" "$W/k.pub" "$distro" "$ver" "$arch" "$rel" "$W/out.btf" 1 >/dev/null; e=$(ms)
  echo $((e - s))
done | median > "$W/b_us"
for i in $(seq 1 7); do
  s=$(ms); tar -xJf "$W/big.tar.xz" -O "$mid" > "$W/out2.btf"; e=$(ms)
  echo $((e - s))
done | median > "$W/t_us"
cmp "$W/out2.btf" "$W/bigmin/$mid"
b_us=$(cat "$W/b_us"); t_us=$(cat "$W/t_us")
rss_b=$("$TOOL" lookup "$W/big.btfpack" "$W/k.pub" "$distro" "$ver" "$arch" "$rel" "$W/out.btf" 1 | sed 's/.*maxrss_kb //')
rss_t=$( { /usr/bin/time -f '%M' tar -xJf "$W/big.tar.xz" -O "$mid" > /dev/null; } 2>&1 | tail -1)
printf '%-44s %10s %10s\n' "" "bundle" "tar.xz"
printf '%-44s %10.2f %10.2f\n' "one lookup, whole process, median ms" \
  "$(awk -v u="$b_us" 'BEGIN {print u / 1000}')" "$(awk -v u="$t_us" 'BEGIN {print u / 1000}')"
printf '%-44s %10s %10s\n' "peak RSS KiB" "$rss_b" "$rss_t"
printf 'speed-up (tar.xz / bundle, whole process): %.1fx  (target >= 20x)\n' \
  "$(awk -v a="$t_us" -v b="$b_us" 'BEGIN {print a / b}')"
