// SPDX-License-Identifier: Apache-2.0
#include "btfpack/result.h"

namespace btfpack {

const char *errc_name(Errc c) noexcept {
  switch (c) {
  case Errc::invalid_argument:
    return "invalid_argument";
  case Errc::not_found:
    return "not_found";
  case Errc::io:
    return "io";
  case Errc::corrupt:
    return "corrupt";
  case Errc::bad_signature:
    return "bad_signature";
  case Errc::digest_mismatch:
    return "digest_mismatch";
  case Errc::expired:
    return "expired";
  case Errc::unsupported:
    return "unsupported";
  case Errc::no_match:
    return "no_match";
  case Errc::stale:
    return "stale";
  case Errc::downgrade:
    return "downgrade";
  case Errc::timeout:
    return "timeout";
  case Errc::failed:
    return "failed";
  case Errc::internal:
    return "internal";
  }
  return "unknown";
}

} // namespace btfpack
