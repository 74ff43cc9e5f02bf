// SPDX-License-Identifier: Apache-2.0
//
// Loading the listing that says what the archive holds: downloaded with
// libcurl (the GitHub API wants a user agent) or read from a file, then
// parsed as a git tree or a btfpack index.
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "btfpack/file_util.h"
#include "btfpack/json_parse.h"
#include "btfpack/log.h"
#include "curl_common.h"
#include "fetch_paths.h"

namespace btfpack {

namespace {

constexpr std::uint64_t kMaxListingBytes = 512ull << 20;

struct Sink {
  std::string data;
  bool too_big = false;
};

size_t append(char *buf, size_t size, size_t n, void *user) {
  auto *s = static_cast<Sink *>(user);
  if (s->data.size() + size * n > kMaxListingBytes) {
    s->too_big = true;
    return 0;
  }
  s->data.append(buf, size * n);
  return size * n;
}

Result<std::string> download(const std::string &url,
                             const TransportOptions &t) {
  BTFPACK_CHECK(fetch::curl_init());
  for (unsigned attempt = 0;; attempt++) {
    fetch::CurlPtr easy(curl_easy_init());
    if (!easy)
      return make_error(Errc::internal, "libcurl: cannot create a handle");
    Sink sink;
    char errbuf[CURL_ERROR_SIZE] = {};
    fetch::apply_transport(easy.get(), t);
    fetch::CurlSlistPtr headers(
        curl_slist_append(nullptr, "Accept: application/vnd.github+json"));
    curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(easy.get(), CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(easy.get(), CURLOPT_ACCEPT_ENCODING, "");
    CURLcode rc = curl_easy_perform(easy.get());
    long status = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
    bool is_file = url.rfind("file://", 0) == 0;
    if (sink.too_big)
      return make_error(Errc::corrupt, "listing " + url + " is larger than " +
                                           std::to_string(kMaxListingBytes) +
                                           " bytes: refused");
    if (rc == CURLE_OK && (is_file || (status >= 200 && status < 300)))
      return std::move(sink.data);
    std::string why = fetch::describe_error(rc, status, errbuf);
    if (!fetch::is_transient_error(rc, status) || attempt >= t.retries)
      return make_error(rc == CURLE_OPERATION_TIMEDOUT ? Errc::timeout
                                                       : Errc::io,
                        "download listing " + url + ": " + why);
    curl_off_t retry_after = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RETRY_AFTER, &retry_after);
    long delay_ms =
        retry_after > 0
            ? static_cast<long>(std::min<curl_off_t>(retry_after, 120)) * 1000
            : static_cast<long>(t.retry_base_ms) << std::min(attempt, 6u);
    log::info("download listing ", url, ": ", why, ", retrying in ", delay_ms,
              " ms");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
}

bool is_truncated(const nlohmann::json &doc) {
  auto t = doc.find("truncated");
  return t != doc.end() && t->is_boolean() && t->get<bool>();
}

// GitHubTree splits a git tree API URL
// (https://api.github.com/repos/O/R/git/trees/REF?recursive=1) so that
// subtrees can be asked for by their sha.
struct GitHubTree {
  std::string base; // up to and including "/git/trees/"
  std::string ref;
};

bool parse_tree_url(const std::string &url, GitHubTree &out) {
  auto pos = url.find("/git/trees/");
  if (pos == std::string::npos)
    return false;
  out.base = url.substr(0, pos + 11);
  std::string rest = url.substr(pos + 11);
  out.ref = rest.substr(0, rest.find('?'));
  return !out.ref.empty() && out.ref.find('/') == std::string::npos;
}

// collect_tree lists the tree `sha` below `prefix` into `entries`. GitHub
// truncates a recursive listing at 100000 entries or 7 MB; then the tree is
// listed one level deep and each subtree recursively, so the whole archive
// is listed with a few more requests.
Result<void> collect_tree(const GitHubTree &gh, const std::string &sha,
                          const std::string &prefix, int depth,
                          const TransportOptions &t, nlohmann::json &entries) {
  auto add = [&](nlohmann::json e) {
    if (e.contains("path") && e["path"].is_string())
      e["path"] = prefix + e["path"].get<std::string>();
    entries.push_back(std::move(e));
  };
  std::string url = gh.base + sha + "?recursive=1";
  BTFPACK_TRY(text, download(url, t));
  BTFPACK_TRY(doc, parse_json(text, "listing " + url));
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("tree") ||
      !doc["tree"].is_array())
    return make_error(Errc::corrupt,
                      "listing " + url + " is not a git tree listing");
  if (!is_truncated(doc)) {
    for (auto &e : doc["tree"])
      add(std::move(e));
    return ok();
  }
  if (depth >= 4)
    return make_error(Errc::corrupt,
                      "listing " + url +
                          " is still truncated 4 levels deep: give a "
                          "complete listing with --listing");
  log::info("listing ", url, " is truncated, listing its subtrees");
  url = gh.base + sha;
  BTFPACK_TRY(flat_text, download(url, t));
  BTFPACK_TRY(flat, parse_json(flat_text, "listing " + url));
  if (flat.is_discarded() || !flat.is_object() || !flat.contains("tree") ||
      !flat["tree"].is_array() || is_truncated(flat))
    return make_error(Errc::corrupt,
                      "listing " + url + " is not a complete git tree listing");
  for (auto &e : flat["tree"]) {
    bool subtree = e.is_object() && e.value("type", "") == "tree" &&
                   e.contains("sha") && e["sha"].is_string() &&
                   e.contains("path") && e["path"].is_string();
    if (!subtree) {
      add(std::move(e));
      continue;
    }
    std::string path = e["path"].get<std::string>();
    std::string sub_sha = e["sha"].get<std::string>();
    // The subtree's sha goes into a URL: only hex digits.
    if (sub_sha.empty() ||
        sub_sha.find_first_not_of("0123456789abcdef") != std::string::npos)
      return make_error(Errc::corrupt, "listing " + url + " gives tree '" +
                                           path + "' an invalid sha");
    add(e);
    BTFPACK_CHECK(
        collect_tree(gh, sub_sha, prefix + path + "/", depth + 1, t, entries));
  }
  return ok();
}

} // namespace

Result<Index> load_listing(const std::string &source,
                           const TransportOptions &transport) {
  std::string text;
  bool is_url = source.find("://") != std::string::npos;
  if (is_url) {
    BTFPACK_TRY(data, download(source, transport));
    text = std::move(data);
  } else {
    BTFPACK_TRY(data, read_text_file(source, kMaxListingBytes));
    text = std::move(data);
  }
  BTFPACK_TRY(doc, parse_json(text, "listing " + source));
  if (doc.is_discarded() || !doc.is_object())
    return make_error(Errc::corrupt,
                      "listing " + source +
                          " is not a JSON object (expected a git tree "
                          "listing or a btfpack index)");
  GitHubTree gh;
  if (is_url && doc.contains("tree") && is_truncated(doc) &&
      parse_tree_url(source, gh)) {
    // Too big for one response: assemble the whole tree from subtrees, then
    // parse it like any listing (with all of its checks).
    nlohmann::json entries = nlohmann::json::array();
    BTFPACK_CHECK(collect_tree(gh, gh.ref, "", 0, transport, entries));
    doc = nlohmann::json{{"sha", doc.value("sha", gh.ref)},
                         {"tree", std::move(entries)},
                         {"truncated", false}};
    text = doc.dump();
  }
  Result<Index> parsed = doc.contains("tree")
                             ? parse_git_tree_listing(text, source)
                             : Index::from_json(text, source);
  if (!parsed)
    return std::move(parsed).error();
  if (is_truncated(doc))
    return make_error(Errc::corrupt,
                      "listing " + source +
                          " is truncated (the git tree API stops at 100000 "
                          "entries): a mirror from it would be incomplete; "
                          "give a complete listing with --listing");
  Index index = std::move(parsed).value();
  for (const auto &e : index.entries) {
    std::string why = fetch::unsafe_path_reason(e.path);
    if (!why.empty())
      return make_error(Errc::corrupt, "listing " + source + " names path '" +
                                           e.path + "': " + why + ", refused");
  }
  index.source = source;
  return index;
}

} // namespace btfpack
