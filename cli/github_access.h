// SPDX-License-Identifier: Apache-2.0
//
// How fetch and build reach GitHub: the API and raw-file base URLs
// (BTFPACK_GITHUB_API_URL, BTFPACK_GITHUB_RAW_URL; mirrors and tests point
// them elsewhere) and the token for the API (GITHUB_TOKEN, or the variable
// --token-env names; its value is the token, or the path of a file holding
// it, as CI "file" variables give).
#pragma once

#include <string>

#include "btfpack/fetcher.h"

namespace btfpack::cli {

// github_access fills `g` from the environment. `token_env` is the
// variable to read; when `required` (the user named it), an unset or empty
// variable is an error. An unreadable token file, or a value that is not a
// token (whitespace or control characters inside), fails naming the
// variable and what to do.
Result<void> github_access(GitHubOptions &g, const std::string &token_env,
                           bool required);

} // namespace btfpack::cli
