// SPDX-License-Identifier: Apache-2.0
//
// `btfpack resolve` and `btfpack explain`: pick this host's BTF from a
// signed bundle (docs/matching.md). resolve prints the path to hand to
// libbpf (a root-owned cache file, since this process exits) or "native" as
// its last line; explain shows on one screen which BTF was chosen and why.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <sstream>
#include <sys/stat.h>

#include "btfpack/paths.h"
#include "btfpack/runtime.h"
#include "btfpack/text_util.h"
#include "btfpack/time_util.h"
#include "cli.h"

namespace btfpack::cli {

namespace {

struct ResolveArgs {
  std::string bundle, name, store;
  std::vector<std::string> supplements;
  std::vector<std::string> keys;
  bool prefer_bundle = false, allow_nearest = false, nearest_unsafe = false;
  std::string host_root, kernel_release, arch, os_release;
  std::string os_id, os_version_id, os_id_like, native_btf;
  std::vector<std::string> objects;
  std::string cache_dir;
  bool allow_expired = false;
};

void add_options(CLI::App *sub, ResolveArgs &a) {
  sub->add_option("--bundle", a.bundle,
                  "bundle file (default: the store's bundle made for the "
                  "caller: --name, else the one made for --object, else the "
                  "only one installed)");
  sub->add_option("--name", a.name,
                  "the installed bundle of this name (the agent's; btfpack "
                  "list shows them)");
  sub->add_option("--store", a.store,
                  "bundle store directory (default: $BTFPACK_STORE or "
                  "/var/lib/btfpack)");
  sub->add_option("--supplement", a.supplements,
                  "supplement bundle of the bundle used (repeatable): "
                  "kernels published after it; checked against it and the "
                  "trust policy");
  sub->add_option("--key", a.keys,
                  "trusted public key (minisign) or trust policy directory; "
                  "repeatable (default: the policy of $BTFPACK_KEYS_DIR or "
                  "/etc/btfpack/keys)");
  sub->add_flag("--prefer-bundle", a.prefer_bundle,
                "use the bundle even when the kernel has its own BTF");
  sub->add_flag("--allow-nearest", a.allow_nearest,
                "a missing release may use its neighbours' BTF when both "
                "neighbours minimized to the same BTF");
  sub->add_flag("--allow-nearest-unsafe", a.nearest_unsafe,
                "UNSAFE: take the nearest release's BTF even when its "
                "neighbours differ");
  sub->add_option("--host-root", a.host_root,
                  "host filesystem mounted here (agents in containers): "
                  "os-release, /sys and /proc are read under it; the store, "
                  "the keys and the cache are not (give --bundle, --key, "
                  "--cache-dir or BTFPACK_STORE, BTFPACK_KEYS_DIR, "
                  "BTFPACK_CACHE_DIR)");
  sub->add_option("--kernel-release", a.kernel_release,
                  "simulate a host with this uname -r (native BTF is then "
                  "unknown unless --native-btf says)");
  sub->add_option("--arch", a.arch, "override uname -m");
  sub->add_option("--os-release", a.os_release,
                  "read this os-release file instead of the host's");
  sub->add_option("--os-id", a.os_id, "override os-release ID");
  sub->add_option("--os-version-id", a.os_version_id,
                  "override os-release VERSION_ID");
  sub->add_option("--os-id-like", a.os_id_like, "override os-release ID_LIKE");
  sub->add_option("--native-btf", a.native_btf,
                  "yes or no: whether the (simulated) kernel has its own BTF")
      ->check(CLI::IsMember({"yes", "no"}));
  sub->add_option("--object", a.objects,
                  "BPF object about to be loaded; refuse a bundle made for "
                  "other objects (repeatable)");
  sub->add_option("--cache-dir", a.cache_dir,
                  "root-owned cache directory for the BTF file (default "
                  "$BTFPACK_CACHE_DIR or /var/cache/btfpack; a simulated "
                  "host: a new $TMPDIR/btfpack-simulated-XXXXXX)");
  sub->add_flag("--allow-expired", a.allow_expired,
                "accept a bundle past its expiry time");
}

// simulated: the facts describe another host (docs: "Simulated hosts").
bool simulated(const ResolveArgs &a) {
  return !a.kernel_release.empty() || !a.arch.empty() ||
         !a.os_release.empty() || !a.os_id.empty() ||
         !a.os_version_id.empty() || !a.os_id_like.empty();
}

// simulated_cache_dir is where a simulated resolve writes its BTF: a fresh
// private directory under $TMPDIR, never the system cache, whose files
// loaders on this machine trust.
Result<std::filesystem::path> simulated_cache_dir() {
  const char *t = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(t && *t ? t : "/tmp") + "/btfpack-simulated-XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    return make_error(Errc::io, "create a directory for the simulated "
                                "host's BTF under " +
                                    std::string(t && *t ? t : "/tmp") + ": " +
                                    std::strerror(errno) +
                                    "; pass --cache-dir DIR");
  ::chmod(tmpl.c_str(), 0755);
  return std::filesystem::path(tmpl);
}

ResolveOptions to_options(const ResolveArgs &a) {
  ResolveOptions o;
  o.bundle = a.bundle;
  o.name = a.name;
  o.store_dir = a.store;
  for (const auto &sp : a.supplements)
    o.supplements.emplace_back(sp);
  for (const auto &k : a.keys)
    o.keys.emplace_back(k);
  o.policy.prefer_bundle = a.prefer_bundle;
  o.policy.allow_nearest = a.allow_nearest;
  o.policy.allow_nearest_unsafe = a.nearest_unsafe;
  o.host.host_root = a.host_root;
  if (!a.kernel_release.empty())
    o.host.kernel_release = a.kernel_release;
  if (!a.arch.empty())
    o.host.machine = a.arch;
  if (!a.os_release.empty())
    o.host.os_release_file = a.os_release;
  if (!a.os_id.empty())
    o.host.os_id = a.os_id;
  if (!a.os_version_id.empty())
    o.host.os_version_id = a.os_version_id;
  if (!a.os_id_like.empty())
    o.host.os_id_like = a.os_id_like;
  if (!a.native_btf.empty())
    o.host.native_btf = a.native_btf == "yes";
  for (const auto &p : a.objects)
    o.objects.emplace_back(p);
  o.handoff = HandOff::cache;
  o.cache_dir = a.cache_dir.empty() ? paths::cache_dir()
                                    : std::filesystem::path(a.cache_dir);
  o.allow_expired = a.allow_expired;
  return o;
}

nlohmann::json fact_json(const Fact &f) {
  return {{"value", f.value}, {"source", f.source}};
}

nlohmann::json key_json(const KernelKey &k) {
  return {{"distro", k.distro},
          {"version", k.version},
          {"arch", k.arch},
          {"release", k.release}};
}

std::string time_str(std::int64_t t) {
  return t == 0 ? "never" : iso8601_utc(t);
}

nlohmann::json explanation_json(const Explanation &x, const ResolveOptions &o) {
  const Resolution &r = x.r;
  const HostFacts &h = r.host;
  nlohmann::json host = {{"kernel_release", fact_json(h.kernel_release)},
                         {"machine", fact_json(h.machine)},
                         {"arch", fact_json(h.arch)},
                         {"os_id", fact_json(h.os_id)},
                         {"os_version_id", fact_json(h.os_version_id)},
                         {"os_id_like", fact_json(h.os_id_like)},
                         {"os_name", fact_json(h.os_name)},
                         {"os_release_file", fact_json(h.os_release_file)},
                         {"native_btf", fact_json(h.native_btf)},
                         {"proc_version", fact_json(h.proc_version)},
                         {"build_id", fact_json(h.build_id)},
                         {"warnings", h.warnings}};
  nlohmann::json bundle = {{"opened", r.bundle.opened},
                           {"path", r.bundle.path.string()}};
  if (r.bundle.opened) {
    const auto &m = r.bundle.meta;
    nlohmann::json objs = nlohmann::json::array();
    for (const auto &ob : m.objects)
      objs.push_back({{"name", ob.name},
                      {"sha256", to_hex(ob.digest)},
                      {"arch", ob.arch}});
    bundle.update(
        {{"signer", r.bundle.signer},
         {"signer_key_file", r.bundle.signer_key_file},
         {"name", m.name},
         {"version", m.version},
         {"created", m.created ? iso8601_utc(m.created) : "not recorded"},
         {"expires", time_str(m.expires)},
         {"entries", r.bundle.entries},
         {"manifest_sha256", r.bundle.manifest_sha256},
         {"supplements", r.bundle.supplements},
         {"objects", objs}});
  }
  nlohmann::json cands = nlohmann::json::array();
  for (const auto &c : r.decision.candidates)
    cands.push_back({{"entry", key_json(c.entry.kernel)},
                     {"blob", to_hex(c.entry.blob)},
                     {"kind", match_kind_name(c.kind)},
                     {"won", c.won},
                     {"source", c.source},
                     {"reason", c.reason}});
  const auto &d = r.decision;
  nlohmann::json decision = {{"match", match_kind_name(d.kind)},
                             {"summary", d.summary},
                             {"warnings", d.warnings},
                             {"os_release_overruled", d.os_release_overruled},
                             {"unsafe", d.unsafe},
                             {"entries_scanned", d.entries_scanned}};
  if (!d.normalized_version.empty())
    decision["normalized_version"] = d.normalized_version;
  if (!d.distance.empty())
    decision["distance"] = d.distance;
  if (d.chosen) {
    decision["entry"] = key_json(d.chosen->kernel);
    decision["digest"] = to_hex(d.chosen->blob);
    if (!r.source.empty())
      decision["source"] = r.source;
  }
  nlohmann::json considered = nlohmann::json::array();
  for (const auto &c : r.considered) {
    nlohmann::json j = {{"name", c.name},
                        {"path", c.path.string()},
                        {"won", c.won},
                        {"why", c.why}};
    if (!c.manifest_sha256.empty())
      j.update({{"version", c.version},
                {"created", c.created},
                {"manifest_sha256", c.manifest_sha256},
                {"host_kernel", c.host_kernel}});
    considered.push_back(j);
  }
  nlohmann::json doc = {
      {"host", host},         {"bundles_considered", considered},
      {"bundle", bundle},     {"candidates", cands},
      {"decision", decision}, {"notes", r.notes}};
  if (r.native) {
    doc["handed_over"] = "native";
  } else if (d.chosen) {
    doc["handed_over"] = {
        {"resolve", (o.cache_dir / (to_hex(d.chosen->blob) + ".btf")).string()},
        {"api", "sealed memfd /proc/self/fd/N (C and C++ API)"}};
  }
  if (x.error)
    doc["error"] = {{"message", x.error->message},
                    {"code", errc_name(x.error->code)},
                    {"stage", x.stage}};
  return doc;
}

// print_explain writes the text form; values read from the host (os-release
// of an image) are escaped for the terminal.
void print_explain(const Explanation &x, const ResolveOptions &o) {
  std::ostringstream out;
  const Resolution &r = x.r;
  const HostFacts &h = r.host;
  auto line = [&out](const std::string &k, const Fact &f) {
    out << "  " << k << std::string(k.size() < 16 ? 16 - k.size() : 1, ' ')
        << (f.value.empty() ? "-" : f.value) << "  (" << f.source << ")\n";
  };
  out << "host\n";
  line("kernel release", h.kernel_release);
  line("arch", h.arch);
  line("os id", h.os_id);
  line("os version id", h.os_version_id);
  line("os id_like", h.os_id_like);
  line("os name", h.os_name);
  line("native BTF", h.native_btf);
  line("/proc/version", h.proc_version);
  line("build-id", h.build_id);
  for (const auto &w : h.warnings)
    out << "  note: " << w << "\n";
  if (!r.considered.empty())
    out << "bundles considered\n";
  for (const auto &c : r.considered)
    out << "  " << (c.won ? "WON " : "lost") << " " << c.name << " "
        << c.path.string() << ": " << c.why << "\n";
  out << "bundle\n  path            " << r.bundle.path.string() << "\n";
  if (r.bundle.opened) {
    const auto &m = r.bundle.meta;
    out << "  signer          " << r.bundle.signer << " ("
        << r.bundle.signer_key_file << "), signature ok\n"
        << "  version         " << m.version << " (" << m.name << "), created "
        << (m.created ? iso8601_utc(m.created) : "not recorded") << ", expires "
        << time_str(m.expires) << "\n"
        << "  entries         " << r.bundle.entries << ", manifest "
        << r.bundle.manifest_sha256.substr(0, 16) << "\n  objects        ";
    for (const auto &ob : m.objects)
      out << " " << ob.name << " (" << to_hex(ob.digest).substr(0, 12) << ")";
    out << "\n";
    for (const auto &sp : r.bundle.supplements)
      out << "  + " << sp << "\n";
  } else {
    out << "  (not opened)\n";
  }
  const auto &d = r.decision;
  out << "candidates (" << d.candidates.size() << " considered of "
      << d.entries_scanned << " entries)\n";
  for (const auto &c : d.candidates) {
    const auto &k = c.entry.kernel;
    out << "  " << (c.won ? "WON " : "lost") << " " << k.distro << "/"
        << k.version << "/" << k.arch << "/" << k.release << " "
        << to_hex(c.entry.blob).substr(0, 12) << ": " << c.reason;
    if (!r.bundle.supplements.empty() && !c.source.empty())
      out << " [from " << c.source << "]";
    out << "\n";
  }
  out << "decision\n";
  if (!d.summary.empty())
    out << "  " << d.summary << "\n";
  for (const auto &w : d.warnings)
    out << "  " << w << "\n";
  for (const auto &n : r.notes)
    out << "  note: " << n << "\n";
  if (x.error)
    out << "  FAILED at " << x.stage << ": " << x.error->message << "\n";
  if (r.native) {
    out << "  handed over: native (no btf_custom_path)\n";
  } else if (d.chosen && !x.error) {
    out << "  digest      " << to_hex(d.chosen->blob) << "\n";
    if (!r.bundle.supplements.empty())
      out << "  from        " << r.source << "\n";
    out << "  handed over: resolve -> "
        << (o.cache_dir / (to_hex(d.chosen->blob) + ".btf")).string()
        << "; C/C++ API -> sealed memfd /proc/self/fd/N\n";
  }
  std::cout << terminal_safe(out.str());
}

} // namespace

void add_resolve_command(CLI::App &app, Cli &cli) {
  auto args = std::make_shared<ResolveArgs>();
  auto *sub = app.add_subcommand(
      "resolve", "pick this host's BTF from a signed bundle; print the path "
                 "for btf_custom_path, or \"native\", as the last line");
  add_options(sub, *args);
  sub->callback([&cli, args] {
    route_libbpf_logs();
    ResolveOptions o = to_options(*args);
    // A simulated host never writes the system cache; a cache directory
    // the caller names (--cache-dir, $BTFPACK_CACHE_DIR) is used as given.
    const char *env_cache = std::getenv("BTFPACK_CACHE_DIR");
    if (simulated(*args) && args->cache_dir.empty() &&
        !(env_cache && *env_cache)) {
      auto dir = simulated_cache_dir();
      if (!dir.ok())
        return fail(cli, dir.error());
      o.cache_dir = *dir;
      if (!cli.json)
        std::cerr << "btfpack: simulated host: the BTF goes to "
                  << o.cache_dir.string() << ", not the system cache "
                  << paths::cache_dir().string() << "\n";
    }
    auto r = resolve(o);
    if (!r.ok()) {
      fail(cli, r.error());
      return;
    }
    const auto &d = r->decision;
    std::string path = r->native ? "native" : r->btf.path();
    if (cli.json) {
      nlohmann::json j = {
          {"path", path},         {"native", r->native},
          {"source", r->source},  {"match", match_kind_name(d.kind)},
          {"summary", d.summary}, {"warnings", d.warnings},
          {"unsafe", d.unsafe},   {"notes", r->notes}};
      if (d.chosen) {
        j["entry"] = key_json(d.chosen->kernel);
        j["digest"] = to_hex(r->digest);
      }
      print_json(cli, j);
      return;
    }
    for (const auto &w : d.warnings)
      std::cerr << "btfpack: " << w << "\n";
    std::cout << path << std::endl;
  });
}

void add_explain_command(CLI::App &app, Cli &cli) {
  auto args = std::make_shared<ResolveArgs>();
  auto *sub = app.add_subcommand(
      "explain", "show the host facts, the bundle, every candidate and why "
                 "it won or lost, and where the BTF is handed over");
  add_options(sub, *args);
  sub->callback([&cli, args] {
    route_libbpf_logs();
    ResolveOptions o = to_options(*args);
    o.handoff = HandOff::none;
    if (simulated(*args) && args->cache_dir.empty())
      o.cache_dir = "$TMPDIR/btfpack-simulated-XXXXXX"; // what resolve does
    Explanation x = explain(o);
    if (cli.json)
      print_json(cli, explanation_json(x, o));
    else
      print_explain(x, o);
    if (x.error)
      cli.exit_code = EXIT_FAIL;
  });
}

} // namespace btfpack::cli
