#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fixture.sh BTFPACK BPF_OBJ_DIR DATA_DIR CORPUS_ARCHIVE OUT
# Makes (once; kept while its inputs are unchanged) what the static tests
# share: a key pair (OUT/key, OUT/key.pub) and a signed bundle OUT/bundle
# made by the dynamic build's `btfpack gen` from real kernels: Debian 11/12
# x86_64 and Debian 12 arm64 (tests/data/archive), plus, from the shared
# corpus when present, CentOS 8 aarch64 and Amazon Linux 2 x86_64 kernels.
set -euo pipefail
BTFPACK=$1 BPF=$2 DATA=$3 CORPUS=$4 OUT=$5
if [ -s "$OUT/bundle2" ] && [ "$OUT/bundle" -nt "$BTFPACK" ]; then exit 0; fi
rm -rf "$OUT" && mkdir -p "$OUT/archive"
cp -r "$DATA/archive/." "$OUT/archive/"
add() { # distro/version/arch glob from the corpus, first N files
  local dir=$1 n=$2
  [ -d "$CORPUS/$dir" ] || return 0
  mkdir -p "$OUT/archive/$dir"
  find "$CORPUS/$dir" -name '*.btf.tar.xz' | sort | head -n "$n" |
    xargs -r cp -t "$OUT/archive/$dir"
}
add centos/8/aarch64 1
add amzn/2/x86_64 1
add amzn/2/arm64 1
"$BTFPACK" keygen --out "$OUT/key" >/dev/null
"$BTFPACK" gen --archive "$OUT/archive" --no-cache -j 2 \
  --object "$BPF/taskstate.bpf.o" --object "$BPF/arm64/taskstate.bpf.o" \
  --cache "$OUT/cache" --bundle "$OUT/bundle" --key "$OUT/key" --bundle-version 7 \
  >"$OUT/gen.log" 2>&1 || { cat "$OUT/gen.log" >&2; exit 1; }
# A newer bundle (one kernel) for install/rollback.
"$BTFPACK" gen --archive "$OUT/archive" -j 2 --distro debian --version 12 --arch x86_64 \
  --object "$BPF/taskstate.bpf.o" --cache "$OUT/cache" \
  --bundle "$OUT/bundle2" --key "$OUT/key" --bundle-version 8 >>"$OUT/gen.log" 2>&1 ||
  { cat "$OUT/gen.log" >&2; exit 1; }
