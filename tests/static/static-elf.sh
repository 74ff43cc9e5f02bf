#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# static-elf.sh DIR ARCH: every program of the static sub-build DIR is a
# static ELF of ARCH (x86_64 | aarch64): no PT_INTERP, no dynamic section
# (so no DT_NEEDED), stripped; prints each one's size.
set -euo pipefail
DIR=$1 ARCH=$2
case $ARCH in x86_64) want="x86-64" ;; aarch64) want="ARM aarch64" ;; esac
rc=0
for p in cli/btfpack bpf/btfpack-bpf-demo tests/vm/btfpack-vm-capi-loader \
  examples/taskstate/taskstate_example; do
  f=$DIR/$p
  [ -f "$f" ] || { echo "FAIL $f: missing (build the default target)"; rc=1; continue; }
  desc=$(file -b "$f")
  prog=$(readelf -lW "$f")
  dyn=$(readelf -dW "$f")
  if ! grep -q "$want" <<<"$desc"; then echo "FAIL $f: not $ARCH: $desc"; rc=1; fi
  if grep -q INTERP <<<"$prog"; then echo "FAIL $f: has PT_INTERP"; rc=1; fi
  if ! grep -q "There is no dynamic section" <<<"$dyn"; then
    echo "FAIL $f: has a dynamic section: $(grep NEEDED <<<"$dyn" | tr -s ' ')"; rc=1
  fi
  if ! grep -q ", stripped" <<<"$desc"; then echo "FAIL $f: not stripped"; rc=1; fi
  echo "ok $p: $(stat -c %s "$f") bytes, $desc"
done
exit $rc
