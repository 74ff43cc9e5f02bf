// SPDX-License-Identifier: Apache-2.0
//
// The transfer engine: runs many downloads at once on one libcurl multi
// handle (HTTP/2 multiplexing where offered, connection reuse otherwise),
// each into a partial file that is resumed with a Range request after a
// failure, verified against its digest, and only then renamed into place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "btfpack/fetcher.h"
#include "content_digest.h"

namespace btfpack::fetch {

// TransferJob is one file to bring into the mirror.
struct TransferJob {
  IndexEntry entry; // path, size and the digest to verify against
  std::string url;
  std::filesystem::path final_path; // visible only once verified
  std::filesystem::path part_path;  // where the bytes accumulate
};

// TransferOutcome says how one job ended.
struct TransferOutcome {
  bool ok = false;
  std::string reason; // why it failed, for the report
  bool resumed = false;
  unsigned attempts = 0;            // transfers started for this file
  std::uint64_t bytes_received = 0; // over all attempts
  ContentDigest::Hex digest;        // of the final file when ok
};

struct EngineOptions {
  unsigned jobs = 8;
  TransportOptions transport;
  std::function<void(const FetchProgress &)> progress;
};

// run_transfers runs every job to success or a final failure. It fails as a
// whole only when libcurl cannot be set up.
Result<std::vector<TransferOutcome>>
run_transfers(const std::vector<TransferJob> &jobs, const EngineOptions &opts);

} // namespace btfpack::fetch
