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
#include "btfpack/unique_fd.h"

namespace btfpack {

// Symlinks: whether the last component of a path may be a symbolic link.
// Paths an operator names follow links; paths already resolved inside a
// host root (in_root) must not, so that a link swapped in meanwhile is
// refused (ELOOP) rather than followed out of the root.
enum class Symlinks { follow, refuse };

// open_regular_file is the one way btfpack opens a file to read it. It opens
// with O_NONBLOCK (a FIFO or a device never blocks the open), O_NOCTTY and,
// with Symlinks::refuse, O_NOFOLLOW; then checks the open descriptor with
// fstat: anything but a regular file (FIFO, device, socket, directory) is
// refused with Errc::invalid_argument naming the path and its type. The
// descriptor returned is blocking again. ENOENT gives Errc::not_found.
Result<UniqueFd> open_regular_file(const std::filesystem::path &path,
                                   Symlinks links = Symlinks::follow);

// file_type_name names st_mode's type for messages ("a FIFO", "a directory").
std::string file_type_name(unsigned mode);

// read_file reads a whole regular file (opened by open_regular_file),
// refusing files larger than max_bytes (Errc::corrupt, naming the path and
// the limit).
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path &path,
                                            std::uint64_t max_bytes = 1ull
                                                                      << 30,
                                            Symlinks links = Symlinks::follow);
Result<std::string> read_text_file(const std::filesystem::path &path,
                                   std::uint64_t max_bytes = 64ull << 20,
                                   Symlinks links = Symlinks::follow);

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
