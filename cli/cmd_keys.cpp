// SPDX-License-Identifier: Apache-2.0
//
// btfpack keygen --out PREFIX [--force]: a new Ed25519 key pair in minisign's
// formats (PREFIX: unencrypted secret key, mode 0600; PREFIX.pub).
// btfpack sign BUNDLE --key SECRET_KEY: (re)sign a bundle in place,
// atomically.
#include <filesystem>
#include <iostream>
#include <memory>

#include "btfpack/bundle.h"
#include "btfpack/keys.h"
#include "cli.h"

namespace btfpack::cli {

namespace {
struct KeygenOpts {
  std::string out;
  bool force = false;
};
struct SignOpts {
  std::string bundle, key;
};
} // namespace

void add_keygen_command(CLI::App &app, Cli &cli) {
  auto o = std::make_shared<KeygenOpts>();
  auto *sub = app.add_subcommand(
      "keygen", "make an Ed25519 signing key pair (minisign format)");
  sub->add_option("--out", o->out,
                  "PREFIX: writes PREFIX (secret key, 0600) and PREFIX.pub")
      ->required();
  sub->add_flag("--force", o->force, "replace existing key files");
  sub->callback([&cli, o] {
    std::filesystem::path prefix = o->out;
    std::filesystem::path pub = o->out + ".pub";
    std::error_code ec;
    if (!o->force && (std::filesystem::exists(prefix, ec) ||
                      std::filesystem::exists(pub, ec)))
      return fail(cli, make_error(Errc::invalid_argument,
                                  "keygen: " + prefix.string() + " or " +
                                      pub.string() +
                                      " already exists; pass --force to "
                                      "replace it"));
    auto key = SecretKey::generate();
    if (!key)
      return fail(cli, key.error());
    if (auto r = write_key_pair(*key, prefix); !r)
      return fail(cli, r.error());
    std::string id = key_id_hex(key->id());
    if (cli.json)
      return print_json(cli, {{"secret_key", prefix.string()},
                              {"public_key", pub.string()},
                              {"key_id", id}});
    std::cout << "wrote secret key " << prefix.string()
              << " (mode 0600, unencrypted) and public key " << pub.string()
              << "\nkey id " << id << "\n";
  });
}

void add_sign_command(CLI::App &app, Cli &cli) {
  auto o = std::make_shared<SignOpts>();
  auto *sub = app.add_subcommand(
      "sign", "(re)sign a bundle in place with a minisign secret key");
  sub->add_option("BUNDLE", o->bundle, "bundle file")->required();
  sub->add_option("--key", o->key,
                  "secret key file (btfpack keygen, or "
                  "minisign -G -W)")
      ->required();
  sub->callback([&cli, o] {
    auto key = SecretKey::read_file(o->key);
    if (!key)
      return fail(cli, key.error());
    if (auto r = resign_bundle(o->bundle, *key); !r)
      return fail(cli, r.error());
    std::string id = key_id_hex(key->id());
    if (cli.json)
      return print_json(cli, {{"bundle", o->bundle}, {"key_id", id}});
    std::cout << "signed " << o->bundle << " with key " << id << "\n";
  });
}

} // namespace btfpack::cli
