#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How long libbpf's open+load of each bpf/ program takes with the kernel's
# own BTF, with this host's BTF minimized by bpftool (a file), and with the
# same through a memfd (/proc/self/fd/N); median of N runs, side by side.
# Needs root (CAP_BPF+CAP_PERFMON) and a built tree.
#   bench/bpf_load_bench.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-15}
demo=$build/bpf/btfpack-bpf-demo
[ -x "$demo" ] || { echo "bench: $demo not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
load_ms() { # program, args...
  local p=$1; shift
  for _ in $(seq "$runs"); do
    "$demo" "$p" "$@" 2>/dev/null | head -1 | jq -r .load_ms
  done | median
}

echo "kernel $(uname -r), bpftool $(bpftool version | head -1 | cut -d' ' -f2), $runs runs, median open+load ms"
printf "%-12s %10s %10s %10s %8s %9s %10s\n" program native min-file min-memfd ratio min-bytes gen-ms
for p in parentchain taskstate nspid; do
  s=$(date +%s%N)
  bpftool gen min_core_btf /sys/kernel/btf/vmlinux "$tmp/$p.btf" "$build/bpf/$p.bpf.o"
  gen=$(( ($(date +%s%N) - s) / 1000000 ))
  n=$(load_ms "$p")
  f=$(load_ms "$p" --btf "$tmp/$p.btf")
  m=$(load_ms "$p" --btf "$tmp/$p.btf" --memfd)
  printf "%-12s %10s %10s %10s %7.0fx %9s %10s\n" "$p" "$n" "$f" "$m" \
    "$(awk -v a="$n" -v b="$f" 'BEGIN {print a / b}')" "$(stat -c %s "$tmp/$p.btf")" "$gen"
done
