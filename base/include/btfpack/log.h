// SPDX-License-Identifier: Apache-2.0
//
// The project's one logger. Off by default in the library (level `error`
// goes nowhere until a sink is set); the CLI sets a stderr sink and raises
// the level with -v. libbpf's own messages are routed here with
// route_libbpf_logs() (runtime/), so "Invalid BTF total size" and friends
// reach the operator instead of vanishing.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace btfpack::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

using Sink = std::function<void(Level, std::string_view)>;

// set_sink installs where messages go; an empty sink silences the logger.
void set_sink(Sink sink);
// set_level sets the most verbose level that is still emitted.
void set_level(Level level);
Level level();
bool enabled(Level level);
void write(Level level, std::string_view msg);
// stderr_sink prints "btfpack: warning: msg" lines to stderr.
Sink stderr_sink();

template <typename... Args> void emit(Level lvl, const Args &...args) {
  if (!enabled(lvl))
    return;
  std::ostringstream os;
  (os << ... << args);
  write(lvl, os.str());
}
template <typename... Args> void error(const Args &...a) {
  emit(Level::error, a...);
}
template <typename... Args> void warn(const Args &...a) {
  emit(Level::warn, a...);
}
template <typename... Args> void info(const Args &...a) {
  emit(Level::info, a...);
}
template <typename... Args> void debug(const Args &...a) {
  emit(Level::debug, a...);
}

} // namespace btfpack::log
