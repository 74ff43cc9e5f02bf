// SPDX-License-Identifier: Apache-2.0
#include "btfpack/log.h"
#include "btfpack/text_util.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace btfpack::log {
namespace {
std::mutex g_mu;
Sink g_sink;
std::atomic<int> g_level{static_cast<int>(Level::warn)};
std::atomic<bool> g_has_sink{false};
} // namespace

void set_sink(Sink sink) {
  std::lock_guard lk(g_mu);
  g_has_sink = static_cast<bool>(sink);
  g_sink = std::move(sink);
}

void set_level(Level lvl) {
  g_level = static_cast<int>(lvl);
}
Level level() {
  return static_cast<Level>(g_level.load());
}

bool enabled(Level lvl) {
  return g_has_sink.load(std::memory_order_relaxed) &&
         static_cast<int>(lvl) <= g_level.load(std::memory_order_relaxed);
}

void write(Level lvl, std::string_view msg) {
  std::lock_guard lk(g_mu);
  if (g_sink)
    g_sink(lvl, msg);
}

Sink stderr_sink() {
  return [](Level lvl, std::string_view msg) {
    static const char *names[] = {"error", "warning", "info", "debug"};
    // Strip one trailing newline: libbpf ends its lines with one.
    if (!msg.empty() && msg.back() == '\n')
      msg.remove_suffix(1);
    std::string safe = terminal_safe(msg);
    std::fprintf(stderr, "btfpack: %s: %s\n", names[static_cast<int>(lvl)],
                 safe.c_str());
  };
}

} // namespace btfpack::log
