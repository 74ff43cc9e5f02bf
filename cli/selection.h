// SPDX-License-Identifier: Apache-2.0
//
// What gen, fetch and build say when a selection (--distro, --version,
// --arch, --release) matches no kernel: an error naming the filter that
// matched nothing and what the archive holds at that level ("no distro
// 'ubunt'; the archive has centos, debian, ubuntu"). `--allow-empty` keeps
// the old "0 of 0" success for scripts.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "btfpack/archive_index.h"
#include "btfpack/bundle.h"
#include "btfpack/fetcher.h"
#include "btfpack/keys.h"
#include "btfpack/result.h"

namespace btfpack::cli {

// open_supplement_base opens BASE for `gen/build --supplement-of`: it must
// verify with the public half of `key`, the key that signs the supplement
// (a supplement is signed by a key trusted for its base's name).
Result<std::shared_ptr<Bundle>>
open_supplement_base(const std::filesystem::path &base, const SecretKey &key);
// check_supplement_objects refuses, before any gen work, objects whose
// file names and sha256 are not exactly the base's (arches are checked
// when the bundle is written).
Result<void>
check_supplement_objects(const Bundle &base,
                         const std::vector<std::filesystem::path> &objects,
                         const std::string &out);

// no_match_error describes why `filter` selects nothing from `entries`
// (everything `where` holds, "the archive DIR" or "the listing URL").
Error no_match_error(const Filter &filter,
                     const std::vector<IndexEntry> &entries,
                     const std::string &where);

// archive_entries lists the kernels of a local mirror by path only (no
// hashing): cheap enough for an error message.
std::vector<IndexEntry> archive_entries(const std::filesystem::path &dir);
// listing_entries is what a fetch listing source holds: a local directory
// (scanned by path), else the listing file or URL; empty when unreadable.
std::vector<IndexEntry> listing_entries(const std::string &source,
                                        const TransportOptions &transport);

// check_output_file and check_output_dir run before any work: the parent
// directory of FILE (and DIR itself) is created when missing, and must be
// a writable directory; a FILE that exists must not be a directory. The
// error names the option and the path.
Result<void> check_output_file(const std::string &option,
                               const std::filesystem::path &file);
Result<void> check_output_dir(const std::string &option,
                              const std::filesystem::path &dir);

} // namespace btfpack::cli
