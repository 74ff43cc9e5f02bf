#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Times the VM test (tests/vm/run-vm-test.sh) phase by phase: bundle
# generation, initramfs, the qemu run (wall), and inside the VM when /init
# started and ended (uptime) and the loaders' open+load times; for both
# scenarios and both initramfs encodings (uncompressed vs gzip), side by side;
# then the arm64 scenarios (qemu-system-aarch64 -M virt -cpu cortex-a57, the
# aarch64 static sub-build, uncompressed) when BUILD_DIR/static/aarch64 has
# them, so the x86_64 and arm64 rows compare in one run.
#   bench/vm_bench.sh [BUILD_DIR] [RUNS]      ARCHES="x86_64 aarch64" (default)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
runs=${2:-1}
kdir="$SRC/../shared/kernels/nobtf-6.1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }

echo "host $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $runs run(s) each, medians"
printf "%-8s %-13s %-5s %7s %7s %7s %8s %8s %8s %9s\n" arch scenario cpio gen-s initrd-s qemu-s init-at end-at total-s load-ms
a64="$build/static/aarch64"
for arch in ${ARCHES:-x86_64 aarch64}; do
if [ "$arch" = aarch64 ]; then
  if [ ! -x "$a64/cli/btfpack" ]; then
    echo "aarch64: skipped ($a64/cli/btfpack not built: the aarch64 static sub-build)"
    continue
  fi
  args=(--guest-arch aarch64 --static-only --btfpack "$a64/cli/btfpack"
    --gen-btfpack "$build/cli/btfpack" --demo "$a64/bpf/btfpack-bpf-demo"
    --api-loader "$a64/tests/vm/btfpack-vm-capi-loader"
    --tool "$a64/examples/taskstate/taskstate_example" --timeout 170)
  encodings="none"
else
  args=(--btfpack "$build/cli/btfpack" --kernel "$kdir/bzImage"
    --kernel-btf "$kdir/6.1.192.btf.tar.xz")
  encodings="none gzip"
fi
for scenario in exact wrong-kernel; do
  for compress in $encodings; do
    : >"$tmp/rows"
    for _ in $(seq "$runs"); do
      t0=$(date +%s.%N)
      "$SRC/tests/vm/run-vm-test.sh" --scenario "$scenario" --compress "$compress" \
        --bpf-dir "$build/bpf" "${args[@]}" \
        --work "$tmp/w" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; exit 1; }
      total=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}')
      gen=$(sed -n 's/^vm-test: bundle .*(\([0-9.]*\) s)$/\1/p' "$tmp/out")
      initrd=$(sed -n 's/^vm-test: initramfs .*(\([0-9.]*\) s)$/\1/p' "$tmp/out")
      qemu=$(sed -n 's/^vm-test: VM ran \([0-9.]*\)s$/\1/p' "$tmp/out")
      up=$(tr -d '\r' <"$tmp/w/serial.log" | sed -n 's/^@@VM@@ uptime //p' | tr '\n' ' ')
      # open+load of the programs with the BTF btfpack handed over
      load=$(tr -d '\r' <"$tmp/w/serial.log" | grep -E '^demo_(resolved|forced)\| \{' |
        sed -n 's/.*"load_ms":\([0-9.]*\).*/\1/p' | median)
      echo "$gen $initrd $qemu $up $total $load" >>"$tmp/rows"
    done
    row=""
    for col in 1 2 3 4 5 6 7; do
      row="$row $(awk -v c=$col '{print $c}' "$tmp/rows" | median)"
    done
    # shellcheck disable=SC2086
    printf "%-8s %-13s %-5s %7s %7s %7s %8s %8s %8s %9s\n" "$arch" "$scenario" "$compress" $row
  done
done
done
