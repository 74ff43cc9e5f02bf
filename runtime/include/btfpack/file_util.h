// SPDX-License-Identifier: Apache-2.0
//
// Small file helpers shared by every component: bounded whole-file reads and
// atomic writes (temp file in the same directory, fsync, rename), so that no
// reader ever sees a half-written file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "btfpack/result.h"

namespace btfpack {

// read_file reads a whole file, refusing files larger than max_bytes
// (Errc::corrupt, naming the path and the limit).
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path &path,
                                            std::uint64_t max_bytes = 1ull
                                                                      << 30);
Result<std::string> read_text_file(const std::filesystem::path &path,
                                   std::uint64_t max_bytes = 64ull << 20);

// write_file_atomic writes data to path via a temporary file in the same
// directory and rename(2); mode applies to the final file. On error nothing
// is left behind and the previous file, if any, is untouched.
Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::span<const std::uint8_t> data,
                               unsigned mode = 0644);
Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::string_view data, unsigned mode = 0644);

// errno_message formats "strerror(err)" for messages.
std::string errno_message(int err);

} // namespace btfpack
