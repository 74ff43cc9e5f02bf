// SPDX-License-Identifier: Apache-2.0
//
// trust_policy reads the --key arguments of the commands that verify
// (install, list, rollback, verify, inspect): each a minisign public key
// file (trusted for every bundle name) or a directory read as a trust
// policy (trust.h: *.pub for every name, <name>/*.pub for that name only).
// Without --key, the trusted keys directory ($BTFPACK_KEYS_DIR or
// /etc/btfpack/keys).
#pragma once

#include <string>
#include <vector>

#include "btfpack/trust.h"

namespace btfpack::cli {

Result<TrustPolicy> trust_policy(const std::vector<std::string> &keys);

} // namespace btfpack::cli
