// SPDX-License-Identifier: Apache-2.0
#include "curl_common.h"

#include <cctype>
#include <charconv>
#include <filesystem>
#include <mutex>

namespace btfpack::fetch {

namespace {
bool is_url(const std::string &s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 ||
         s.rfind("file://", 0) == 0;
}

// Unreserved characters plus '+' (common in release names, literal in paths).
bool keep_literal(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+';
}

std::string encode_path(const std::string &path) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (c == '/' || keep_literal(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}
} // namespace

Result<void> curl_init() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK)
    return make_error(Errc::internal, std::string("libcurl initialisation: ") +
                                          curl_easy_strerror(rc));
  return ok();
}

const char *user_agent() {
  static const std::string ua = std::string("btfpack/") + BTFPACK_VERSION +
                                " libcurl/" +
                                curl_version_info(CURLVERSION_NOW)->version;
  return ua.c_str();
}

void apply_transport(CURL *easy, const TransportOptions &t) {
  curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                   static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT,
                   static_cast<long>(t.timeout_s));
  // A stalled transfer is one slower than 1 KiB/s for timeout_s seconds;
  // a whole-transfer deadline would punish large files on slow links.
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(t.timeout_s));
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!t.ca_file.empty()) {
    // CAINFO names the extra bundle; the system CA directory (CAPATH, left
    // at libcurl's default) stays trusted too.
    curl_easy_setopt(easy, CURLOPT_CAINFO, t.ca_file.c_str());
    curl_easy_setopt(easy, CURLOPT_PROXY_CAINFO, t.ca_file.c_str());
  }
  // Proxies: libcurl reads http_proxy, https_proxy, all_proxy and no_proxy
  // (and HTTPS_PROXY, ALL_PROXY, NO_PROXY) from the environment exactly as
  // the curl tool does, as long as CURLOPT_PROXY is not set; so it is not.
}

bool is_transient_error(CURLcode rc, long http_status) {
  switch (rc) {
  case CURLE_OK:
    break;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_HTTP3:
  case CURLE_QUIC_CONNECT_ERROR:
    return true;
  default:
    return false;
  }
  switch (http_status) {
  case 408:
  case 425:
  case 429:
  case 500:
  case 502:
  case 503:
  case 504:
    return true;
  default:
    return false;
  }
}

std::string describe_error(CURLcode rc, long http_status, const char *errbuf) {
  if (rc == CURLE_OK)
    return "HTTP " + std::to_string(http_status);
  std::string s = curl_easy_strerror(rc);
  if (errbuf && *errbuf)
    s += std::string(" (") + errbuf + ")";
  // "Couldn't connect" -> "couldn't connect", but "SSL peer" stays.
  if (s.size() > 1 && std::islower(static_cast<unsigned char>(s[1])))
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
      rc == CURLE_SSL_ISSUER_ERROR)
    s += "; a mirror with a private CA needs that CA given with --ca-file";
  return s;
}

std::optional<std::string> header_value(CURL *easy, const char *name) {
  curl_header *h = nullptr;
  if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
    return std::nullopt;
  if (h->amount > 1 && curl_easy_header(easy, name, h->amount - 1, CURLH_HEADER,
                                        -1, &h) != CURLHE_OK)
    return std::nullopt;
  std::string_view v = h->value;
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return std::string(v);
}

std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

namespace {
// parse_content_range reads "bytes FIRST-LAST/TOTAL" (TOTAL may be "*").
bool parse_content_range(std::string_view v, Announced &a) {
  if (v.substr(0, 6) != "bytes ")
    return false;
  v.remove_prefix(6);
  auto dash = v.find('-'), slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos ||
      slash < dash)
    return false;
  auto first = parse_decimal(v.substr(0, dash));
  auto last = parse_decimal(v.substr(dash + 1, slash - dash - 1));
  auto total_text = v.substr(slash + 1);
  auto total = parse_decimal(total_text);
  if (!first || !last || *last < *first || (!total && total_text != "*"))
    return false;
  a.first = *first;
  a.last = *last;
  a.range_total = total;
  return true;
}
} // namespace

Announced announced(CURL *easy) {
  Announced a;
  // Two different Content-Length headers are an error (RFC 9110 8.6);
  // libcurl already refuses them, the last one is as good as any.
  if (auto cl = header_value(easy, "Content-Length")) {
    a.length = parse_decimal(*cl);
    a.length_bad = !a.length;
  }
  if (auto cr = header_value(easy, "Content-Range"))
    a.has_range = parse_content_range(*cr, a);
  return a;
}

std::string to_url(const std::string &from) {
  if (is_url(from))
    return from;
  std::error_code ec;
  auto abs = std::filesystem::absolute(from, ec);
  return "file://" + encode_path((ec ? std::filesystem::path(from) : abs)
                                     .lexically_normal()
                                     .string());
}

std::string url_join(const std::string &base, const std::string &rel_path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/')
    b.pop_back();
  return b + "/" + encode_path(rel_path);
}

} // namespace btfpack::fetch
