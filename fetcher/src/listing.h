// SPDX-License-Identifier: Apache-2.0
//
// Which listing says what an HTTP(S) archive holds, and loading it with a
// conditional request: GitHub's git trees API for a raw-file URL on GitHub,
// BASE/index.json for any other server. Private to the fetcher.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "btfpack/fetcher.h"

namespace btfpack::fetch {

// GitHubRepo is the repository (and ref) a GitHub URL names.
struct GitHubRepo {
  std::string owner, repo, ref;
  std::string slug() const { return owner + "/" + repo; }
};

// repo_of_raw_url gives the repository of RAW/OWNER/REPO/REF (nullopt when
// `url` is not under github.raw_url or has another shape).
std::optional<GitHubRepo> repo_of_raw_url(const std::string &url,
                                          const GitHubOptions &github);

// repo_of_api_url gives the repository of API/repos/OWNER/REPO/... .
std::optional<GitHubRepo> repo_of_api_url(const std::string &url,
                                          const GitHubOptions &github);

// origin_of is "scheme://host:port" in lowercase (default port filled in),
// empty for a URL without one (file://, a path).
std::string origin_of(const std::string &url);

// ListingPlan is where the listing of an HTTP(S) source comes from.
struct ListingPlan {
  std::string url;
  std::optional<GitHubRepo> repo; // the repository the listing must be of
  bool derived = false;           // not given: BASE/index.json or the API
};

// plan_listing picks the listing for `from` (an HTTP(S) base URL) and an
// optional explicit `listing`. A listing of another GitHub repository than
// the one `from` names is refused.
Result<ListingPlan> plan_listing(const std::string &from,
                                 const std::string &listing,
                                 const GitHubOptions &github);

// load_listing_cached is load_listing with a conditional request: the last
// listing from `url` and its ETag are kept in `cache_dir`, and a 304 reply
// reuses it (`not_modified` set). `repo`, when set, must be the repository
// the listing says it is of.
Result<Index> load_listing_cached(const std::string &url,
                                  const TransportOptions &transport,
                                  const std::filesystem::path &cache_dir,
                                  const std::optional<GitHubRepo> &repo,
                                  bool &not_modified);

} // namespace btfpack::fetch
