// SPDX-License-Identifier: Apache-2.0
//
// NginxServer: a real nginx (Debian's) started by a test on a free
// 127.0.0.1 port, serving a directory, and stopped when the object dies.
// It runs as the current user with a generated config whose pid, logs and
// temporary paths all live in a private temporary directory (`daemon off`,
// `master_process off`), so tests never touch /etc/nginx or /var. Byte
// ranges are on (nginx's default). Optionally TLS with a throw-away
// self-signed certificate for 127.0.0.1, so clients can test verification.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <sys/types.h>

#include "test_util.h"

namespace btfpack::test {

struct NginxOptions {
  std::filesystem::path root; // served at "/"
  std::string server_extra;   // directives inside server { } (limit_rate ...)
  std::string listen_params;  // extra listen parameters ("sndbuf=64k")
  bool tls = false;           // https with a self-signed cert (+ HTTP/2)
};

class NginxServer {
public:
  // start returns a running server, or nullptr with *error set.
  static std::unique_ptr<NginxServer> start(const NginxOptions &opts,
                                            std::string *error);
  ~NginxServer();
  NginxServer(const NginxServer &) = delete;
  NginxServer &operator=(const NginxServer &) = delete;

  int port() const { return port_; }
  // url is "http://127.0.0.1:PORT" (https with tls).
  std::string url() const;
  // ca_file is the PEM certificate clients must trust (tls only).
  std::filesystem::path ca_file() const { return dir_.path() / "cert.pem"; }
  // requests counts access-log lines whose URI contains `needle`; each line
  // is "URI STATUS BYTES \"RANGE\" PROTOCOL".
  int requests(const std::string &needle) const;
  std::string access_log() const;
  std::string error_log() const;

private:
  NginxServer() = default;
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool tls_ = false;
};

// nginx_binary is Debian's nginx, or empty when it is not installed.
std::filesystem::path nginx_binary();

// free_loopback_port asks the kernel for an unused 127.0.0.1 port.
int free_loopback_port();

} // namespace btfpack::test

// SKIP_UNLESS_NGINX(): skip with the reason when nginx is not installed.
#define SKIP_UNLESS_NGINX()                                                    \
  do {                                                                         \
    if (::btfpack::test::nginx_binary().empty())                               \
      GTEST_SKIP() << "nginx not installed (apt-get install nginx-light)";     \
  } while (0)
