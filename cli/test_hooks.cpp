// SPDX-License-Identifier: Apache-2.0
//
// Test hooks of the `btfpack` program, compiled in only with the CMake
// option BTFPACK_TEST_HOOKS (scripts/test.sh turns it on; release builds
// and libbtfpack never contain them):
//   BTFPACK_TEST_CRASH_AT=n  SIGKILL at step n of `btfpack install`, for
//                            the crash-consistency tests
//                            (tests/packaging/store_test.cpp). SIGKILL, not
//                            an exception: nothing gets to clean up, as
//                            after a power cut.
#include <csignal>
#include <cstdlib>

#include "btfpack/store.h"

namespace {

int crash_at = 0;

void crash_at_step(int n) {
  if (crash_at == n)
    ::raise(SIGKILL);
}

const bool installed = [] {
  const char *v = std::getenv("BTFPACK_TEST_CRASH_AT");
  crash_at = v ? std::atoi(v) : 0;
  if (crash_at > 0)
    btfpack::test_hooks::install_step = crash_at_step;
  return true;
}();

} // namespace
