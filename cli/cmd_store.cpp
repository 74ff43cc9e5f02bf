// SPDX-License-Identifier: Apache-2.0
//
// btfpack install BUNDLE [--key PUB ...] [--store DIR] [--allow-downgrade]
// btfpack list [--store DIR] [--key PUB ...]
// btfpack rollback [--store DIR] [--key PUB ...]
//
// The host's bundle store (runtime/include/btfpack/store.h). Keys default
// to every *.pub of the trusted keys directory, the store to
// /var/lib/btfpack (paths.h; BTFPACK_KEYS_DIR and BTFPACK_STORE
// move them).
#include <cstdio>
#include <memory>

#include "btfpack/keys.h"
#include "btfpack/paths.h"
#include "btfpack/store.h"
#include "cli.h"
#include "trusted_keys.h"

namespace btfpack::cli {

namespace {

struct StoreArgs {
  std::string bundle;
  std::vector<std::string> keys;
  std::string store;
  bool allow_downgrade = false;
  bool allow_expired = false;
};

void add_common(CLI::App *sub, StoreArgs &a) {
  sub->add_option("--key", a.keys,
                  "trusted public key file or directory of *.pub (minisign "
                  "format; repeatable; default: every *.pub in "
                  "$BTFPACK_KEYS_DIR or /etc/btfpack/keys)");
  sub->add_option("--store", a.store,
                  "bundle store directory (default: $BTFPACK_STORE or "
                  "/var/lib/btfpack)");
}

std::filesystem::path store_dir(const StoreArgs &a) {
  return a.store.empty() ? paths::store_dir() : std::filesystem::path(a.store);
}

// The --key files or directories (as verify takes them), else every *.pub
// of the trusted keys directory.
Result<std::vector<PublicKey>> trusted_keys(const StoreArgs &a) {
  if (a.keys.empty())
    return read_trusted_keys(paths::keys_dir());
  return load_trusted_keys(a.keys);
}

nlohmann::json to_json(const StoredBundle &s) {
  nlohmann::json j = {
      {"file", s.file},         {"name", s.name},
      {"version", s.version},   {"manifest_sha256", s.manifest_sha256},
      {"size", s.size},         {"current", s.current},
      {"previous", s.previous}, {"verified", s.verified}};
  if (s.verified) {
    j["signer"] = s.signer;
    j["entries"] = s.entries;
    j["created"] = s.created;
    j["expires"] = s.expires;
  }
  if (!s.verify_error.empty())
    j["verify_error"] = s.verify_error;
  return j;
}

std::string short_sha(const std::string &s) {
  return s.substr(0, 16);
}

void do_install(Cli &cli, const StoreArgs &a) {
  auto keys = trusted_keys(a);
  if (!keys)
    return fail(cli, keys.error());
  auto store = Store::open(store_dir(a), true);
  if (!store)
    return fail(cli, store.error());
  InstallOptions opts;
  opts.allow_downgrade = a.allow_downgrade;
  opts.allow_expired = a.allow_expired;
  auto res = store->install(a.bundle, keys.value(), opts);
  if (!res)
    return fail(cli, res.error());
  const auto &r = res.value();
  if (cli.json) {
    nlohmann::json j = {{"store", store->dir().string()},
                        {"installed", to_json(r.installed)},
                        {"unchanged", r.unchanged}};
    j["replaced"] = r.replaced ? to_json(*r.replaced) : nlohmann::json();
    return print_json(cli, j);
  }
  if (r.unchanged) {
    std::printf("%s version %llu (%s) is already current in %s\n",
                r.installed.name.c_str(),
                static_cast<unsigned long long>(r.installed.version),
                short_sha(r.installed.manifest_sha256).c_str(),
                store->dir().c_str());
    return;
  }
  std::printf("installed %s version %llu (%s, %zu kernels, signed by %s) "
              "as current in %s\n",
              r.installed.name.c_str(),
              static_cast<unsigned long long>(r.installed.version),
              short_sha(r.installed.manifest_sha256).c_str(),
              r.installed.entries, r.installed.signer.c_str(),
              store->dir().c_str());
  if (r.replaced)
    std::printf("previous: %s version %llu (btfpack rollback returns to it)\n",
                r.replaced->name.c_str(),
                static_cast<unsigned long long>(r.replaced->version));
}

void do_list(Cli &cli, const StoreArgs &a) {
  auto store = Store::open(store_dir(a), false);
  if (!store)
    return fail(cli, store.error());
  // Listing works without keys (then nothing is verified).
  std::vector<PublicKey> keys;
  auto k = trusted_keys(a);
  if (k)
    keys = std::move(k.value());
  else if (!a.keys.empty() || k.error().code != Errc::not_found)
    return fail(cli, k.error());
  auto list = store->list(keys);
  if (!list)
    return fail(cli, list.error());
  if (cli.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto &s : list.value())
      arr.push_back(to_json(s));
    return print_json(cli, {{"store", store->dir().string()},
                            {"keys_checked", !keys.empty()},
                            {"bundles", arr}});
  }
  if (list->empty()) {
    std::printf("no bundle installed in %s\n", store->dir().c_str());
    return;
  }
  for (const auto &s : list.value()) {
    const char *role = s.current    ? "current "
                       : s.previous ? "previous"
                                    : "-       ";
    std::string state = keys.empty() ? "not verified (no trusted key)"
                        : s.verified ? "verified, signer " + s.signer
                                     : "FAILED: " + s.verify_error;
    std::printf("%s %s version %llu %s %llu bytes: %s\n", role, s.name.c_str(),
                static_cast<unsigned long long>(s.version),
                short_sha(s.manifest_sha256).c_str(),
                static_cast<unsigned long long>(s.size), state.c_str());
  }
}

void do_rollback(Cli &cli, const StoreArgs &a) {
  auto keys = trusted_keys(a);
  if (!keys)
    return fail(cli, keys.error());
  auto store = Store::open(store_dir(a), false);
  if (!store)
    return fail(cli, store.error());
  auto res = store->rollback(keys.value());
  if (!res)
    return fail(cli, res.error());
  if (cli.json)
    return print_json(cli, {{"store", store->dir().string()},
                            {"current", to_json(res.value())}});
  std::printf("rolled back: %s version %llu (%s) is current in %s\n",
              res->name.c_str(), static_cast<unsigned long long>(res->version),
              short_sha(res->manifest_sha256).c_str(), store->dir().c_str());
}

} // namespace

void add_install_command(CLI::App &app, Cli &cli) {
  auto a = std::make_shared<StoreArgs>();
  auto *sub = app.add_subcommand(
      "install", "verify a bundle and install it atomically into the store "
                 "(the replaced bundle is kept for rollback)");
  sub->add_option("BUNDLE", a->bundle, "signed bundle file")->required();
  add_common(sub, *a);
  sub->add_flag("--allow-downgrade", a->allow_downgrade,
                "accept a bundle version lower than (or equal to, with "
                "different content) the current one");
  sub->add_flag("--allow-expired", a->allow_expired,
                "accept a bundle past its expiry time");
  sub->callback([&cli, a] { do_install(cli, *a); });
}

void add_list_command(CLI::App &app, Cli &cli) {
  auto a = std::make_shared<StoreArgs>();
  auto *sub = app.add_subcommand(
      "list", "show the installed bundles (verified when trusted keys exist)");
  add_common(sub, *a);
  sub->callback([&cli, a] { do_list(cli, *a); });
}

void add_rollback_command(CLI::App &app, Cli &cli) {
  auto a = std::make_shared<StoreArgs>();
  auto *sub = app.add_subcommand(
      "rollback", "make the previous bundle current again (verified first)");
  add_common(sub, *a);
  sub->callback([&cli, a] { do_rollback(cli, *a); });
}

} // namespace btfpack::cli
