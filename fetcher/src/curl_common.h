// SPDX-License-Identifier: Apache-2.0
//
// What every libcurl transfer of the fetcher shares: owned handles, the one
// global initialisation, the transport settings (timeouts, TLS, protocols,
// user agent) and the classification of errors into transient (retry) and
// permanent. libcurl never leaves fetcher/src.
#pragma once

#include <cstdint>
#include <curl/curl.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "btfpack/c_free.h"
#include "btfpack/fetcher.h"

namespace btfpack::fetch {

using CurlPtr = CHandle<CURL, curl_easy_cleanup>;
using CurlMultiPtr = CHandle<CURLM, curl_multi_cleanup>;
using CurlSlistPtr = CHandle<curl_slist, curl_slist_free_all>;

// curl_init initialises libcurl once per process (thread-safe).
Result<void> curl_init();

// apply_transport sets the options shared by all transfers on a (fresh or
// reset) easy handle. TLS peer and host verification stay on: ca_file only
// adds a trusted bundle next to the system's CA directory.
void apply_transport(CURL *easy, const TransportOptions &t);

// is_transient_error tells whether a finished transfer may succeed when
// retried: connection failures and resets, timeouts, truncated bodies, HTTP
// 408, 425, 429, 500, 502, 503, 504.
bool is_transient_error(CURLcode rc, long http_status);

// describe_error names what went wrong: "HTTP 404" or curl's message plus
// the error buffer's detail.
std::string describe_error(CURLcode rc, long http_status, const char *errbuf);

// file_url turns a local path into a file:// URL; to_url leaves URLs alone.
std::string to_url(const std::string &from);

// url_join appends a relative archive path to a base URL, percent-encoding
// each path component.
std::string url_join(const std::string &base, const std::string &rel_path);

// header_value is the value of response header `name` of the last response
// `easy` received (after redirects), read with curl_easy_header; nullopt
// when there is none. Several headers of that name give the last one.
std::optional<std::string> header_value(CURL *easy, const char *name);

// parse_decimal reads a whole string of ASCII digits (no sign, no blanks)
// that fits 64 bits.
std::optional<std::uint64_t> parse_decimal(std::string_view s);

// Announced is what a response's headers say about its body, read once the
// headers are in: Content-Length, and Content-Range of a 206.
struct Announced {
  std::optional<std::uint64_t> length;      // Content-Length
  bool length_bad = false;                  // present but not one number
  bool has_range = false;                   // Content-Range parsed
  std::uint64_t first = 0, last = 0;        // bytes first-last/...
  std::optional<std::uint64_t> range_total; // .../total (none for "*")
};

// announced reads Content-Length and Content-Range of the last response.
Announced announced(CURL *easy);

// user_agent is "btfpack/<version> libcurl/<version>".
const char *user_agent();

} // namespace btfpack::fetch
