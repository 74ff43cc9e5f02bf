// SPDX-License-Identifier: Apache-2.0
//
// Loading the listing that says what the archive holds: downloaded with
// libcurl (the GitHub API wants a user agent) or read from a file, then
// parsed as a git tree or a btfpack index.
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "btfpack/file_util.h"
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
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return make_error(Errc::corrupt,
                      "listing " + source +
                          " is not a JSON object (expected a git tree "
                          "listing or a btfpack index)");
  Result<Index> parsed = doc.contains("tree")
                             ? parse_git_tree_listing(text, source)
                             : Index::from_json(text, source);
  if (!parsed)
    return std::move(parsed).error();
  if (doc.contains("truncated") && doc["truncated"].is_boolean() &&
      doc["truncated"].get<bool>())
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
