#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README's test command (and .ci/run): installs dependencies, then runs
# three stages, each on its own build tree:
#   plain     GCC, -Werror: format check and the whole suite (unit,
#             integration, privileged, vm; privileged and vm tests skip
#             with a reason where they cannot run)           build-test/
#   sanitize  clang, -Werror, ASan+UBSan, -O0: the whole suite again,
#             privileged and vm included                     build-asan/
#   fuzz      every libFuzzer target for 30 s from its committed seeds
#             (fuzz/run.sh, as many at once as there are cores)  build-fuzz/
# Each stage prints how long it took; the script stops at the first stage
# that fails.
#   BTFPACK_TEST_STAGES="plain"  scripts/test.sh    # only some stages
#   BTFPACK_FUZZ_SECONDS=10      scripts/test.sh    # a shorter fuzz pass
#   scripts/test.sh -L unit                         # extra args go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

stages=${BTFPACK_TEST_STAGES:-plain sanitize fuzz}
# The older switch: BTFPACK_SANITIZE=1 runs the sanitizer stage only.
[ "${BTFPACK_SANITIZE:-0}" = 1 ] && stages=sanitize
jobs=$(nproc)
# libbpf's own messages go through btfpack's logger; show them in CI logs.
export BTFPACK_LIBBPF_DEBUG=1

configure() { # configure DIR CMAKE_ARGS...
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBTFPACK_WERROR=ON -DBTFPACK_TEST_HOOKS=ON "$@" >/dev/null
}
build_and_test() { # build_and_test DIR: build, then run every test
  cmake --build "$1" -j"$jobs"
  (cd "$1" && ctest --output-on-failure -j"$jobs" "${ctest_args[@]}")
}

ctest_args=("$@")
for stage in $stages; do
  start=$SECONDS
  echo "== test.sh: stage $stage"
  case $stage in
  plain)
    configure build-test -DBTFPACK_SANITIZE=OFF
    cmake --build build-test --target format-check
    build_and_test build-test
    ;;
  sanitize)
    # clang: a second compiler's warnings. -O0 (Debug): the optimizer is
    # two thirds of the compile time, and the tests spend theirs in
    # bpftool, libbpf and the kernel; unoptimized code also hides nothing
    # from ASan. Measured: build 152 s + tests 104 s, against 320 s + 70 s
    # for an optimized sanitizer build.
    # (a tree configured earlier with another compiler is started afresh:
    # CMake takes CC/CXX only at the first configure)
    if [ -f build-asan/CMakeCache.txt ] &&
      ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang' build-asan/CMakeCache.txt; then
      rm -rf build-asan
    fi
    CC=clang CXX=clang++ configure build-asan -DBTFPACK_SANITIZE=ON \
      -DCMAKE_BUILD_TYPE=Debug
    build_and_test build-asan
    ;;
  fuzz)
    FUZZ_BUILD_DIR=$PWD/build-fuzz FUZZ_JOBS=$jobs \
      fuzz/run.sh "${BTFPACK_FUZZ_SECONDS:-30}"
    ;;
  *)
    echo "test.sh: unknown stage '$stage' (plain, sanitize, fuzz)" >&2
    exit 2
    ;;
  esac
  echo "== test.sh: stage $stage passed in $((SECONDS - start)) s"
done
