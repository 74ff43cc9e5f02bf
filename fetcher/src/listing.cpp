// SPDX-License-Identifier: Apache-2.0
//
// Loading the listing that says what the archive holds: downloaded with
// libcurl (the GitHub API wants a user agent) or read from a file, then
// parsed as a git tree or a btfpack index.
#include "listing.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "btfpack/file_util.h"
#include "btfpack/json_parse.h"
#include "btfpack/log.h"
#include "curl_common.h"
#include "fetch_paths.h"

namespace btfpack {

namespace {

constexpr std::uint64_t kMaxListingBytes = 512ull << 20;

// Sink holds a listing body to what its headers announce: libcurl is told
// to ignore Content-Length (it would silently drop what comes past it), so
// that a body longer than announced is seen and refused here, as is one
// longer than kMaxListingBytes.
struct Sink {
  CURL *easy = nullptr;
  std::string data;
  bool headers_read = false;
  std::optional<std::uint64_t> announced; // Content-Length of an unencoded body
  bool too_big = false;
  bool too_long = false; // more than Content-Length
};

size_t append(char *buf, size_t size, size_t n, void *user) {
  auto *s = static_cast<Sink *>(user);
  if (!s->headers_read) {
    s->headers_read = true;
    auto enc = fetch::header_value(s->easy, "Content-Encoding");
    if (!enc || enc->empty() || *enc == "identity")
      s->announced = fetch::announced(s->easy).length;
  }
  if (s->data.size() + size * n > kMaxListingBytes) {
    s->too_big = true;
    return 0;
  }
  if (s->announced && s->data.size() + size * n > *s->announced) {
    s->too_long = true;
    return 0;
  }
  s->data.append(buf, size * n);
  return size * n;
}

// HttpReply is one listing request's outcome after redirects.
struct HttpReply {
  std::string body;
  std::string etag;
  bool not_modified = false;
};

// Headers are the response headers the listing download looks at, read
// with curl_easy_header once a response is in.
struct Headers {
  std::string etag, content_type, retry_after, rate_remaining, rate_reset;
  static Headers of(CURL *easy) {
    auto get = [easy](const char *name) {
      return fetch::header_value(easy, name).value_or("");
    };
    return {get("ETag"), get("Content-Type"), get("Retry-After"),
            get("X-RateLimit-Remaining"), get("X-RateLimit-Reset")};
  }
};

std::string utc_clock(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm);
  return buf;
}

// rate_limit_wait tells how many seconds a rate-limited reply asks to wait
// (GitHub: x-ratelimit-remaining 0 with x-ratelimit-reset, or retry-after
// for its secondary limits), or -1 when the reply is not a rate limit.
long long rate_limit_wait(long status, const Headers &hd) {
  if (status != 403 && status != 429)
    return -1;
  const std::string &retry_after = hd.retry_after;
  if (!retry_after.empty() &&
      retry_after.find_first_not_of("0123456789") == std::string::npos &&
      retry_after.size() < 10)
    return std::stoll(retry_after);
  const std::string &reset = hd.rate_reset;
  bool exhausted = hd.rate_remaining == "0";
  if (exhausted && !reset.empty() && reset.size() < 15 &&
      reset.find_first_not_of("0123456789") == std::string::npos) {
    long long now = static_cast<long long>(std::time(nullptr));
    return std::max(0ll, std::stoll(reset) - now) + 1;
  }
  if (exhausted || status == 429)
    return 60; // GitHub's documented minimum wait without a reset time
  return -1;
}

bool looks_like_html(const std::string &content_type, const std::string &body) {
  if (content_type.find("text/html") != std::string::npos)
    return true;
  auto p = body.find_first_not_of(" \t\r\n");
  return p != std::string::npos && body.compare(p, 1, "<") == 0;
}

std::string token_note(const GitHubOptions &g) {
  return g.token.empty() ? "" : " (with the token from " + g.token_source + ")";
}

// Hop is one request of a listing download and what came back.
struct Hop {
  CURLcode rc = CURLE_OK;
  long status = 0;
  Headers hd;
  Sink sink;
  std::string next; // Location of a redirect
  char errbuf[CURL_ERROR_SIZE] = {};
};

using Clock = std::chrono::steady_clock;

// request_hop GETs `cur` once, within what is left until `deadline`. The
// GitHub token goes only to `api_origin`.
Result<void> request_hop(Hop &h, const std::string &cur,
                         const TransportOptions &t,
                         const std::string &api_origin,
                         const std::string &if_none_match,
                         Clock::time_point deadline) {
  fetch::CurlPtr easy(curl_easy_init());
  if (!easy)
    return make_error(Errc::internal, "libcurl: cannot create a handle");
  CURL *e = easy.get();
  h.sink.easy = e;
  fetch::apply_transport(e, t);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  bool to_api = !api_origin.empty() && fetch::origin_of(cur) == api_origin;
  fetch::CurlSlistPtr headers(
      curl_slist_append(nullptr, to_api ? "Accept: application/vnd.github+json"
                                        : "Accept: application/json"));
  curl_slist *list = headers.get();
  // One HTTP/1.1 request per connection: the body then ends when the
  // server closes, and Sink can see whether it is longer than its
  // Content-Length (libcurl would stop there and drop the rest unseen).
  // The listing is one request; HTTP/2 would gain nothing for it.
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_slist_append(list, "Connection: close");
  curl_easy_setopt(e, CURLOPT_IGNORE_CONTENT_LENGTH, 1L);
  std::string auth, inm;
  if (to_api && !t.github.token.empty()) {
    auth = "Authorization: Bearer " + t.github.token;
    curl_slist_append(list, auth.c_str());
    curl_slist_append(list, "X-GitHub-Api-Version: 2022-11-28");
  }
  if (!if_none_match.empty()) {
    inm = "If-None-Match: " + if_none_match;
    curl_slist_append(list, inm.c_str());
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - Clock::now())
                  .count();
  curl_easy_setopt(
      e, CURLOPT_TIMEOUT_MS,
      static_cast<long>(std::max(1ll, static_cast<long long>(left))));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(e, CURLOPT_URL, cur.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &h.sink);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h.errbuf);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  h.rc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &h.status);
  h.hd = Headers::of(e);
  char *next = nullptr;
  curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &next);
  h.next = next ? next : "";
  if (!h.sink.headers_read && h.status >= 200 && h.status < 300)
    append(nullptr, 0, 0, &h.sink); // an empty body: read its headers
  if (h.rc == CURLE_OK && h.sink.announced &&
      h.sink.data.size() < *h.sink.announced) {
    h.rc = CURLE_PARTIAL_FILE; // retried like a cut connection
    std::snprintf(
        h.errbuf, sizeof h.errbuf, "the body ended after %zu of its %llu bytes",
        h.sink.data.size(), static_cast<unsigned long long>(*h.sink.announced));
  }
  return ok();
}

// deadline_error is the refusal of a listing not in within the deadline.
Error deadline_error(const std::string &url, const TransportOptions &t) {
  return make_error(Errc::timeout,
                    "download listing " + url + ": not done within " +
                        std::to_string(t.listing_timeout_s) +
                        " s (--listing-timeout); the server is too slow or "
                        "trickles the listing: raise --listing-timeout, use "
                        "another mirror, or give --listing FILE");
}

// download GETs `url` with redirects followed one by one, so that the
// GitHub token is attached only to requests to the API's own origin: never
// to the raw-file host, never across a redirect to another host. The whole
// of it, redirects and retries included, ends by --listing-timeout.
Result<HttpReply> download(const std::string &url, const TransportOptions &t,
                           const std::string &if_none_match = "") {
  BTFPACK_CHECK(fetch::curl_init());
  const std::string api_origin = fetch::origin_of(t.github.api_url);
  const std::string first_origin = fetch::origin_of(url);
  bool is_file = url.rfind("file://", 0) == 0;
  auto deadline = Clock::now() + std::chrono::seconds(t.listing_timeout_s);
  for (unsigned attempt = 0;; attempt++) {
    std::string cur = url;
    std::unique_ptr<Hop> hop;
    for (int hops = 0;; hops++) {
      if (Clock::now() >= deadline)
        return deadline_error(url, t);
      hop = std::make_unique<Hop>();
      BTFPACK_CHECK(
          request_hop(*hop, cur, t, api_origin, if_none_match, deadline));
      // libcurl's timer may fire a millisecond before ours.
      if (hop->rc == CURLE_OPERATION_TIMEDOUT &&
          Clock::now() + std::chrono::milliseconds(100) >= deadline)
        return deadline_error(url, t);
      if (hop->rc != CURLE_OK || hop->status < 300 || hop->status >= 400 ||
          hop->status == 304 || hop->next.empty())
        break;
      const std::string &n = hop->next;
      if (hops >= 5)
        return make_error(Errc::io, "download listing " + url +
                                        ": more than 5 redirects (last to " +
                                        n + ")");
      if (n.rfind("http://", 0) != 0 && n.rfind("https://", 0) != 0)
        return make_error(Errc::io, "download listing " + url +
                                        ": redirected to " + n +
                                        ", which is not http(s): refused");
      log::debug("listing ", cur, ": HTTP ", hop->status, ", redirected to ",
                 n);
      cur = n;
    }
    const Sink &sink = hop->sink;
    const Headers &hd = hop->hd;
    const CURLcode rc = hop->rc;
    const long status = hop->status;
    const char *errbuf = hop->errbuf;
    if (sink.too_long)
      return make_error(
          Errc::corrupt,
          "listing " + url + " sent more than its Content-Length of " +
              std::to_string(*sink.announced) +
              " bytes: refused (a broken server or proxy on the way); " +
              "fetch from another mirror or give --listing FILE");
    if (sink.too_big)
      return make_error(Errc::corrupt, "listing " + url + " is larger than " +
                                           std::to_string(kMaxListingBytes) +
                                           " bytes: refused");
    if (rc == CURLE_OK && status == 304) {
      HttpReply r;
      r.not_modified = true;
      r.etag = hd.etag;
      return r;
    }
    if (rc == CURLE_OK && (is_file || (status >= 200 && status < 300))) {
      if (!is_file && looks_like_html(hd.content_type, sink.data)) {
        std::string where = cur == url ? "" : " (redirected to " + cur + ")";
        bool other_host = fetch::origin_of(cur) != first_origin;
        return make_error(
            Errc::corrupt,
            "listing " + url + where + " answered an HTML page, not a JSON " +
                "listing" +
                (other_host ? ": a login page? the archive must be readable "
                              "without a login; give a URL that serves the "
                              "files themselves, or --listing FILE"
                            : ": give the URL of the archive's raw files, or "
                              "--listing FILE"));
      }
      HttpReply r;
      r.body = std::move(sink.data);
      r.etag = hd.etag;
      return r;
    }
    std::string why = fetch::describe_error(rc, status, errbuf);
    if (rc == CURLE_OK && status == 401 && fetch::origin_of(cur) == api_origin)
      return make_error(
          Errc::io, "download listing " + url + ": HTTP 401" +
                        token_note(t.github) +
                        ": the API refused the token; check it, or unset " +
                        (t.github.token.empty() ? std::string("GITHUB_TOKEN")
                                                : t.github.token_source) +
                        " to list anonymously");
    long long wait = rc == CURLE_OK ? rate_limit_wait(status, hd) : -1;
    if (wait >= 0) {
      std::time_t at = std::time(nullptr) + static_cast<std::time_t>(wait);
      std::string more =
          t.github.token.empty()
              ? "set GITHUB_TOKEN (or --token-env NAME) to a GitHub token "
                "(5000 requests an hour instead of 60)"
              : "the token from " + t.github.token_source +
                    " has used up its requests too";
      if (wait > static_cast<long long>(t.github.max_rate_wait_s) ||
          attempt >= t.retries)
        return make_error(Errc::io, "download listing " + url + ": " + why +
                                        token_note(t.github) +
                                        ", rate limit exceeded until " +
                                        utc_clock(at) + " (in " +
                                        std::to_string(wait) + " s): " + more +
                                        ", or wait, or give --listing FILE");
      log::info("download listing ", url, ": ", why,
                ", rate limited; retrying at ", utc_clock(at));
      std::this_thread::sleep_for(std::chrono::seconds(wait));
      deadline += std::chrono::seconds(wait); // waiting is not downloading
      continue;
    }
    if (!fetch::is_transient_error(rc, status) || attempt >= t.retries)
      return make_error(rc == CURLE_OPERATION_TIMEDOUT ? Errc::timeout
                                                       : Errc::io,
                        "download listing " + url + ": " + why);
    long delay_ms = static_cast<long>(t.retry_base_ms) << std::min(attempt, 6u);
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
  BTFPACK_TRY(reply, download(url, t));
  BTFPACK_TRY(doc, parse_json(reply.body, "listing " + url));
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
  BTFPACK_TRY(flat_reply, download(url, t));
  BTFPACK_TRY(flat, parse_json(flat_reply.body, "listing " + url));
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

// parse_listing turns a downloaded or read listing into an index: a git
// tree (assembled from subtrees when GitHub truncated it) or a btfpack
// index file.
Result<Index> parse_listing(std::string text, const std::string &source,
                            bool is_url, const TransportOptions &transport,
                            const std::optional<fetch::GitHubRepo> &repo) {
  BTFPACK_TRY(doc, parse_json(text, "listing " + source));
  if (doc.is_discarded() || !doc.is_object())
    return make_error(Errc::corrupt,
                      "listing " + source +
                          " is not a JSON object (expected a git tree "
                          "listing or a btfpack index)");
  if (repo && doc.contains("url") && doc["url"].is_string()) {
    // The trees API names the tree it answered with: of which repository.
    auto of =
        fetch::repo_of_api_url(doc["url"].get<std::string>(), transport.github);
    auto lower = [](std::string x) {
      for (auto &c : x)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return x;
    };
    if (of && lower(of->slug()) != lower(repo->slug()))
      return make_error(Errc::corrupt,
                        "listing " + source + " is of repository " +
                            of->slug() + ", not of " + repo->slug() +
                            " that the archive URL names: give the listing "
                            "of the archive's own repository");
  }
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
  if (is_truncated(doc))
    return make_error(
        Errc::corrupt,
        "listing " + source +
            " is truncated (the git tree API stops at 100000 "
            "entries): a mirror from it would be incomplete; "
            "give the tree URL of the API "
            "(/repos/O/R/git/trees/REF?recursive=1, which btfpack "
            "lists subtree by subtree) or a complete listing with "
            "--listing");
  std::size_t tree_blobs = 0;
  if (doc.contains("tree") && doc["tree"].is_array())
    for (const auto &e : doc["tree"])
      tree_blobs += e.is_object() && e.value("type", "") == "blob";
  Result<Index> parsed = doc.contains("tree")
                             ? parse_git_tree_listing(text, source)
                             : Index::from_json(text, source);
  if (!parsed)
    return std::move(parsed).error();
  Index index = std::move(parsed).value();
  if (repo && index.entries.empty() && tree_blobs > 0)
    return make_error(Errc::corrupt,
                      "listing " + source + " of " + repo->slug() + " has " +
                          std::to_string(tree_blobs) +
                          " files but none in the archive layout "
                          "(<distro>/<version>/<arch>/<release>.btf.tar.xz): "
                          "is it the archive's repository?");
  for (const auto &e : index.entries) {
    std::string why = fetch::unsafe_path_reason(e.path);
    if (!why.empty())
      return make_error(Errc::corrupt, "listing " + source + " names path '" +
                                           e.path + "': " + why + ", refused");
  }
  index.source = source;
  return index;
}

std::vector<std::string> split_path(const std::string &p) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= p.size(); i++)
    if (i == p.size() || p[i] == '/') {
      if (i > start)
        out.push_back(p.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

// path_below gives what follows `base` in `url` (same origin, path prefix).
std::optional<std::string> path_below(const std::string &url,
                                      const std::string &base) {
  std::string o = fetch::origin_of(url), bo = fetch::origin_of(base);
  if (o.empty() || o != bo)
    return std::nullopt;
  auto path_of = [](const std::string &u) {
    auto s = u.find("://");
    auto p = u.find('/', s + 3);
    std::string path = p == std::string::npos ? "" : u.substr(p);
    return path.substr(0, path.find_first_of("?#"));
  };
  std::string up = path_of(url), bp = path_of(base);
  while (!bp.empty() && bp.back() == '/')
    bp.pop_back();
  if (up.compare(0, bp.size(), bp) != 0 ||
      (up.size() > bp.size() && up[bp.size()] != '/'))
    return std::nullopt;
  return up.substr(bp.size());
}

bool safe_component(const std::string &c) {
  return !c.empty() && c != "." && c != ".." &&
         c.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                             "UVWXYZ0123456789-_.") == std::string::npos;
}

} // namespace

namespace fetch {

std::string origin_of(const std::string &url) {
  auto s = url.find("://");
  if (s == std::string::npos)
    return "";
  std::string scheme = url.substr(0, s);
  for (auto &c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https")
    return "";
  std::string auth =
      url.substr(s + 3, url.find_first_of("/?#", s + 3) - (s + 3));
  if (auto at = auth.rfind('@'); at != std::string::npos)
    auth = auth.substr(at + 1);
  for (auto &c : auth)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto colon = auth.rfind(':');
  if (colon == std::string::npos || auth.find(']', colon) != std::string::npos)
    auth += scheme == "https" ? ":443" : ":80";
  return scheme + "://" + auth;
}

std::optional<GitHubRepo> repo_of_raw_url(const std::string &url,
                                          const GitHubOptions &github) {
  auto rest = path_below(url, github.raw_url);
  if (!rest)
    return std::nullopt;
  auto parts = split_path(*rest);
  if (parts.size() != 3)
    return std::nullopt;
  for (const auto &c : parts)
    if (!safe_component(c))
      return std::nullopt;
  return GitHubRepo{parts[0], parts[1], parts[2]};
}

std::optional<GitHubRepo> repo_of_api_url(const std::string &url,
                                          const GitHubOptions &github) {
  auto rest = path_below(url, github.api_url);
  if (!rest)
    return std::nullopt;
  auto parts = split_path(*rest);
  if (parts.size() < 3 || parts[0] != "repos")
    return std::nullopt;
  GitHubRepo r{parts[1], parts[2], ""};
  if (parts.size() >= 6 && parts[3] == "git" && parts[4] == "trees")
    r.ref = parts[5];
  return r;
}

Result<ListingPlan> plan_listing(const std::string &from,
                                 const std::string &listing,
                                 const GitHubOptions &github) {
  ListingPlan plan;
  plan.repo = repo_of_raw_url(from, github);
  if (!listing.empty()) {
    plan.url = listing;
    if (plan.repo) {
      auto of = repo_of_api_url(listing, github);
      if (of && of->slug() != plan.repo->slug())
        return make_error(Errc::invalid_argument,
                          "listing " + listing + " is of repository " +
                              of->slug() + ", but --from " + from +
                              " is in repository " + plan.repo->slug() +
                              ": give the listing of the same repository");
    }
    return plan;
  }
  plan.derived = true;
  if (plan.repo) {
    std::string api = github.api_url;
    while (!api.empty() && api.back() == '/')
      api.pop_back();
    plan.url = api + "/repos/" + plan.repo->owner + "/" + plan.repo->repo +
               "/git/trees/" + plan.repo->ref + "?recursive=1";
    return plan;
  }
  if (path_below(from, github.raw_url))
    return make_error(Errc::invalid_argument,
                      "--from " + from + " is on " + github.raw_url +
                          " but not of the form " + github.raw_url +
                          "/OWNER/REPO/REF: give the archive repository's "
                          "root, or a listing with --listing");
  plan.url = url_join(from, INDEX_NAME);
  return plan;
}

Result<Index> load_listing_cached(const std::string &url,
                                  const TransportOptions &transport,
                                  const std::filesystem::path &cache_dir,
                                  const std::optional<GitHubRepo> &repo,
                                  bool &not_modified) {
  not_modified = false;
  if (url.find("://") == std::string::npos) {
    BTFPACK_TRY(data, read_text_file(url, kMaxListingBytes));
    return parse_listing(std::move(data), url, false, transport, repo);
  }
  // Only GitHub's API listings are kept (its ETags make a no-op run one
  // request); a mirror's own index.json is cheap to fetch again.
  const std::filesystem::path keep =
      fetch::origin_of(url) == fetch::origin_of(transport.github.api_url)
          ? cache_dir
          : std::filesystem::path();
  const auto etag_file = keep / ".listing.etag";
  const auto body_file = keep / ".listing.json";
  // .listing.etag holds the URL and the ETag of .listing.json.
  std::string etag;
  if (auto e = keep.empty() ? Result<std::string>(
                                  make_error(Errc::not_found, "no cache"))
                            : read_text_file(etag_file, 4096);
      e) {
    auto nl = e->find('\n');
    if (nl != std::string::npos && e->substr(0, nl) == url) {
      std::string tag = e->substr(nl + 1);
      while (!tag.empty() && (tag.back() == '\n' || tag.back() == '\r'))
        tag.pop_back();
      std::error_code ec;
      if (std::filesystem::exists(body_file, ec))
        etag = tag;
    }
  }
  auto reply = download(url, transport, etag);
  if (!reply)
    return std::move(reply).error();
  std::string text;
  if (reply->not_modified) {
    auto cached = read_text_file(body_file, kMaxListingBytes);
    if (!cached)
      return make_error(Errc::io, "listing " + url +
                                      " is not modified, but the copy kept "
                                      "in " +
                                      body_file.string() + " cannot be read: " +
                                      cached.error().message + "; delete " +
                                      etag_file.string());
    text = std::move(cached).value();
    not_modified = true;
  } else {
    text = std::move(reply->body);
  }
  auto index = parse_listing(text, url, true, transport, repo);
  if (!index)
    return index;
  if (!reply->not_modified && !reply->etag.empty() && !keep.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(keep, ec);
    // The body first: an ETag never vouches for a body it did not come with.
    std::filesystem::remove(etag_file, ec);
    if (write_file_atomic(body_file, text) &&
        !write_file_atomic(etag_file, url + "\n" + reply->etag + "\n"))
      log::warn("cannot keep the listing's ETag in ", etag_file.string());
  }
  return index;
}

} // namespace fetch

Result<Index> load_listing(const std::string &source,
                           const TransportOptions &transport) {
  bool is_url = source.find("://") != std::string::npos;
  std::string text;
  if (is_url) {
    BTFPACK_TRY(reply, download(source, transport));
    text = std::move(reply.body);
  } else {
    BTFPACK_TRY(data, read_text_file(source, kMaxListingBytes));
    text = std::move(data);
  }
  return parse_listing(std::move(text), source, is_url, transport,
                       std::nullopt);
}

} // namespace btfpack
