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
#  3. peak RSS of `btfpack resolve` (target < 16 MB);
#  4. resolve from an embedded bundle (the bundle's bytes and key in
#     memory, as btfpack_embed_bundle links them) against resolve from the
#     file, in-process, side by side (issue 17);
#  5. instructions (valgrind --tool=callgrind, when installed): of the whole
#     `btfpack resolve` process and of the first in-process resolve() call,
#     which a noisy machine does not change.
# BASELINE=path/to/an/older/btfpack adds its rows beside (before/after of a
# change, in one run).
# The bundle's blobs are real minimized BTFs: corpus Debian kernels run
# through `bpftool gen min_core_btf` against the bpf/ objects.
# usage: [BASELINE=BTFPACK] bench/resolve_bench.sh [BUILD_DIR] [ENTRIES] [RUNS]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
entries=${2:-20000}
runs=${3:-50}
btfpack=$build/cli/btfpack
helper=$build/runtime/resolve_bench
corpus=${BTFPACK_CORPUS_DIR:-$here/../shared/corpus}/archive
baseline=${BASELINE:-}
for f in "$btfpack" "$helper" $baseline; do
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

"$btfpack" resolve --bundle "$bundle" --key "$pub" --native-btf no --kernel-release "$release" --arch "$arch" --os-id "$distro" --os-version-id "$version" --cache-dir "$tmp/cache" >/dev/null # first run writes the cache file

# "median_ms min_ms max_ms median_cpu_ms" of $runs spawns of a command
proc() { "$helper" proc "$runs" "$@"; }
field() { echo "$1" | cut -d' ' -f"$2"; }

p_resolve=$(proc "$btfpack" resolve --bundle "$bundle" --key "$pub" --native-btf no \
  --kernel-release "$release" --arch "$arch" --os-id "$distro" \
  --os-version-id "$version" --cache-dir "$tmp/cache")
p_floor=$(proc "$btfpack" --version)
p_true=$(proc /bin/true)
# The same work in a process that links only btfpack_runtime.
p_small=$(proc "$helper" api "$bundle" "$pub" "$release" "$distro" "$version" "$arch" 1)
api=$("$helper" api "$bundle" "$pub" "$release" "$distro" "$version" "$arch" "$runs")
rss=$(/usr/bin/time -f %M "$btfpack" resolve --bundle "$bundle" --key "$pub" \
  --native-btf no --kernel-release "$release" --arch "$arch" --os-id "$distro" \
  --os-version-id "$version" --cache-dir "$tmp/cache" 2>&1 >/dev/null | tail -1)
rss_mb=$(awk -v k="$rss" 'BEGIN {printf "%.1f", k/1024}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

echo "bundle: $entries entries, $(($size / 1024)) KiB, host $distro/$version/$arch/$release, $runs runs each"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf '%-46s %9s %9s %9s %7s\n' "measure (median of $runs)" "wall ms" "cpu ms" "target" "ratio"
printf '%-46s %9s %9s %9s %7s\n' "btfpack resolve (process, end to end)" \
  "$(field "$p_resolve" 1)" "$(field "$p_resolve" 4)" "10 ms" "$(ratio "$(field "$p_resolve" 1)" 10)"
printf '%-46s %9s %9s %9s %7s\n' "  floor: btfpack --version (process)" \
  "$(field "$p_floor" 1)" "$(field "$p_floor" 4)" "-" "-"
printf '%-46s %9s %9s %9s %7s\n' "  floor: /bin/true (process)" \
  "$(field "$p_true" 1)" "$(field "$p_true" 4)" "-" "-"
printf '%-46s %9s %9s %9s %7s\n' "  resolve in a runtime-only process" \
  "$(field "$p_small" 1)" "$(field "$p_small" 4)" "-" "-"
printf '%-46s %9s %9s %9s %7s\n' "btfpack::resolve() in-process (memfd)" \
  "$(field "$api" 1)" "$(field "$api" 4)" "5 ms" "$(ratio "$(field "$api" 1)" 5)"
printf '%-46s %9s %9s %9s %7s\n' "btfpack resolve peak RSS (MB)" "$rss_mb" "-" "16 MB" "$(ratio "$rss_mb" 16)"

# ---- Embedded (bytes in memory) against file, in-process, the same
# bundle and host; ratio = embedded / file (below 1: embedded is faster).
emb=$("$helper" api-embedded "$bundle" "$pub" "$release" "$distro" "$version" "$arch" "$runs")
fil=$("$helper" api "$bundle" "$pub" "$release" "$distro" "$version" "$arch" "$runs")
echo
printf '%-46s %9s %9s %9s %9s\n' "btfpack::resolve() in-process (median of $runs)" "wall ms" "min ms" "cpu ms" "emb/file"
printf '%-46s %9s %9s %9s %9s\n' "  from the bundle file (Bundle::open)" \
  "$(field "$fil" 1)" "$(field "$fil" 2)" "$(field "$fil" 4)" "-"
printf '%-46s %9s %9s %9s %9s\n' "  from embedded bytes (Bundle::open_view)" \
  "$(field "$emb" 1)" "$(field "$emb" 2)" "$(field "$emb" 4)" "$(ratio "$(field "$emb" 1)" "$(field "$fil" 1)")"

# ---- The static host btfpack (build/static/x86_64/cli/btfpack) side by
# side with the dynamic build, /bin/true and extracting the one file from a
# tar.xz of the same minimized BTFs (one file per entry, as libbpf-tools'
# min_core_btfs.tar.gz and btfhub ship them). Wall ms (median) and peak RSS.
static=$build/static/x86_64/cli/btfpack
tool=$build/bench/bundle_bench_tool
if [ -x "$static" ] && [ -x "$tool" ]; then
  mkdir -p "$tmp/min/debian/12/x86_64" "$tmp/xo"
  for m in $mins; do cp "$m" "$tmp/min/debian/12/x86_64/$(basename "$m" .min.btf).btf"; done
  "$tool" tree "$tmp/min" "$tmp/tree" $(( (entries + 5) / 6 )) >/dev/null
  tar -cJf "$tmp/tree.tar.xz" -C "$tmp/tree" .
  n_tar=$(tar -tJf "$tmp/tree.tar.xz" | grep -c '\.btf$')
  mid=$(tar -tJf "$tmp/tree.tar.xz" | grep '\.btf$' | awk -v n="$n_tar" 'NR == int(n / 2)')
  r_args="resolve --bundle $bundle --key $pub --native-btf no --kernel-release $release --arch $arch --os-id $distro --os-version-id $version --cache-dir $tmp/cache"
  # shellcheck disable=SC2086
  s_static=$(proc "$static" $r_args)
  # shellcheck disable=SC2086
  s_dyn=$(proc "$btfpack" $r_args)
  s_tar=$("$helper" proc 7 "$(command -v tar)" -xJf "$tmp/tree.tar.xz" -C "$tmp/xo" "$mid")
  peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f", $1/1024}'; }
  # shellcheck disable=SC2086
  m_static=$(peak "$static" $r_args)
  # shellcheck disable=SC2086
  m_dyn=$(peak "$btfpack" $r_args)
  m_true=$(peak /bin/true)
  m_tar=$(peak tar -xJf "$tmp/tree.tar.xz" -C "$tmp/xo" "$mid")
  echo
  echo "static btfpack: $(stat -c %s "$static") bytes stripped; tar.xz: $n_tar files, $(($(stat -c %s "$tmp/tree.tar.xz") / 1024)) KiB, member $mid"
  printf '%-40s %8s %8s %8s %10s %9s\n' "one resolve as a process (median)" "wall ms" "cpu ms" "peak MB" "target" "tar/this"
  t_ms=$(field "$s_tar" 1)
  row() { # label result peak target
    printf '%-40s %8s %8s %8s %10s %9s\n' "$1" "$(field "$2" 1)" "$(field "$2" 4)" "$3" "$4" "$(ratio "$t_ms" "$(field "$2" 1)")"
  }
  row "static btfpack resolve" "$s_static" "$m_static" "2 ms, 8 MB"
  row "dynamic btfpack resolve (build/cli)" "$s_dyn" "$m_dyn" "-"
  row "/bin/true" "$p_true" "$m_true" "-"
  row "tar -xJf one file of $n_tar (7 runs)" "$s_tar" "$m_tar" "-"
  echo "goal: static resolve >= 20x faster than the tar.xz extraction"
else
  echo "static columns: skipped ($static or $tool not built)"
fi

# Before/after and instruction counts (issue 14).
resolve_args() {
  echo resolve --bundle "$bundle" --key "$pub" --native-btf no \
    --kernel-release "$release" --arch "$arch" --os-id "$distro" \
    --os-version-id "$version" --cache-dir "$tmp/cache"
}
peak_mb() {
  # shellcheck disable=SC2046
  /usr/bin/time -f %M "$@" $(resolve_args) 2>&1 >/dev/null | tail -1 |
    awk '{printf "%.1f", $1/1024}'
}
# instructions of a command (whole process), in millions
insns() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    awk '/Collected :/ {printf "%.2f", $NF/1e6}'
}
if [ -n "$baseline" ]; then
  # shellcheck disable=SC2046
  p_base=$(proc "$baseline" $(resolve_args))
  printf '%-46s %9s %9s %9s %7s\n' "baseline: $(basename "$baseline") resolve (process)" \
    "$(field "$p_base" 1)" "$(field "$p_base" 4)" "-" \
    "$(ratio "$(field "$p_base" 4)" "$(field "$p_resolve" 4)")x"
  printf '%-46s %9s %9s %9s %7s\n' "baseline: peak RSS (MB)" "$(peak_mb "$baseline")" "-" "-" "-"
fi
if command -v valgrind >/dev/null; then
  # shellcheck disable=SC2046
  i_proc=$(insns "$btfpack" $(resolve_args))
  # Only the first btfpack::resolve() call of a process (cold: what a
  # process pays), not the process start-up around it.
  i_api=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    '--toggle-collect=btfpack::resolve(*' "$helper" api "$bundle" "$pub" \
    "$release" "$distro" "$version" "$arch" 1 2>&1 >/dev/null |
    awk '/Collected :/ {printf "%.2f", $NF/1e6}')
  echo "instructions (valgrind callgrind, millions; repeatable under load)"
  printf '%-46s %9s\n' "btfpack resolve (process, end to end)" "$i_proc"
  if [ -x "$static" ]; then
    # shellcheck disable=SC2046
    printf '%-46s %9s\n' "static btfpack resolve (process, end to end)" "$(insns "$static" $(resolve_args))"
  fi
  printf '%-46s %9s\n' "first btfpack::resolve() call, in-process" "$i_api"
  if [ -n "$baseline" ]; then
    # shellcheck disable=SC2046
    i_base=$(insns "$baseline" $(resolve_args))
    printf '%-46s %9s %8sx\n' "baseline: resolve (process)" "$i_base" "$(ratio "$i_base" "$i_proc")"
  fi
fi
