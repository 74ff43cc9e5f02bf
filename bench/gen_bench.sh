#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# btfgen benchmark, every figure from one run, side by side, over
# ../shared/corpus/archive with the project's bpf/ objects (x86_64 objects
# for x86_64 kernels, arm64 ones for arm64 kernels, as btfpack picks them):
#  1. btfhub's serial baseline: per kernel `tar xJf` to disk, then
#     `bpftool gen min_core_btf`, next kernel (each step timed);
#  2. `btfpack gen -j N` cold (empty cache), target >= 1.8x the baseline
#     on 2 cores;
#  3. the ideal: (sum of per-kernel tar xJf + bpftool time) / N workers,
#     target: btfpack reaches >= 90 % of it;
#  4. a warm re-run (every entry from the cache), target < 1 s;
#  5. a projection of the full upstream btfhub-archive (~7.6 GB of
#     .btf.tar.xz) on a 4-core runner from the measured per-MB cost.
# The machine may be shared: baseline and btfpack runs alternate ROUNDS
# times (default 3) and the best wall time of each is kept; CPU seconds
# (user+sys, all processes) are printed too, as they do not depend on load.
# usage: bench/gen_bench.sh [BUILD_DIR] [ARCHIVE] [JOBS] [ROUNDS]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
archive=${2:-$here/../shared/corpus/archive}
jobs=${3:-2}
rounds=${4:-3}
btfpack=$build/cli/btfpack
bpftool=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}
[ -x "$btfpack" ] || { echo "gen_bench: build first: $btfpack not found" >&2; exit 1; }
[ -d "$archive" ] || { echo "gen_bench: no archive at $archive" >&2; exit 1; }
objs_x86="$build/bpf/taskstate.bpf.o $build/bpf/parentchain.bpf.o $build/bpf/nspid.bpf.o"
objs_arm="$build/bpf/arm64/taskstate.bpf.o $build/bpf/arm64/parentchain.bpf.o $build/bpf/arm64/nspid.bpf.o"
for o in $objs_x86 $objs_arm; do
  [ -f "$o" ] || { echo "gen_bench: missing $o (ninja -C $build)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

files=$(find "$archive" -name '*.btf.tar.xz' -type f | sort)
nfiles=$(echo "$files" | wc -l)
bytes=$(echo "$files" | xargs stat -c %s | awk '{s+=$1} END {print s}')
# Warm the page cache so that neither side pays for the first read.
echo "$files" | xargs cat >/dev/null

# 1. btfhub's serial baseline, each step timed.
baseline_once() {
  mkdir -p "$tmp/base"
  : >"$1"
  for f in $files; do
    case "$f" in
    */arm64/* | */aarch64/*) objs=$objs_arm ;;
    *) objs=$objs_x86 ;;
    esac
    a=$(now)
    tar xJf "$f" -C "$tmp/base"
    b=$(now)
    in=$(ls "$tmp/base"/*.btf)
    # shellcheck disable=SC2086
    "$bpftool" gen min_core_btf "$in" "$tmp/base/out.btf" $objs
    c=$(now)
    rm -f "$tmp/base"/*
    echo "$a $b $c" >>"$1"
  done
}

set --
for o in $objs_x86 $objs_arm; do set -- "$@" --object "$o"; done
# 2. btfpack gen, cold cache.
cold_once() {
  rm -rf "$tmp/cache" "$tmp/out"
  "$btfpack" gen --archive "$archive" "$@" -j "$jobs" --cache "$tmp/cache" \
    --report "$tmp/report.json" --out "$tmp/out" 2>"$tmp/cold.log"
}

TIMEFORMAT='%R %U %S'
: >"$tmp/times"
for r in $(seq "$rounds"); do
  { time baseline_once "$tmp/steps.$r"; } 2>>"$tmp/base.times"
  { time cold_once "$@"; } 2>>"$tmp/cold.times"
done
best_round=$(awk '{print NR, $1}' "$tmp/base.times" | sort -k2 -g | head -1 | cut -d' ' -f1)
steps=$tmp/steps.$best_round

# 4. warm re-run (best of 3), into the same --out tree.
for _ in 1 2 3; do
  { time "$btfpack" gen --archive "$archive" "$@" -j "$jobs" --cache "$tmp/cache" \
    --out "$tmp/out" 2>"$tmp/warm.log"; } 2>>"$tmp/warm.times"
done

python3 - "$steps" "$tmp/report.json" "$nfiles" "$bytes" "$jobs" \
  "$tmp/base.times" "$tmp/cold.times" "$tmp/warm.times" "$(cat /proc/loadavg)" <<'PY'
import json, sys
steps, report, nfiles, nbytes, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def times(p):
    return [tuple(map(float, l.split())) for l in open(p) if l.strip()]
bt, ct, wt = times(sys.argv[6]), times(sys.argv[7]), times(sys.argv[8])
baseline, cold, warm = min(t[0] for t in bt), min(t[0] for t in ct), min(t[0] for t in wt)
base_cpu = min(t[1] + t[2] for t in bt)
cold_cpu = min(t[1] + t[2] for t in ct)
load = sys.argv[9]
unpack = bpftool = 0.0
for line in open(steps):
    a, b, c = map(float, line.split())
    unpack += b - a
    bpftool += c - b
ideal = (unpack + bpftool) / jobs
r = json.load(open(report))
t = r["totals"]
mb = nbytes / 1e6
per_mb = (unpack + bpftool) / mb
upstream_mb = 7600.0
proj_ideal = per_mb * upstream_mb / 4
eff = ideal / cold
proj = proj_ideal / eff
print(f"archive: {nfiles} kernels, {mb:.1f} MB .btf.tar.xz; {jobs} workers; "
      f"best of {len(bt)} alternating rounds; loadavg at the end {load}")
print("all rounds (wall s): baseline " + " ".join(f"{t[0]:.2f}" for t in bt) +
      "; btfpack " + " ".join(f"{t[0]:.2f}" for t in ct))
print(f"{'what':52} {'seconds':>9}")
print(f"{'btfhub serial baseline (tar xJf + bpftool, 1 at a time)':52} {baseline:9.2f}")
print(f"{'  of which tar xJf':52} {unpack:9.2f}")
print(f"{'  of which bpftool gen min_core_btf':52} {bpftool:9.2f}")
print(f"{'ideal: (tar + bpftool) / workers':52} {ideal:9.2f}")
print(f"{'btfpack gen -j %d, cold cache (incl. checks)' % jobs:52} {cold:9.2f}")
print(f"{'btfpack gen -j %d, warm re-run (all cached)' % jobs:52} {warm:9.2f}")
print(f"{'CPU s (user+sys): baseline':52} {base_cpu:9.2f}")
print(f"{'CPU s (user+sys): btfpack cold (minimize + check)':52} {cold_cpu:9.2f}")
busy = sum(e["seconds"]["unpack"] + e["seconds"]["bpftool"] + e["seconds"]["check"]
           for e in r["entries"])
util = busy / (jobs * r["seconds"])
print(f"{'btfpack worker utilization (busy / (workers x run))':52} {100 * util:8.0f}%")
print()
print("CPU-time view (independent of what else runs on the machine):")
print(f"  btfpack CPU / baseline CPU: {cold_cpu / base_cpu:.2f}")
print(f"  speed-up with {jobs} free cores, CPU-bound: "
      f"{base_cpu / (cold_cpu / jobs / util):.2f}x "
      f"(baseline CPU / (btfpack CPU / workers / utilization))")
print()
print(f"speed-up over the baseline: {baseline / cold:.2f}x (target >= 1.8x)")
print(f"share of the ideal reached: {100 * eff:.0f}% (target >= 90%)")
print(f"warm re-run: {warm:.2f} s (target < 1 s)")
print(f"kernels: {t['ok']} ok, {t['failed']} failed, {t['skipped']} skipped; "
      f"{t['unique_blobs']} unique BTFs, dedup {t['dedup_ratio']:.2f}x; "
      f"bpftool runs {r['bpftool_runs']} (minimize + check)")
print(f"measured cost: {per_mb:.3f} s per compressed MB "
      f"({(unpack + bpftool) / nfiles * 1000:.0f} ms per kernel)")
cpu_per_mb = cold_cpu / mb
print(f"projection from CPU cost ({cpu_per_mb:.3f} CPU-s per MB, btfpack), "
      f"upstream {upstream_mb / 1000:.1f} GB on an idle 4-core runner: "
      f"{cpu_per_mb * upstream_mb / 4 / util / 60:.1f} min "
      f"(baseline, serial: {base_cpu / mb * upstream_mb / 60:.1f} min)")
print(f"projection from this run's wall times, same 4 cores: "
      f"ideal {proj_ideal / 60:.1f} min, at the measured share "
      f"{proj / 60:.1f} min; serial baseline {per_mb * upstream_mb / 60:.1f} min")
PY
