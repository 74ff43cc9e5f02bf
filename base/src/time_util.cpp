// SPDX-License-Identifier: Apache-2.0
#include "btfpack/time_util.h"

#include <ctime>

namespace btfpack {

std::string iso8601_utc(std::int64_t unix_seconds) {
  std::time_t tt = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char buf[32];
  if (!::gmtime_r(&tt, &tm) ||
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return std::to_string(unix_seconds);
  return buf;
}

} // namespace btfpack
