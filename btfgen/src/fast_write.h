// SPDX-License-Identifier: Apache-2.0
//
// write_replace: temp file + rename(2), without write_file_atomic's fsyncs.
// For the cache and the output tree, where readers must never see half a
// file but durability is not needed (a blob that did not reach the disk is
// found missing or wrong by its digest and made again); two fsyncs per
// kernel cost more than bpftool on a busy disk.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

#include "btfpack/result.h"

namespace btfpack::btfgen {

Result<void> write_replace(const std::filesystem::path &path,
                           std::span<const std::uint8_t> data);
Result<void> write_replace(const std::filesystem::path &path,
                           std::string_view data);

} // namespace btfpack::btfgen
