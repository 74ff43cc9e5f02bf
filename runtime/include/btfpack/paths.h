// SPDX-License-Identifier: Apache-2.0
//
// The installed layout shared by `btfpack install` (packaging) and
// `btfpack resolve`/`explain` (runtime): where the current bundle, the
// trusted keys and the BTF cache live, and the environment variables that
// move them (for tests and unusual hosts). The variables are read with
// secure_getenv: a set-uid or file-capability program ignores them. The CLI
// honours them; the C API only when the caller sets btfpack_opts.use_env.
//
//   $BTFPACK_STORE      default /var/lib/btfpack (docs/install-layout.md):
//                       bundles/<file>.btfpack, names/<name>/{current,
//                       previous} symlinks to each name's bundle in use and
//                       the one before; `current` while one name is installed
//   $BTFPACK_KEYS_DIR   default /etc/btfpack/keys; *.pub trusted for every
//                       bundle name, <name>/*.pub only for <name> (trust.h)
//   $BTFPACK_CACHE_DIR  default /var/cache/btfpack; root-owned BTF files
#pragma once

#include <cstdlib>
#include <filesystem>

namespace btfpack::paths {

constexpr const char *DEFAULT_STORE_DIR = "/var/lib/btfpack";
constexpr const char *BUNDLES_SUBDIR = "bundles";
constexpr const char *NAMES_SUBDIR = "names";
constexpr const char *CURRENT_NAME = "current";
constexpr const char *PREVIOUS_NAME = "previous";
constexpr const char *LOCK_NAME = ".lock";
constexpr const char *DEFAULT_KEYS_DIR = "/etc/btfpack/keys";
constexpr const char *KEY_SUFFIX = ".pub";
constexpr const char *DEFAULT_CACHE_DIR = "/var/cache/btfpack";
constexpr const char *ENV_STORE = "BTFPACK_STORE";
constexpr const char *ENV_KEYS_DIR = "BTFPACK_KEYS_DIR";
constexpr const char *ENV_CACHE_DIR = "BTFPACK_CACHE_DIR";

namespace detail {
inline std::filesystem::path env_or(const char *name, const char *fallback) {
  const char *v = ::secure_getenv(name);
  return (v && *v) ? std::filesystem::path(v) : std::filesystem::path(fallback);
}
} // namespace detail

// store_dir is $BTFPACK_STORE or /var/lib/btfpack.
inline std::filesystem::path store_dir() {
  return detail::env_or(ENV_STORE, DEFAULT_STORE_DIR);
}
// current_bundle is store_dir()/current: the bundle resolve uses by default.
inline std::filesystem::path current_bundle() {
  return store_dir() / CURRENT_NAME;
}
// bundles_dir holds the installed bundle files.
inline std::filesystem::path bundles_dir() {
  return store_dir() / BUNDLES_SUBDIR;
}
// previous_bundle is what `btfpack rollback` returns to.
inline std::filesystem::path previous_bundle() {
  return store_dir() / PREVIOUS_NAME;
}
// keys_dir is $BTFPACK_KEYS_DIR or /etc/btfpack/keys.
inline std::filesystem::path keys_dir() {
  return detail::env_or(ENV_KEYS_DIR, DEFAULT_KEYS_DIR);
}
// cache_dir is $BTFPACK_CACHE_DIR or /var/cache/btfpack.
inline std::filesystem::path cache_dir() {
  return detail::env_or(ENV_CACHE_DIR, DEFAULT_CACHE_DIR);
}

} // namespace btfpack::paths
