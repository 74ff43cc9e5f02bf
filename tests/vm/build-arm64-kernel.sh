#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rebuilds the arm64 VM test's kernel fixture (tests/data/kernels/
# nobtf-6.1-arm64: Image.gz, config, 6.1.192.btf.tar.xz) from Debian's
# linux-source-6.1 with gcc-aarch64-linux-gnu. About 30-60 minutes on 2
# cores; the fixture is committed so that CI never does this.
#   tests/vm/build-arm64-kernel.sh [WORKDIR]   (default /var/tmp/nobtf-arm64-build)
set -euo pipefail
exec "$(cd "$(dirname "$0")/../.." && pwd)/tests/data/kernels/nobtf-6.1-arm64/build.sh" "$@"
