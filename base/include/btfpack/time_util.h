// SPDX-License-Identifier: Apache-2.0
//
// Time stamps as btfpack prints them (bundle creation and expiry, error
// messages, inspect and explain): ISO 8601 in UTC, to the second.
#pragma once

#include <cstdint>
#include <string>

namespace btfpack {

// iso8601_utc formats Unix seconds as "2026-11-25T15:26:51Z"; a time that
// cannot be broken down is printed as its decimal number.
std::string iso8601_utc(std::int64_t unix_seconds);

} // namespace btfpack
