// SPDX-License-Identifier: Apache-2.0
//
// btfpack fetch and GitHub: the listing of a raw.githubusercontent.com
// source comes from the git trees API, and the token goes to the API host
// only. Two RecordingServers on loopback play the API and raw-file hosts
// (BTFPACK_GITHUB_API_URL, BTFPACK_GITHUB_RAW_URL point fetch at them) and
// record every header, serving the committed sample archive
// (tests/data/archive). Also: rate limits, ETag re-runs, bad tokens, the
// wrong repository, a login page, and a server that is not GitHub.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "recording_server.h"
#include "test_util.h"

namespace btfpack::test {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kRepo = "/owner/btfhub-archive/main";
const std::string kTree = "/repos/owner/btfhub-archive/git/trees/main";
const std::string kToken = "ghp_testtoken123";

// tree_listing is the git trees API answer for the sample archive, with
// real git blob ids (git hash-object).
std::string tree_listing(const std::string &api, const std::string &repo) {
  json tree = json::array();
  for (auto &e : fs::recursive_directory_iterator(sample_archive())) {
    auto rel = fs::relative(e.path(), sample_archive()).string();
    if (e.is_directory()) {
      tree.push_back({{"path", rel},
                      {"mode", "040000"},
                      {"type", "tree"},
                      {"sha", std::string(40, 'a')}});
      continue;
    }
    auto h = sh("git hash-object '" + e.path().string() + "'");
    std::string sha = h.out.substr(0, 40);
    tree.push_back({{"path", rel},
                    {"mode", "100644"},
                    {"type", "blob"},
                    {"sha", sha},
                    {"size", fs::file_size(e.path())}});
  }
  json doc = {
      {"sha", std::string(40, 'b')},
      {"url", api + "/repos/" + repo + "/git/trees/" + std::string(40, 'b')},
      {"tree", tree},
      {"truncated", false}};
  return doc.dump();
}

HttpResponse listing_reply(const std::string &body) {
  return {200,
          {{"Content-Type", "application/json; charset=utf-8"},
           {"ETag", "\"v1\""},
           {"X-RateLimit-Remaining", "59"}},
          body};
}

// Raw files live under /OWNER/REPO/REF/ on the raw host.
HttpResponse raw_reply(const HttpRequest &r) {
  if (r.target.rfind(kRepo + "/", 0) != 0)
    return {404, {}, "404: Not Found"};
  HttpRequest inner = r;
  inner.target = r.target.substr(kRepo.size());
  return RecordingServer::serve_file(sample_archive(), inner);
}

struct Hosts {
  std::function<HttpResponse(const HttpRequest &)> api_handler;
  RecordingServer api{[this](const HttpRequest &r) { return api_handler(r); }};
  RecordingServer raw{raw_reply};
  TempDir tmp;

  std::string env(const std::string &token = kToken) const {
    std::string e = "env -u GITHUB_TOKEN BTFPACK_GITHUB_API_URL=" + api.url() +
                    " BTFPACK_GITHUB_RAW_URL=" + raw.url() + " ";
    if (!token.empty())
      e += "GITHUB_TOKEN='" + token + "' ";
    return e;
  }
  CmdResult fetch(const std::string &args, const std::string &token = kToken,
                  bool json_out = true) const {
    return sh(env(token) + "'" + cli_path().string() + "' " +
              (json_out ? "-j " : "") + "fetch --from " + raw.url() + kRepo +
              " --to '" + (tmp / "mirror").string() + "' --retries 1 " + args);
  }
};

json summary(const CmdResult &r) {
  auto j = json::parse(r.out, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

int count_with(const std::vector<HttpRequest> &reqs, const std::string &h) {
  int n = 0;
  for (auto &r : reqs)
    n += !r.header(h).empty();
  return n;
}

TEST(GitHubApi, TokenReachesTheApiHostOnlyAndANoOpRerunIsOneRequest) {
  Hosts h;
  std::string listing;
  h.api_handler = [&](const HttpRequest &r) -> HttpResponse {
    if (r.target != kTree + "?recursive=1")
      return {404, {}, "{\"message\": \"Not Found\"}"};
    if (r.header("if-none-match") == "\"v1\"")
      return {304, {{"ETag", "\"v1\""}}, ""};
    return listing_reply(listing);
  };
  listing = tree_listing(h.api.url(), "owner/btfhub-archive");
  ASSERT_TRUE(h.api.running() && h.raw.running());

  auto r = h.fetch("");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto j = summary(r);
  EXPECT_EQ(j["fetched"], 4);
  EXPECT_EQ(j["listing"], h.api.url() + kTree + "?recursive=1");
  auto api = h.api.requests();
  ASSERT_EQ(api.size(), 1u);
  EXPECT_EQ(api[0].header("authorization"), "Bearer " + kToken);
  EXPECT_EQ(api[0].header("accept"), "application/vnd.github+json");
  auto raw = h.raw.requests();
  EXPECT_EQ(raw.size(), 4u);
  EXPECT_EQ(count_with(raw, "authorization"), 0) << "token sent to raw host";

  // Re-run: one conditional request, answered 304; nothing downloaded.
  r = h.fetch("");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  j = summary(r);
  EXPECT_EQ(j["listing_not_modified"], true);
  EXPECT_EQ(j["fetched"], 0);
  EXPECT_EQ(j["skipped"], 4);
  EXPECT_EQ(j["bytes"], 0);
  api = h.api.requests();
  ASSERT_EQ(api.size(), 2u);
  EXPECT_EQ(api[1].header("if-none-match"), "\"v1\"");
  EXPECT_EQ(h.raw.requests().size(), 4u) << "the no-op run downloaded files";
}

TEST(GitHubApi, ARedirectToAnotherHostDoesNotCarryTheToken) {
  Hosts h;
  std::string listing;
  RecordingServer other(
      [&](const HttpRequest &) { return listing_reply(listing); });
  h.api_handler = [&](const HttpRequest &r) -> HttpResponse {
    if (r.target.rfind(kTree, 0) == 0)
      return {307, {{"Location", other.url() + "/tree.json"}}, ""};
    return {404, {}, ""};
  };
  listing = tree_listing(h.api.url(), "owner/btfhub-archive");
  auto r = h.fetch("--distro debian --version 12 --arch x86_64");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["fetched"], 2);
  ASSERT_EQ(h.api.requests().size(), 1u);
  EXPECT_EQ(h.api.requests()[0].header("authorization"), "Bearer " + kToken);
  ASSERT_EQ(other.requests().size(), 1u);
  EXPECT_EQ(other.requests()[0].header("authorization"), "")
      << "the token crossed a redirect to another host";
  EXPECT_EQ(count_with(h.raw.requests(), "authorization"), 0);
}

TEST(GitHubApi, ARateLimitIsRetriedAfterItsResetTime) {
  Hosts h;
  std::string listing;
  int calls = 0;
  h.api_handler = [&](const HttpRequest &) -> HttpResponse {
    if (calls++ == 0)
      return {403,
              {{"X-RateLimit-Remaining", "0"},
               {"X-RateLimit-Reset", std::to_string(std::time(nullptr) + 1)},
               {"Content-Type", "application/json"}},
              "{\"message\": \"API rate limit exceeded\"}"};
    return listing_reply(listing);
  };
  listing = tree_listing(h.api.url(), "owner/btfhub-archive");
  auto t0 = std::chrono::steady_clock::now();
  auto r = h.fetch("--distro debian --version 11", "");
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["fetched"], 1);
  EXPECT_EQ(h.api.requests().size(), 2u);
  EXPECT_GE(s, 1.0) << "retried before the reset time";
  EXPECT_EQ(count_with(h.api.requests(), "authorization"), 0);
}

TEST(GitHubApi, ARateLimitResettingTooFarOffIsRefusedSayingWhatToDo) {
  Hosts h;
  h.api_handler = [&](const HttpRequest &) -> HttpResponse {
    return {429,
            {{"X-RateLimit-Remaining", "0"},
             {"X-RateLimit-Reset", std::to_string(std::time(nullptr) + 3000)}},
            "{\"message\": \"API rate limit exceeded\"}"};
  };
  auto t0 = std::chrono::steady_clock::now();
  auto r = h.fetch("", "", false);
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(r.status, 1);
  EXPECT_LT(s, 10.0);
  for (const char *w : {"HTTP 429", "rate limit exceeded until", "GITHUB_TOKEN",
                        "--listing", kTree.c_str()})
    EXPECT_NE(r.err.find(w), std::string::npos) << w << ": " << r.err;
  EXPECT_EQ(h.api.requests().size(), 1u);
  EXPECT_TRUE(h.raw.requests().empty());
}

TEST(GitHubApi, BadTokensFailFastNamingWhereTheTokenCameFrom) {
  Hosts h;
  h.api_handler = [&](const HttpRequest &) -> HttpResponse {
    return {401,
            {{"Content-Type", "application/json"}},
            "{\"message\": \"Bad credentials\"}"};
  };
  auto r = h.fetch("--token-env MY_TOKEN", "", false);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("$MY_TOKEN is not set"), std::string::npos) << r.err;
  r = h.fetch("", (h.tmp / "no-such-token").string(), false);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("read the GitHub token from " +
                       (h.tmp / "no-such-token").string()),
            std::string::npos)
      << r.err;
  r = h.fetch("", "two words", false);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not one token"), std::string::npos) << r.err;
  EXPECT_TRUE(h.api.requests().empty()) << "a bad token was sent";
  r = h.fetch("", kToken, false);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("HTTP 401 (with the token from $GITHUB_TOKEN): the API "
                       "refused the token"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(h.api.requests().size(), 1u); // not retried
}

TEST(GitHubApi, AListingOfAnotherRepositoryIsRefused) {
  Hosts h;
  std::string listing;
  h.api_handler = [&](const HttpRequest &) { return listing_reply(listing); };
  listing = tree_listing(h.api.url(), "someone/other-repo");
  auto r = h.fetch("", kToken, false);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is of repository someone/other-repo, not of "
                       "owner/btfhub-archive"),
            std::string::npos)
      << r.err;
  // An explicit --listing of another repository: refused before a request.
  std::size_t before = h.api.requests().size();
  r = h.fetch("--listing " + h.api.url() +
                  "/repos/someone/other-repo/git/trees/main?recursive=1",
              kToken, false);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is of repository someone/other-repo, but --from"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(h.api.requests().size(), before);
  EXPECT_TRUE(h.raw.requests().empty());
}

// A server that is not GitHub is asked for BASE/index.json (what `btfpack
// index` and fetch write into a mirror), never the GitHub API.
TEST(GitHubApi, AnotherServerIsAskedForItsIndexJson) {
  Hosts h;
  h.api_handler = [](const HttpRequest &) -> HttpResponse {
    return {500, {}, ""};
  };
  // A mirror with its index.json, served as is.
  auto m = sh("'" + cli_path().string() + "' fetch --from '" +
              sample_archive().string() + "' --to '" +
              (h.tmp / "served").string() + "' 2>&1");
  ASSERT_EQ(m.status, 0) << m.out;
  fs::path served = h.tmp / "served";
  RecordingServer plain([&](const HttpRequest &r) {
    return RecordingServer::serve_file(served, r);
  });
  auto run = [&](const std::string &extra) {
    return sh(h.env() + "'" + cli_path().string() + "' fetch --from " +
              plain.url() + "/ --to '" + (h.tmp / "m2").string() +
              "' --retries 0 " + extra);
  };
  auto t0 = std::chrono::steady_clock::now();
  auto r = run("");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("fetched 4"), std::string::npos) << r.out;
  EXPECT_EQ(plain.requests().front().target, "/index.json");
  EXPECT_EQ(count_with(plain.requests(), "authorization"), 0);
  EXPECT_TRUE(h.api.requests().empty());

  // Without index.json: a fast, clear failure that names the way out.
  fs::remove(served / "index.json");
  fs::remove_all(h.tmp / "m2");
  r = run("");
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(r.status, 1);
  for (const char *w : {"/index.json: HTTP 404", "btfpack index", "--listing",
                        "archive.listing"})
    EXPECT_NE(r.err.find(w), std::string::npos) << w << ": " << r.err;
  EXPECT_LT(s, 10.0);
  EXPECT_TRUE(h.api.requests().empty());
}

TEST(GitHubApi, EveryFileNotFoundSaysTheBaseUrlLooksWrong) {
  Hosts h;
  h.api_handler = [](const HttpRequest &) -> HttpResponse {
    return {500, {}, ""};
  };
  auto m = sh("'" + cli_path().string() + "' fetch --from '" +
              sample_archive().string() + "' --to '" +
              (h.tmp / "served").string() + "' 2>&1");
  ASSERT_EQ(m.status, 0) << m.out;
  fs::path served = h.tmp / "served";
  // The listing is served, the files are not (a base one level too high).
  RecordingServer plain([&](const HttpRequest &r) -> HttpResponse {
    if (r.target == "/index.json")
      return RecordingServer::serve_file(served, r);
    return {404, {}, "not found"};
  });
  auto r = sh(h.env() + "'" + cli_path().string() + "' fetch --from " +
              plain.url() + " --to '" + (h.tmp / "m").string() + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("every one of the 4 selected files answered HTTP 404"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the base URL looks wrong"), std::string::npos);
  EXPECT_EQ(r.err.find("run the same command again"), std::string::npos);
}

TEST(GitHubApi, AnArchiveUrlRedirectingToALoginPageFailsFast) {
  Hosts h;
  RecordingServer login([](const HttpRequest &) -> HttpResponse {
    return {200,
            {{"Content-Type", "text/html; charset=utf-8"}},
            "<!DOCTYPE html><html><body><form>Sign in</form></body></html>"};
  });
  RecordingServer site([&](const HttpRequest &r) -> HttpResponse {
    return {302, {{"Location", login.url() + "/login?next=" + r.target}}, ""};
  });
  auto r = sh(h.env() + "'" + cli_path().string() + "' fetch --from " +
              site.url() + "/archive --to '" + (h.tmp / "m").string() + "'");
  EXPECT_EQ(r.status, 1);
  for (const char *w : {"/archive/index.json", "redirected to",
                        "answered an HTML page", "login", "--listing"})
    EXPECT_NE(r.err.find(w), std::string::npos) << w << ": " << r.err;
  EXPECT_EQ(site.requests().size(), 1u);
  EXPECT_EQ(login.requests().size(), 1u);
  EXPECT_FALSE(fs::exists(h.tmp / "m" / "debian"));
}

} // namespace
} // namespace btfpack::test
