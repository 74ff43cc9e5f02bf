// SPDX-License-Identifier: Apache-2.0
//
// JSON forms of an entry's outcome, shared by the cache records, the report
// and merge (which reads shard reports back).
#pragma once

#include <nlohmann/json.hpp>

#include "btfpack/btfgen.h"

namespace btfpack::btfgen {

// entry_outcome_to_json: status, reason, findings, check, blob (no kernel).
nlohmann::json entry_outcome_to_json(const EntryResult &r);
// entry_outcome_from_json fills r's outcome fields; false when malformed.
bool entry_outcome_from_json(const nlohmann::json &j, EntryResult &r);

// entry_to_json is the report's entry: kernel, outcome, timings.
nlohmann::json entry_to_json(const EntryResult &r);
bool entry_from_json(const nlohmann::json &j, EntryResult &r);

bool parse_status(std::string_view s, Status &out);

} // namespace btfpack::btfgen
