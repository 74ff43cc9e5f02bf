// SPDX-License-Identifier: Apache-2.0
//
// btfpack verify BUNDLE --key PUB [--key PUB2 ...] [--allow-expired]:
// checks the signature against the trusted keys, then every blob against
// the signed manifest, and reports which key signed it.
#include <ctime>
#include <iostream>
#include <memory>

#include "btfpack/bundle.h"
#include "btfpack/paths.h"
#include "btfpack/runtime.h"
#include "btfpack/store.h"
#include "cli.h"
#include "trusted_keys.h"

namespace btfpack::cli {

namespace {
struct VerifyOpts {
  std::string bundle;
  std::vector<std::string> keys;
  bool allow_expired = false;
};
} // namespace

void add_verify_command(CLI::App &app, Cli &cli) {
  auto o = std::make_shared<VerifyOpts>();
  auto *sub = app.add_subcommand(
      "verify", "check a bundle's signature and every blob it holds");
  sub->add_option("BUNDLE", o->bundle, "bundle file")->required();
  sub->add_option("--key", o->keys,
                  "trusted public key file or directory of *.pub (repeat "
                  "for several; default: every *.pub in $BTFPACK_KEYS_DIR or "
                  "/etc/btfpack/keys, as install and list)");
  sub->add_flag("--allow-expired", o->allow_expired,
                "accept a bundle past its expiry time");
  sub->callback([&cli, o] {
    auto policy = trust_policy(o->keys);
    if (!policy)
      return fail(cli, policy.error());
    OpenOptions opts;
    opts.allow_expired = o->allow_expired;
    auto b = Bundle::open(o->bundle, policy->all(), opts);
    if (!b) {
      // A signature that fails over a damaged file: say what is damaged
      // (as inspect does) rather than only "modified".
      if (b.error().code == Errc::bad_signature) {
        auto u = Bundle::open_unverified(o->bundle, opts);
        if (!u && u.error().code == Errc::corrupt)
          return fail(cli, make_error(Errc::corrupt,
                                      u.error().message +
                                          "; the signature does not cover "
                                          "this file (" +
                                          b.error().message + ")"));
      }
      return fail(cli, b.error());
    }
    if (auto t = policy->check_signer(b->meta().name, b->signer()); !t)
      return fail(cli, t.error());
    if (auto r = b->verify_blobs(); !r)
      return fail(cli, r.error());
    auto st = b->stats();
    const auto &m = b->meta();
    std::string id = key_id_hex(b->signer());
    bool expired = m.expires != 0 && std::time(nullptr) >= m.expires;
    if (cli.json)
      return print_json(cli, {{"bundle", o->bundle},
                              {"verified", true},
                              {"signer", id},
                              {"name", m.name},
                              {"version", m.version},
                              {"expired", expired},
                              {"kernels", st.entry_count},
                              {"blobs", st.blob_count},
                              {"manifest_sha256", b->manifest_sha256()}});
    std::cout << o->bundle << ": OK, signed by key " << id << "\n"
              << "bundle " << m.name << " version " << m.version << ", "
              << st.entry_count << " kernels, " << st.blob_count
              << " blobs, every blob matches the signed manifest"
              << (expired ? " (EXPIRED, allowed)" : "") << "\n";
  });
}

} // namespace btfpack::cli
