// SPDX-License-Identifier: Apache-2.0
//
// btfpack install BUNDLE [--name NAME] [--key PUB ...] [--store DIR]
//                         [--allow-downgrade]
// btfpack list [--store DIR] [--key PUB ...]
// btfpack rollback [NAME] [--store DIR] [--key PUB ...]
// btfpack remove NAME [--store DIR]
//
// The host's bundle store of named bundles (runtime/include/btfpack/
// store.h). Keys default to the trust policy of the trusted keys directory
// (trust.h), the store to /var/lib/btfpack (paths.h; BTFPACK_KEYS_DIR and
// BTFPACK_STORE move them).
#include <cstdio>
#include <memory>
#include <optional>

#include "btfpack/keys.h"
#include "btfpack/paths.h"
#include "btfpack/store.h"
#include "cli.h"
#include "trusted_keys.h"

namespace btfpack::cli {

namespace {

struct StoreArgs {
  std::string bundle;
  std::string name;
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
  auto keys = trust_policy(a.keys);
  if (!keys)
    return fail(cli, keys.error());
  auto store = Store::open(store_dir(a), true);
  if (!store)
    return fail(cli, store.error());
  InstallOptions opts;
  opts.allow_downgrade = a.allow_downgrade;
  opts.allow_expired = a.allow_expired;
  opts.name = a.name;
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

nlohmann::json names_json(const std::vector<NameState> &names,
                          const std::vector<StoredBundle> &list) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto &n : names) {
    nlohmann::json j = {{"name", n.name},
                        {"installed", n.installed()},
                        {"highest_version", n.highest}};
    for (const auto &[key, file] :
         {std::pair("current", n.current), std::pair("previous", n.previous)}) {
      j[key] = nullptr;
      for (const auto &s : list)
        if (file && s.file == *file)
          j[key] = to_json(s);
    }
    arr.push_back(j);
  }
  return arr;
}

void print_list(const std::vector<NameState> &names,
                const std::vector<StoredBundle> &list, bool checked) {
  for (const auto &s : list) {
    const char *role = s.current    ? "current "
                       : s.previous ? "previous"
                                    : "-       ";
    std::string state = !checked     ? "not verified (no trusted key)"
                        : s.verified ? "verified, signer " + s.signer
                                     : "FAILED: " + s.verify_error;
    std::printf("%s %s version %llu %s %llu bytes: %s\n", role, s.name.c_str(),
                static_cast<unsigned long long>(s.version),
                short_sha(s.manifest_sha256).c_str(),
                static_cast<unsigned long long>(s.size), state.c_str());
  }
  for (const auto &n : names)
    if (!n.installed())
      std::printf("removed  %s (highest version %llu kept: older bundles of "
                  "it stay refused)\n",
                  n.name.c_str(), static_cast<unsigned long long>(n.highest));
}

void do_list(Cli &cli, const StoreArgs &a) {
  auto store = Store::open(store_dir(a), false);
  if (!store)
    return fail(cli, store.error());
  // Listing works without keys (then nothing is verified).
  std::optional<TrustPolicy> policy;
  if (auto k = trust_policy(a.keys); k)
    policy = std::move(k.value());
  else if (!a.keys.empty() || k.error().code != Errc::not_found)
    return fail(cli, k.error());
  auto list = store->list(policy ? &*policy : nullptr);
  if (!list)
    return fail(cli, list.error());
  auto names = store->names();
  if (!names)
    return fail(cli, names.error());
  if (cli.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto &s : list.value())
      arr.push_back(to_json(s));
    return print_json(cli, {{"store", store->dir().string()},
                            {"keys_checked", policy.has_value()},
                            {"names", names_json(*names, *list)},
                            {"bundles", arr}});
  }
  if (list->empty() && names->empty()) {
    std::printf("no bundle installed in %s\n", store->dir().c_str());
    return;
  }
  print_list(*names, *list, policy.has_value());
}

void do_rollback(Cli &cli, const StoreArgs &a) {
  auto keys = trust_policy(a.keys);
  if (!keys)
    return fail(cli, keys.error());
  auto store = Store::open(store_dir(a), false);
  if (!store)
    return fail(cli, store.error());
  auto res = store->rollback(a.name, keys.value());
  if (!res)
    return fail(cli, res.error());
  if (cli.json)
    return print_json(cli, {{"store", store->dir().string()},
                            {"current", to_json(res.value())}});
  std::printf("rolled back: %s version %llu (%s) is current in %s\n",
              res->name.c_str(), static_cast<unsigned long long>(res->version),
              short_sha(res->manifest_sha256).c_str(), store->dir().c_str());
}

void do_remove(Cli &cli, const StoreArgs &a) {
  auto store = Store::open(store_dir(a), false);
  if (!store)
    return fail(cli, store.error());
  auto res = store->remove(a.name);
  if (!res)
    return fail(cli, res.error());
  if (cli.json)
    return print_json(cli, {{"store", store->dir().string()},
                            {"removed", to_json(res.value())}});
  std::printf("removed %s (version %llu was current) from %s; its highest "
              "version stays recorded: older bundles of it stay refused\n",
              res->name.c_str(), static_cast<unsigned long long>(res->version),
              store->dir().c_str());
}

} // namespace

void add_install_command(CLI::App &app, Cli &cli) {
  auto a = std::make_shared<StoreArgs>();
  auto *sub = app.add_subcommand(
      "install", "verify a bundle and install it atomically into the store "
                 "(the replaced bundle is kept for rollback)");
  sub->add_option("BUNDLE", a->bundle, "signed bundle file")->required();
  sub->add_option("--name", a->name,
                  "store name for a bundle whose manifest has none (a "
                  "manifest's own name always wins; they must agree)");
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
      "list", "show every name of the store and its bundles (verified when "
              "trusted keys exist)");
  add_common(sub, *a);
  sub->callback([&cli, a] { do_list(cli, *a); });
}

void add_rollback_command(CLI::App &app, Cli &cli) {
  auto a = std::make_shared<StoreArgs>();
  auto *sub = app.add_subcommand(
      "rollback",
      "make a name's previous bundle current again (verified first)");
  sub->add_option("NAME", a->name,
                  "bundle name (default: the only one installed)");
  add_common(sub, *a);
  sub->callback([&cli, a] { do_rollback(cli, *a); });
}

void add_remove_command(CLI::App &app, Cli &cli) {
  auto a = std::make_shared<StoreArgs>();
  auto *sub = app.add_subcommand(
      "remove", "remove a name's bundles from the store (its highest version "
                "stays recorded: no reinstall of an older one)");
  sub->add_option("NAME", a->name, "bundle name (btfpack list)")->required();
  sub->add_option("--store", a->store,
                  "bundle store directory (default: $BTFPACK_STORE or "
                  "/var/lib/btfpack)");
  sub->callback([&cli, a] { do_remove(cli, *a); });
}

} // namespace btfpack::cli
