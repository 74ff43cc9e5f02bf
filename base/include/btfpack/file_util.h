// SPDX-License-Identifier: Apache-2.0
//
// Small file helpers shared by every component: bounded whole-file reads and
// the one atomic writer (temp file in the same directory, the fsyncs the
// caller's Durability asks for, rename), so that no reader ever sees a
// half-written file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
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

// read_chunks reads an open descriptor from its current offset in pieces of
// buf.size() and hands each to sink, stopping at end of file or after limit
// bytes; returns the bytes read. Errors name path.
using ChunkSink = std::function<void(const std::uint8_t *, std::size_t)>;
Result<std::uint64_t> read_chunks(int fd, const std::filesystem::path &path,
                                  std::span<std::uint8_t> buf,
                                  std::uint64_t limit, const ChunkSink &sink);

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

// Durability: what an atomic write makes survive a power cut. Readers
// never see half a file with any of them (temp file + rename); the choice
// is only what reaches the disk before the call returns.
//   none          no fsync: for caches and outputs that are checked by
//                 digest and made again (btfgen's cache, the output tree),
//                 where two fsyncs per kernel cost more than bpftool;
//   file          fsync the file, not the directory;
//   file_and_dir  fsync the file, and the directory so the rename itself is
//                 durable: for indexes, keys, bundles and reports.
enum class Durability { none, file, file_and_dir };

// write_fully writes all of data to fd (retrying short writes and EINTR);
// errors are Errc::io naming `what`.
Result<void> write_fully(int fd, std::span<const std::uint8_t> data,
                         const std::string &what);

// write_file_atomic_at is the one atomic writer: it writes data to `name`
// in the directory dirfd through a temporary ".<name>.tmp.<random>" created
// there with O_EXCL | O_NOFOLLOW, sets mode, syncs as `durability` says and
// renames it over name (renameat). On error the temporary is removed and
// the previous file, if any, is untouched. `shown` names the file in
// messages (the full path).
Result<void> write_file_atomic_at(int dirfd, const std::string &name,
                                  std::span<const std::uint8_t> data,
                                  Durability durability, unsigned mode,
                                  const std::string &shown);

// write_file_atomic writes data to path with write_file_atomic_at in
// path's directory; mode applies to the final file.
Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::span<const std::uint8_t> data,
                               Durability durability = Durability::file_and_dir,
                               unsigned mode = 0644);
Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::string_view data,
                               Durability durability = Durability::file_and_dir,
                               unsigned mode = 0644);
// The durable write with a mode: the form callers used before Durability.
Result<void> write_file_atomic(const std::filesystem::path &path,
                               std::string_view data, unsigned mode);

// errno_message formats "strerror(err)" for messages.
std::string errno_message(int err);

} // namespace btfpack
