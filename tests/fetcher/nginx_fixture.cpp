// SPDX-License-Identifier: Apache-2.0
#include "nginx_fixture.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace btfpack::test {

namespace {

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

bool can_connect(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

std::string config(const fs::path &dir, const NginxOptions &o, int port) {
  std::string d = dir.string();
  std::ostringstream c;
  c << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
    << "pid " << d << "/nginx.pid;\n"
    << "error_log " << d << "/error.log info;\n"
    << "events { worker_connections 512; }\n"
    << "http {\n"
    << "  log_format t '$request_uri $status $body_bytes_sent "
       "\"$http_range\" $server_protocol';\n"
    << "  access_log " << d << "/access.log t;\n"
    << "  client_body_temp_path " << d << "/body;\n"
    << "  proxy_temp_path " << d << "/proxy;\n"
    << "  fastcgi_temp_path " << d << "/fastcgi;\n"
    << "  uwsgi_temp_path " << d << "/uwsgi;\n"
    << "  scgi_temp_path " << d << "/scgi;\n"
    << "  default_type application/octet-stream;\n"
    << "  types { application/json json; }\n"
    << "  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 100000;\n"
    << "  server {\n";
  if (o.tls) {
    c << "    listen 127.0.0.1:" << port << " ssl http2 " << o.listen_params
      << ";\n"
      << "    ssl_certificate " << d << "/cert.pem;\n"
      << "    ssl_certificate_key " << d << "/key.pem;\n";
  } else {
    c << "    listen 127.0.0.1:" << port << " " << o.listen_params << ";\n";
  }
  c << "    root " << o.root.string() << ";\n"
    << "    " << o.server_extra << "\n"
    << "  }\n}\n";
  return c.str();
}

} // namespace

fs::path nginx_binary() {
  for (const char *p : {"/usr/sbin/nginx", "/usr/bin/nginx"})
    if (::access(p, X_OK) == 0)
      return p;
  return {};
}

int free_loopback_port() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

std::unique_ptr<NginxServer> NginxServer::start(const NginxOptions &opts,
                                                std::string *error) {
  fs::path bin = nginx_binary();
  if (bin.empty()) {
    *error = "nginx not installed";
    return nullptr;
  }
  std::unique_ptr<NginxServer> s(new NginxServer());
  s->tls_ = opts.tls;
  if (opts.tls) {
    auto r =
        run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
             "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", (s->dir_.path() / "key.pem").string(), "-out",
             (s->dir_.path() / "cert.pem").string()});
    if (r.status != 0) {
      *error = "openssl req failed: " + r.err;
      return nullptr;
    }
  }
  // The port is free when asked for but may be taken before nginx binds it:
  // try a few.
  for (int attempt = 0; attempt < 5; attempt++) {
    int port = free_loopback_port();
    fs::path conf = s->dir_.path() / "nginx.conf";
    std::ofstream(conf) << config(s->dir_.path(), opts, port);
    pid_t pid = ::fork();
    if (pid == 0) {
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      std::string err = (s->dir_.path() / "stderr.log").string();
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(e, 2);
      std::string p = s->dir_.path().string();
      std::string el = (s->dir_.path() / "error.log").string();
      ::execl(bin.c_str(), "nginx", "-p", p.c_str(), "-c", conf.c_str(), "-e",
              el.c_str(), static_cast<char *>(nullptr));
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool up = false, died = false;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        died = true;
        break;
      }
      if (can_connect(port)) {
        up = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (up) {
      s->pid_ = pid;
      s->port_ = port;
      return s;
    }
    if (!died) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    *error = "nginx did not start: " + slurp(s->dir_.path() / "stderr.log") +
             slurp(s->dir_.path() / "error.log");
  }
  return nullptr;
}

NginxServer::~NginxServer() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; i++) { // a test server: 1 s, then SIGKILL
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string NginxServer::url() const {
  return std::string(tls_ ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(port_);
}

std::string NginxServer::access_log() const {
  return slurp(dir_.path() / "access.log");
}

std::string NginxServer::error_log() const {
  return slurp(dir_.path() / "error.log");
}

int NginxServer::requests(const std::string &needle) const {
  std::istringstream in(access_log());
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    if (line.substr(0, sp).find(needle) != std::string::npos)
      n++;
  }
  return n;
}

} // namespace btfpack::test
