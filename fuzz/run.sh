#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# fuzz/run.sh SECONDS [TARGET...]: build every libFuzzer target of fuzz/ with
# clang (ASan+UBSan, build-fuzz/), then run each for SECONDS, starting from
# its committed seeds (fuzz/corpus/<name>/) and the corpus grown by earlier
# runs (build-fuzz/corpus/<name>/). Prints executions and coverage per
# target; exits 1 if any target crashed (the input is kept in
# build-fuzz/artifacts/<name>/: make it a regression test).
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (targets run
# at once, default 1; CI runs as many as there are cores), FUZZ_FLAGS (extra
# libFuzzer flags), CC_FUZZ/CXX_FUZZ (default clang, clang++).
set -eu
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}

CC=${CC_FUZZ:-clang} CXX=${CXX_FUZZ:-clang++} cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER="${CC_FUZZ:-clang}" -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBTFPACK_FUZZ=ON \
  -DBTFPACK_BUILD_TESTS=OFF -DBTFPACK_BUILD_BENCH=OFF >/dev/null
ninja -C "$build" fuzzers

if [ $# -eq 0 ]; then
  set -- $(cd "$src/fuzz" && ls *_fuzz.cpp | sed 's/\.cpp$//')
fi

summary="$build/fuzz-summary.txt"
: > "$summary"
rm -rf "$build/status"
mkdir -p "$build/status"

# run_one NAME: one target for $seconds; its summary line goes to
# $build/status/NAME, saying CRASH if the target crashed.
run_one() {
  local name=${1%_fuzz}_fuzz
  local short=${name%_fuzz}
  local bin="$build/fuzz/$name" work="$build/corpus/$short"
  local art="$build/artifacts/$short" log="$build/$short.log"
  local seeds="$src/fuzz/corpus/$short" dict="" rc status
  mkdir -p "$work" "$art"
  [ -d "$seeds" ] || seeds=""
  [ -f "$src/fuzz/dict/$short.dict" ] && dict="-dict=$src/fuzz/dict/$short.dict"
  echo "== $name for ${seconds}s (log: $log)"
  set +e
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/" \
    $dict ${FUZZ_FLAGS:-} "$work" $seeds > "$log" 2>&1
  rc=$?
  set -e
  local execs cov ft units
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(ls "$work" | wc -l)
  status=ok
  if [ $rc -ne 0 ]; then
    status="CRASH (rc $rc): $(ls "$art" | head -3 | tr '\n' ' ')"
    grep -m 5 -E 'ERROR|SUMMARY|deadly signal' "$log" || true
  fi
  printf '%-22s %6ss  execs %-10s cov %-6s ft %-6s corpus %-5s %s\n' \
    "$short" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$units" "$status" \
    | tee "$build/status/$short"
}

for name in "$@"; do
  [ -x "$build/fuzz/${name%_fuzz}_fuzz" ] || { echo "fuzz/run.sh: no target $name" >&2; exit 2; }
done
jobs=${FUZZ_JOBS:-1}
for name in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n || true
  done
  run_one "$name" &
done
wait
failed=0
for name in "$@"; do
  line=$(cat "$build/status/${name%_fuzz}")
  echo "$line" >> "$summary"
  case $line in *CRASH*) failed=1 ;; esac
done
echo
echo "summary ($summary):"
cat "$summary"
exit $failed
