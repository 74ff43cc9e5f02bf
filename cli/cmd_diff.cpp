// SPDX-License-Identifier: Apache-2.0
//
// btfpack diff OLD NEW [--json] [--key PUB ...]: the kernels added, removed
// and changed (by blob digest) between two bundles. As inspect: with --key
// both bundles are verified, without it they are read UNVERIFIED. Exit
// status as diff(1): 0 no kernel differs, 1 some do, 2 trouble (a bundle
// that does not open, a usage error).
#include <iostream>
#include <memory>
#include <tuple>

#include "btfpack/supplement.h"
#include "cli.h"
#include "trusted_keys.h"

namespace btfpack::cli {

namespace {

constexpr int EXIT_DIFFERENT = 1;
constexpr int EXIT_TROUBLE = 2;

struct DiffOpts {
  std::string old_path, new_path;
  std::vector<std::string> keys;
};

std::string kernel_text(const KernelKey &k) {
  return k.distro + "/" + k.version + "/" + k.arch + "/" + k.release;
}

nlohmann::json kernel_json(const KernelKey &k) {
  return {{"distro", k.distro},
          {"version", k.version},
          {"arch", k.arch},
          {"release", k.release}};
}

nlohmann::json bundle_json(const std::string &path, const Bundle &b) {
  return {{"path", path},
          {"name", b.meta().name},
          {"version", b.meta().version},
          {"kernels", b.entry_count()},
          {"verified", b.verified()},
          {"signer", key_id_hex(b.signer())},
          {"manifest_sha256", b.manifest_sha256()},
          {"supplement", b.meta().supplement_of.has_value()}};
}

nlohmann::json diff_json(const DiffOpts &o, const Bundle &a, const Bundle &b,
                         const BundleDiff &d, bool same_objects) {
  nlohmann::json added = nlohmann::json::array(),
                 removed = nlohmann::json::array(),
                 changed = nlohmann::json::array();
  for (const auto &e : d.added)
    added.push_back(
        {{"kernel", kernel_json(e.kernel)}, {"sha256", to_hex(e.blob)}});
  for (const auto &e : d.removed)
    removed.push_back(
        {{"kernel", kernel_json(e.kernel)}, {"sha256", to_hex(e.blob)}});
  for (const auto &c : d.changed)
    changed.push_back({{"kernel", kernel_json(c.kernel)},
                       {"old_sha256", to_hex(c.old_blob)},
                       {"new_sha256", to_hex(c.new_blob)}});
  return {{"old", bundle_json(o.old_path, a)},
          {"new", bundle_json(o.new_path, b)},
          {"same_objects", same_objects},
          {"identical", d.empty()},
          {"added", added},
          {"removed", removed},
          {"changed", changed},
          {"unchanged", d.unchanged}};
}

void print_diff(const DiffOpts &o, const Bundle &a, const Bundle &b,
                const BundleDiff &d, bool same_objects) {
  auto &out = std::cout;
  bool verified = a.verified() && b.verified();
  if (!verified)
    out << "UNVERIFIED: signatures not checked (pass --key PUB to verify)\n";
  for (const auto &[tag, path, x] :
       {std::tuple{"old", &o.old_path, &a}, std::tuple{"new", &o.new_path, &b}})
    out << tag << ": " << *path << " (\"" << x->meta().name << "\" version "
        << x->meta().version << ", " << x->entry_count() << " kernels"
        << (x->meta().supplement_of ? ", supplement" : "") << ")\n";
  if (!same_objects)
    out << "objects differ: every kernel's BTF may differ\n";
  for (const auto &e : d.added)
    out << "+ " << kernel_text(e.kernel) << " " << to_hex(e.blob) << "\n";
  for (const auto &e : d.removed)
    out << "- " << kernel_text(e.kernel) << " " << to_hex(e.blob) << "\n";
  for (const auto &c : d.changed)
    out << "~ " << kernel_text(c.kernel) << " " << to_hex(c.old_blob) << " -> "
        << to_hex(c.new_blob) << "\n";
  out << d.added.size() << " added, " << d.removed.size() << " removed, "
      << d.changed.size() << " changed, " << d.unchanged << " unchanged\n";
}

Result<Bundle> open_for_diff(const std::string &path,
                             const std::vector<PublicKey> &keys) {
  OpenOptions opts;
  opts.allow_expired = true; // diff compares content, not validity
  return keys.empty() ? Bundle::open_unverified(path, opts)
                      : Bundle::open(path, keys, opts);
}

} // namespace

void add_diff_command(CLI::App &app, Cli &cli) {
  auto o = std::make_shared<DiffOpts>();
  auto *sub = app.add_subcommand(
      "diff", "list the kernels added, removed and changed between two "
              "bundles (exit 0 same, 1 different, 2 trouble)");
  sub->add_option("OLD", o->old_path, "older bundle")->required();
  sub->add_option("NEW", o->new_path, "newer bundle")->required();
  sub->add_option("--key", o->keys,
                  "trusted public key (file or directory) both bundles must "
                  "verify with; without it they are read UNVERIFIED");
  sub->callback([&cli, o] {
    auto trouble = [&cli](const Error &e) {
      fail(cli, e);
      cli.exit_code = EXIT_TROUBLE;
    };
    std::vector<PublicKey> keys;
    if (!o->keys.empty()) {
      auto policy = trust_policy(o->keys);
      if (!policy)
        return trouble(policy.error());
      keys = policy->all();
    }
    auto a = open_for_diff(o->old_path, keys);
    if (!a)
      return trouble(a.error());
    auto b = open_for_diff(o->new_path, keys);
    if (!b)
      return trouble(b.error());
    auto d = diff_entries(a->entries(), b->entries());
    bool same =
        check_same_objects(a->meta(), o->old_path, b->meta(), o->new_path).ok();
    if (cli.json)
      print_json(cli, diff_json(*o, *a, *b, d, same));
    else
      print_diff(*o, *a, *b, d, same);
    if (!d.empty())
      cli.exit_code = EXIT_DIFFERENT;
  });
}

} // namespace btfpack::cli
