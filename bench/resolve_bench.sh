#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# runtime benchmark, all figures from one run, side by side with the
# issue's targets:
#  1. `btfpack resolve` end to end as a process (start, verify, match,
#     hand over through the cache) on a 20,000-entry bundle: median wall
#     time (target < 10 ms), and `btfpack --version` as the process floor;
#  2. the in-process API call btfpack::resolve() (verify, match, check,
#     memfd hand-off): median (target < 5 ms);
#  3. peak RSS of `btfpack resolve` (target < 16 MB).
# The bundle's blobs are real minimized BTFs: corpus Debian kernels run
# through `bpftool gen min_core_btf` against the bpf/ objects.
# usage: bench/resolve_bench.sh [BUILD_DIR] [ENTRIES] [RUNS]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
entries=${2:-20000}
runs=${3:-50}
btfpack=$build/cli/btfpack
helper=$build/runtime/resolve_bench
corpus=$here/../shared/corpus/archive
for f in "$btfpack" "$helper"; do
  [ -x "$f" ] || { echo "resolve_bench: build first: $f not found" >&2; exit 1; }
done
[ -d "$corpus" ] || { echo "resolve_bench: no corpus at $corpus" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Real minimized BTFs for the blobs.
mins=""
for k in 6.1.0-47-amd64 6.1.0-50-amd64 6.1.0-53-cloud-amd64 6.1.0-56-rt-amd64 \
         6.12.107+deb12-amd64 6.12.115+deb12-cloud-amd64; do
  tar -xJf "$corpus/debian/12/x86_64/$k.btf.tar.xz" -C "$tmp"
  bpftool gen min_core_btf "$tmp/$k.btf" "$tmp/$k.min.btf" "$build"/bpf/*.bpf.o
  rm -f "$tmp/$k.btf"
  mins="$mins $tmp/$k.min.btf"
done
# shellcheck disable=SC2086
set -- $("$helper" make "$tmp/b" "$entries" $mins)
distro=$1 version=$2 arch=$3 release=$4
bundle=$tmp/b/bench.btfpack
pub=$tmp/b/bench.key.pub
size=$(stat -c %s "$bundle")

resolve() {
  "$btfpack" resolve --bundle "$bundle" --key "$pub" --native-btf no \
    --kernel-release "$release" --arch "$arch" --os-id "$distro" \
    --os-version-id "$version" --cache-dir "$tmp/cache"
}
resolve >/dev/null # first run writes the cache file

# median wall-clock milliseconds of $runs runs of a command
median_ms() {
  i=0
  : >"$tmp/times"
  while [ $i -lt "$runs" ]; do
    s=$(date +%s%N)
    "$@" >/dev/null
    e=$(date +%s%N)
    echo $(((e - s) / 1000)) >>"$tmp/times"
    i=$((i + 1))
  done
  sort -n "$tmp/times" | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}

proc=$(median_ms resolve)
floor=$(median_ms "$btfpack" --version)
api=$("$helper" api "$bundle" "$pub" "$release" "$distro" "$version" "$arch" "$runs")
api_med=${api%% *}
rss=$(/usr/bin/time -f %M sh -c "\"$btfpack\" resolve --bundle \"$bundle\" --key \"$pub\" --native-btf no --kernel-release \"$release\" --arch \"$arch\" --os-id \"$distro\" --os-version-id \"$version\" --cache-dir \"$tmp/cache\" >/dev/null" 2>&1 | tail -1)
rss_mb=$(awk -v k="$rss" 'BEGIN {printf "%.1f", k/1024}')

echo "bundle: $entries entries, $(($size / 1024)) KiB, host $distro/$version/$arch/$release, $runs runs each"
printf '%-44s %10s %10s %8s\n' "measure" "value" "target" "ratio"
printf '%-44s %8s ms %8s ms %8s\n' "btfpack resolve (process, median)" "$proc" "10" \
  "$(awk -v a="$proc" 'BEGIN {printf "%.2f", a/10}')"
printf '%-44s %8s ms %10s %8s\n' "  btfpack --version (process floor)" "$floor" "-" "-"
printf '%-44s %8s ms %8s ms %8s\n' "btfpack::resolve() in-process (median)" "$api_med" "5" \
  "$(awk -v a="$api_med" 'BEGIN {printf "%.2f", a/5}')"
printf '%-44s %8s MB %8s MB %8s\n' "btfpack resolve peak RSS" "$rss_mb" "16" \
  "$(awk -v a="$rss_mb" 'BEGIN {printf "%.2f", a/16}')"
