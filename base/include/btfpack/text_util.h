// SPDX-License-Identifier: Apache-2.0
//
// Splitting text at separator characters, for kernel release strings and
// os-release lists. The parts are views into the input: keep it alive.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace btfpack {

enum class EmptyParts { keep, drop };

// split_any splits s at every character of seps. With EmptyParts::keep a
// part's index is its position ("a..b" -> "a", "", "b"; "" -> one empty
// part); with EmptyParts::drop only non-empty parts are returned.
std::vector<std::string_view>
split_any(std::string_view s, std::string_view seps, EmptyParts empty);

// terminal_safe escapes the bytes a terminal would act on (C0 controls but
// newline and tab, DEL, and the C1 range's lead bytes are left to UTF-8):
// ESC, BEL, CR... become "\x1b", so text from a file (an os-release in an
// image) cannot move the cursor or retitle the terminal when printed.
std::string terminal_safe(std::string_view s);

} // namespace btfpack
