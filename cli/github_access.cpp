// SPDX-License-Identifier: Apache-2.0
#include "github_access.h"

#include <cstdlib>

#include "btfpack/file_util.h"

namespace btfpack::cli {

namespace {
std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}
} // namespace

Result<void> github_access(GitHubOptions &g, const std::string &token_env,
                           bool required) {
  if (auto v = env("BTFPACK_GITHUB_API_URL"); !v.empty())
    g.api_url = v;
  if (auto v = env("BTFPACK_GITHUB_RAW_URL"); !v.empty())
    g.raw_url = v;
  const std::string src = "$" + token_env;
  std::string value = env(token_env.c_str());
  if (value.empty()) {
    if (required)
      return make_error(Errc::invalid_argument,
                        "--token-env " + token_env + ": " + src +
                            " is not set or empty: export the GitHub token "
                            "in it, or leave --token-env out to list "
                            "anonymously (60 requests an hour)");
    return ok();
  }
  std::string token = value;
  if (value.front() == '/' || value.rfind("./", 0) == 0) {
    auto text = read_text_file(value, 64 * 1024);
    if (!text)
      return make_error(Errc::invalid_argument,
                        "read the GitHub token from " + value + " (named by " +
                            src + "): " + text.error().message +
                            ": make the file readable, or put the token "
                            "itself in " +
                            src);
    token = std::move(text).value();
  }
  while (!token.empty() &&
         (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  bool bad = token.empty() || token.size() > 1024;
  for (unsigned char c : token)
    bad = bad || c <= 0x20 || c >= 0x7f;
  if (bad)
    return make_error(Errc::invalid_argument,
                      "the GitHub token in " + src +
                          " is empty or not one token (it has spaces, line "
                          "breaks or control characters): put only the "
                          "token there");
  g.token = std::move(token);
  g.token_source = src;
  return ok();
}

} // namespace btfpack::cli
