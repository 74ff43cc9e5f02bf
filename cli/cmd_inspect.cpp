// SPDX-License-Identifier: Apache-2.0
//
// btfpack inspect BUNDLE [--json] [--key PUB ...] [--entries]: a summary of
// the manifest: kernels per distro/version/arch, blobs and dedup, sizes,
// objects, validity window, signer. Without --key the signature is not
// checked and everything shown is marked UNVERIFIED.
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "btfpack/bundle.h"
#include "btfpack/time_util.h"
#include "cli.h"
#include "trusted_keys.h"

namespace btfpack::cli {

namespace {

struct InspectOpts {
  std::string bundle;
  std::vector<std::string> keys;
  bool entries = false;
};

std::string iso(std::int64_t t) {
  return t == 0 ? "-" : iso8601_utc(t);
}

std::string ratio(std::uint64_t a, std::uint64_t b) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2)
    << (b ? static_cast<double>(a) / static_cast<double>(b) : 0.0);
  return s.str();
}

// serving_* show which of the bundle's objects a kernel of `arch` was
// minimized with (object_serves: its arch's objects and the arch-neutral
// ones), so a two-arch bundle says which build served which kernels.
nlohmann::json serving_json(const BundleMeta &m, const std::string &arch) {
  auto a = nlohmann::json::array();
  for (const auto &ob : m.objects)
    if (object_serves(ob, arch))
      a.push_back({{"name", ob.name},
                   {"arch", ob.arch},
                   {"sha256", to_hex(ob.digest)}});
  return a;
}

std::string serving_text(const BundleMeta &m, const std::string &arch) {
  std::string s;
  for (const auto &ob : m.objects)
    if (object_serves(ob, arch))
      s += (s.empty() ? "" : ", ") + ob.name + " " +
           (ob.arch.empty() ? "-" : ob.arch) + " " +
           to_hex(ob.digest).substr(0, 12);
  if (m.objects.empty())
    return {};
  return s.empty() ? " (no recorded object serves this arch)"
                   : " (objects: " + s + ")";
}

} // namespace

void add_inspect_command(CLI::App &app, Cli &cli) {
  auto o = std::make_shared<InspectOpts>();
  auto *sub = app.add_subcommand("inspect", "summarise a bundle's manifest");
  sub->add_option("BUNDLE", o->bundle, "bundle file")->required();
  sub->add_option("--key", o->keys,
                  "trusted public key (file or directory); without it the "
                  "signature is not checked and the output is UNVERIFIED");
  sub->add_flag("--entries", o->entries, "list every kernel entry");
  sub->callback([&cli, o] {
    OpenOptions opts;
    opts.allow_expired = true; // inspect shows the window instead
    Result<Bundle> b = make_error(Errc::internal, "unreachable");
    if (o->keys.empty()) {
      b = Bundle::open_unverified(o->bundle, opts);
    } else {
      auto policy = trust_policy(o->keys);
      if (!policy)
        return fail(cli, policy.error());
      b = Bundle::open(o->bundle, policy->all(), opts);
      if (b)
        if (auto t = policy->check_signer(b->meta().name, b->signer()); !t)
          return fail(cli, t.error());
    }
    if (!b)
      return fail(cli, b.error());
    const auto &m = b->meta();
    auto st = b->stats();
    std::map<std::tuple<std::string, std::string, std::string>, std::size_t>
        groups;
    for (const auto &e : b->entries())
      groups[{e.kernel.distro, e.kernel.version, e.kernel.arch}]++;
    std::time_t now = std::time(nullptr);
    bool expired = m.expires != 0 && now >= m.expires;
    std::string signer = key_id_hex(b->signer());
    std::string format =
        std::to_string(st.format_major) + "." + std::to_string(st.format_minor);

    if (cli.json) {
      nlohmann::json j;
      j["bundle"] = o->bundle;
      j["verified"] = b->verified();
      j["signer"] = signer;
      j["format"] = format;
      j["name"] = m.name;
      j["version"] = m.version;
      j["created"] = m.created;
      j["expires"] = m.expires;
      j["expired"] = expired;
      j["btfpack_version"] = m.btfpack_version;
      j["bpftool_version"] = m.bpftool_version;
      j["archive_snapshot"] = m.archive_snapshot;
      j["manifest_sha256"] = b->manifest_sha256();
      j["supplement_of"] = nullptr;
      if (const auto &so = m.supplement_of)
        j["supplement_of"] = {{"name", so->name},
                              {"version", so->version},
                              {"manifest_sha256", to_hex(so->base_manifest)}};
      j["objects"] = nlohmann::json::array();
      for (const auto &ob : m.objects)
        j["objects"].push_back({{"name", ob.name},
                                {"arch", ob.arch},
                                {"sha256", to_hex(ob.digest)}});
      j["kernels"] = st.entry_count;
      j["groups"] = nlohmann::json::array();
      for (const auto &[g, n] : groups)
        j["groups"].push_back({{"distro", std::get<0>(g)},
                               {"version", std::get<1>(g)},
                               {"arch", std::get<2>(g)},
                               {"kernels", n},
                               {"objects", serving_json(m, std::get<2>(g))}});
      j["blobs"] = st.blob_count;
      j["dedup_ratio"] = st.blob_count ? static_cast<double>(st.entry_count) /
                                             static_cast<double>(st.blob_count)
                                       : 0.0;
      j["max_chain_depth"] = st.max_chain_depth;
      j["sizes"] = {{"file", st.file_size},
                    {"manifest", st.manifest_bytes},
                    {"manifest_raw", st.manifest_raw_bytes},
                    {"blobs_stored", st.compressed_blob_bytes},
                    {"blobs_raw", st.raw_blob_bytes},
                    {"entries_raw", st.raw_entry_bytes}};
      if (o->entries) {
        j["entries"] = nlohmann::json::array();
        for (const auto &e : b->entries())
          j["entries"].push_back({{"distro", e.kernel.distro},
                                  {"version", e.kernel.version},
                                  {"arch", e.kernel.arch},
                                  {"release", e.kernel.release},
                                  {"sha256", to_hex(e.blob)},
                                  {"objects", serving_json(m, e.kernel.arch)}});
      }
      return print_json(cli, j);
    }

    auto &out = std::cout;
    const char *mark = b->verified() ? "" : " [UNVERIFIED]";
    if (!b->verified())
      out << "UNVERIFIED: signature not checked (pass --key PUB to verify); "
             "nothing below is trustworthy\n";
    out << "bundle:     " << o->bundle << " (format " << format << ")\n"
        << "name:       " << m.name << " version " << m.version << mark << "\n"
        << "signer:     key " << signer
        << (b->verified() ? " (verified)" : " (claimed, not verified)") << "\n"
        << "created:    " << (m.created ? iso(m.created) : "not recorded")
        << "\n"
        << "expires:    " << (m.expires ? iso(m.expires) : "never")
        << (expired ? " (EXPIRED)" : "") << "\n"
        << "made by:    btfpack " << m.btfpack_version << ", bpftool "
        << m.bpftool_version << "\n"
        << "snapshot:   " << m.archive_snapshot << "\n"
        << "manifest:   sha256 " << b->manifest_sha256() << "\n";
    if (const auto &so = m.supplement_of)
      out << "supplement: of \"" << so->name << "\" version " << so->version
          << " (base manifest sha256 " << to_hex(so->base_manifest) << ")\n";
    out << "objects:    " << m.objects.size() << "\n";
    for (const auto &ob : m.objects)
      out << "  " << ob.name << " " << (ob.arch.empty() ? "-" : ob.arch)
          << " sha256 " << to_hex(ob.digest) << "\n";
    out << "kernels:    " << st.entry_count << " in " << groups.size()
        << " distro/version/arch groups\n";
    for (const auto &[g, n] : groups)
      out << "  " << std::get<0>(g) << "/" << std::get<1>(g) << "/"
          << std::get<2>(g) << ": " << n << serving_text(m, std::get<2>(g))
          << "\n";
    out << "blobs:      " << st.blob_count << " unique (dedup ratio "
        << ratio(st.entry_count, st.blob_count) << ", longest delta chain "
        << st.max_chain_depth << ")\n"
        << "sizes:      file " << st.file_size << " B, manifest "
        << st.manifest_bytes << " B (" << st.manifest_raw_bytes
        << " B raw), blobs " << st.compressed_blob_bytes << " B stored / "
        << st.raw_blob_bytes << " B raw / " << st.raw_entry_bytes
        << " B before dedup\n";
    if (o->entries)
      for (const auto &e : b->entries())
        out << "  " << e.kernel.distro << "/" << e.kernel.version << "/"
            << e.kernel.arch << "/" << e.kernel.release << " " << to_hex(e.blob)
            << "\n";
  });
}

} // namespace btfpack::cli
