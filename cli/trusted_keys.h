// SPDX-License-Identifier: Apache-2.0
//
// load_trusted_keys reads the --key arguments of verify/inspect: each a
// minisign public key file, or a directory whose *.pub files are read in
// name order.
#pragma once

#include <string>
#include <vector>

#include "btfpack/keys.h"

namespace btfpack::cli {

Result<std::vector<PublicKey>>
load_trusted_keys(const std::vector<std::string> &paths);

} // namespace btfpack::cli
