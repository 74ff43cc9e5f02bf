#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README's test command: installs dependencies, builds with warnings as
# errors, and runs the whole test suite (unit, integration, privileged, vm;
# privileged and vm tests skip with a reason where they cannot run).
#   BTFPACK_SANITIZE=1 scripts/test.sh   # the same under ASan+UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

BUILD=${BUILD_DIR:-build-test}
SAN=${BTFPACK_SANITIZE:-0}
[ "$SAN" = 1 ] && BUILD=${BUILD_DIR:-build-asan}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBTFPACK_WERROR=ON -DBTFPACK_SANITIZE="$([ "$SAN" = 1 ] && echo ON || echo OFF)" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
cmake --build "$BUILD" --target format-check
# libbpf's own messages go through btfpack's logger; show them in CI logs.
export BTFPACK_LIBBPF_DEBUG=1
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
