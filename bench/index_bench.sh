#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# archive-index benchmark, all figures from one run, side by side:
#  1. hashing throughput of `btfpack index` over ../shared/corpus/archive
#     against sha256sum over the same files (single process, and two in
#     parallel for 2 cores); the issue's target is >= 80% of sha256sum;
#  2. a warm incremental re-run of `btfpack index` (target < 0.2 s);
#  3. reading a generated 25,000-entry index file (target < 100 ms).
# usage: bench/index_bench.sh [BUILD_DIR] [MIRROR]   (default: build, ../shared/corpus/archive)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
mirror=${2:-$here/../shared/corpus/archive}
btfpack=$build/cli/btfpack
parse_bench=$build/archive-index/index_parse_bench
[ -x "$btfpack" ] || { echo "index_bench: build first: $btfpack not found" >&2; exit 1; }
[ -x "$parse_bench" ] || { echo "index_bench: $parse_bench not found" >&2; exit 1; }
[ -d "$mirror" ] || { echo "index_bench: no mirror at $mirror" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=5

# best wall-clock seconds of $runs runs of a command
best() {
  b=""
  i=0
  while [ $i -lt $runs ]; do
    s=$(date +%s.%N)
    "$@" >/dev/null
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
    i=$((i + 1))
  done
  echo "$b"
}

files=$(find "$mirror" -name '*.btf.tar.xz' -type f | wc -l)
bytes=$(find "$mirror" -name '*.btf.tar.xz' -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
mb=$(echo "$bytes / 1000000" | bc -l)
find "$mirror" -name '*.btf.tar.xz' -type f -print0 > "$tmp/list"
cat $(find "$mirror" -name '*.btf.tar.xz' -type f) > /dev/null # warm the page cache

echo "machine: $(nproc) cores, $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mirror: $mirror ($files files, $(printf '%.1f' "$mb") MB), best of $runs runs"
echo

t_sum1=$(best sh -c "xargs -0 sha256sum < '$tmp/list'")
t_sum2=$(best sh -c "xargs -0 -n $(( (files + 1) / 2 )) -P 2 sha256sum < '$tmp/list'")
t_idx=$(best "$btfpack" index --no-write --full --jobs "$(nproc)" "$mirror")
t_idx1=$(best "$btfpack" index --no-write --full --jobs 1 "$mirror")
r() { echo "$mb / $1" | bc -l; }
printf '%-44s %8.3f s %8.0f MB/s\n' "sha256sum (1 process)" "$t_sum1" "$(r "$t_sum1")"
printf '%-44s %8.3f s %8.0f MB/s\n' "sha256sum (2 processes, xargs -P2)" "$t_sum2" "$(r "$t_sum2")"
printf '%-44s %8.3f s %8.0f MB/s\n' "btfpack index --full --jobs 1" "$t_idx1" "$(r "$t_idx1")"
printf '%-44s %8.3f s %8.0f MB/s\n' "btfpack index --full (jobs = $(nproc))" "$t_idx" "$(r "$t_idx")"
printf 'ratio btfpack/sha256sum, same parallelism:   1 job %.0f%%, %s jobs %.0f%%   (target >= 80%%)\n' \
  "$(echo "100 * $t_sum1 / $t_idx1" | bc -l)" "$(nproc)" "$(echo "100 * $t_sum2 / $t_idx" | bc -l)"
echo

# warm incremental re-run on a hard-linked copy (index.json goes there)
cp -al "$mirror" "$tmp/mirror" 2>/dev/null || cp -a "$mirror" "$tmp/mirror"
"$btfpack" index "$tmp/mirror" > /dev/null
t_inc=$(best "$btfpack" index "$tmp/mirror")
hashed=$("$btfpack" -j index "$tmp/mirror" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hashed_files"])')
printf '%-44s %8.3f s  (%s files re-hashed; target < 0.2 s)\n' "btfpack index, warm incremental re-run" "$t_inc" "$hashed"
echo

# parsing a generated 25,000-entry index file
"$parse_bench" 25000 "$tmp/index-25k.json" | awk '{
  for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "%-44s %8.1f ms wall (median %.1f), %.1f ms CPU (median %.1f); %.1f MB file; target < 100 ms\n",
    "read 25,000-entry index.json", v["best_ms"], v["median_ms"], v["cpu_best_ms"], v["cpu_median_ms"], v["bytes"] / 1e6 }'
