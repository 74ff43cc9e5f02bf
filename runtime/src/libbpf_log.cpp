// SPDX-License-Identifier: Apache-2.0
#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <string>

#include "btfpack/log.h"
#include "btfpack/runtime.h"

namespace btfpack {

namespace {

int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args) {
  log::Level l = level == LIBBPF_WARN   ? log::Level::warn
                 : level == LIBBPF_INFO ? log::Level::info
                                        : log::Level::debug;
  if (!log::enabled(l))
    return 0;
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  if (n < 0)
    return n;
  std::string msg(buf, std::min<std::size_t>(std::size_t(n), sizeof buf - 1));
  while (!msg.empty() && msg.back() == '\n')
    msg.pop_back();
  log::write(l, "libbpf: " + msg);
  return n;
}

} // namespace

void route_libbpf_logs() {
  libbpf_set_print(print_libbpf);
}

} // namespace btfpack
