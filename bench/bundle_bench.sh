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

echo "load average before timing: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
# In process (the library call a host makes): open + verify + find +
# decompress, vs libarchive extracting the member from the tar.xz.
inproc=$("$TOOL" lookup "$W/big.btfpack" "$W/k.pub" "$distro" "$ver" "$arch" "$rel" "$W/out.btf" 200)
intar=$("$TOOL" tarxz "$W/big.tar.xz" "$mid" "$W/out3.btf" 15)
cmp "$W/out.btf" "$W/bigmin/$mid"
cmp "$W/out3.btf" "$W/bigmin/$mid"
field() { sed "s/.*$1 \([0-9.]*\).*/\1/"; }
# Whole process: bundle_bench_tool (1 lookup) vs `tar -xJf ARCHIVE MEMBER`.
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
rss_b=$("$TOOL" lookup "$W/big.btfpack" "$W/k.pub" "$distro" "$ver" "$arch" "$rel" "$W/out.btf" 1 | field maxrss_kb)
rss_t=$( { /usr/bin/time -f '%M' tar -xJf "$W/big.tar.xz" -O "$mid" > /dev/null; } 2>&1 | tail -1)
echo "every extracted BTF is identical to the input file"
printf '%-48s %10s %10s %8s\n' "one kernel's BTF out of $entries entries" "bundle" "tar.xz" "ratio"
row() { printf '%-48s %10.3f %10.3f %7.1fx\n' "$1" "$2" "$3" "$(awk -v a="$3" -v b="$2" 'BEGIN {print a / b}')"; }
row "in process, median ms (200 / 15 runs)" "$(echo "$inproc" | field median_ms)" "$(echo "$intar" | field median_ms)"
row "in process, fastest ms" "$(echo "$inproc" | field min_ms)" "$(echo "$intar" | field min_ms)"
row "whole process, median ms (31 / 7 runs)" \
  "$(awk -v u="$b_us" 'BEGIN {print u / 1000}')" "$(awk -v u="$t_us" 'BEGIN {print u / 1000}')"
printf '%-48s %10s %10s\n' "peak RSS KiB, whole process" "$rss_b" "$rss_t"
echo "targets: bundle median < 5 ms incl. signature check, >= 20x faster, peak RSS < 16384 KiB"
echo "load average after timing: $(cut -d' ' -f1-3 /proc/loadavg)"
