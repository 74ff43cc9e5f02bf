// SPDX-License-Identifier: Apache-2.0
//
// The coverage report: JSON for machines (--report, schema in
// docs/btfgen.md) and a short human summary for stderr.
#include <algorithm>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "btfpack/kernel_release.h"
#include "json_codec.h"

namespace btfpack::btfgen {

using nlohmann::json;

namespace {

struct Totals {
  std::size_t ok = 0, failed = 0, skipped = 0, cached = 0;
};

void add(Totals &t, const EntryResult &e) {
  if (e.status == Status::ok)
    t.ok++;
  else if (e.status == Status::failed)
    t.failed++;
  else
    t.skipped++;
  if (e.cached)
    t.cached++;
}

struct Dedup {
  std::size_t ok_entries = 0, unique = 0;
  std::uint64_t entry_bytes = 0, unique_bytes = 0;
  double ratio() const {
    return unique ? double(ok_entries) / double(unique) : 0.0;
  }
};

Dedup dedup_of(const GenRun &run) {
  Dedup d;
  std::set<Sha256> seen;
  for (const auto &e : run.entries) {
    if (e.status != Status::ok || !e.blob)
      continue;
    d.ok_entries++;
    d.entry_bytes += e.blob_size;
    if (seen.insert(*e.blob).second) {
      d.unique++;
      d.unique_bytes += e.blob_size;
    }
  }
  return d;
}

// A CO-RE alternative group: relocations of one program section on
// flavours of one type (task_struct___x.__state, task_struct___o.state),
// written so that each kernel resolves one of them. Only a kernel where
// none resolves is a gap.
struct AltGroup {
  std::string object, section, base;
  std::set<std::int64_t> relos; // relo #N within the section
  std::string labels;           // "#4 task_struct___x, #5 task_struct___o"
  std::size_t kernels = 0;      // ok kernels the object was used on
  std::size_t uncovered = 0;    // of those, where no alternative resolved
};

using ReloKey = std::tuple<std::string, std::string, std::int64_t>;

std::vector<AltGroup> alternative_groups(const GenRun &run) {
  std::map<std::tuple<std::string, std::string, std::string>, AltGroup> by;
  for (const auto &o : run.objects)
    for (const auto &r : o.relos) {
      auto at = r.type_name.find("___");
      if (at == std::string::npos || at == 0)
        continue;
      auto &g = by[{o.name, r.section, r.type_name.substr(0, at)}];
      g.object = o.name;
      g.section = r.section;
      g.base = r.type_name.substr(0, at);
      if (g.relos.insert(r.index).second)
        g.labels += (g.labels.empty() ? "#" : ", #") + std::to_string(r.index) +
                    " " + r.type_name;
    }
  std::vector<AltGroup> out;
  for (auto &[k, g] : by) {
    std::set<std::string> flavours;
    for (const auto &o : run.objects)
      if (o.name == g.object)
        for (const auto &r : o.relos)
          if (r.section == g.section && g.relos.count(r.index))
            flavours.insert(r.type_name);
    if (flavours.size() < 2)
      continue; // one flavour only: no alternative to fall back on
    for (const auto &e : run.entries) {
      if (e.status != Status::ok ||
          std::find(e.objects.begin(), e.objects.end(), g.object) ==
              e.objects.end())
        continue;
      g.kernels++;
      std::set<std::int64_t> missed;
      for (const auto &f : e.findings)
        if (f.severity == "warning" && f.object == g.object &&
            f.section == g.section && g.relos.count(f.relo))
          missed.insert(f.relo);
      if (missed.size() == g.relos.size())
        g.uncovered++;
    }
    out.push_back(std::move(g));
  }
  return out;
}

// grouped_relos are the relocations an alternative group speaks for.
std::set<ReloKey> grouped_relos(const std::vector<AltGroup> &groups) {
  std::set<ReloKey> out;
  for (const auto &g : groups)
    for (auto r : g.relos)
      out.insert({g.object, g.section, r});
  return out;
}

// unresolved_everywhere lists, per object, the relocations that found no
// target on any kernel the object was used for: the mark of a kernel-module
// type (never in vmlinux BTF, so never in a minimized one) or a typo.
std::map<std::string, std::vector<std::string>>
unresolved_everywhere(const GenRun &run) {
  std::map<std::string, std::size_t> used;
  std::map<std::string, std::map<std::string, std::size_t>> misses;
  auto grouped = grouped_relos(alternative_groups(run));
  for (const auto &e : run.entries) {
    if (e.status != Status::ok)
      continue;
    for (const auto &o : e.objects)
      used[o]++;
    for (const auto &f : e.findings)
      if (f.severity == "warning" &&
          !grouped.count({f.object, f.section, f.relo}))
        misses[f.object]["section '" + f.section + "' relo #" +
                         std::to_string(f.relo) + " <" + f.kind + "> " +
                         f.spec]++;
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto &[obj, m] : misses)
    for (const auto &[relo, n] : m)
      if (n == used[obj] && n > 0)
        out[obj].push_back(relo);
  return out;
}

// serving lists the objects a kernel of `arch` was minimized with: those
// built for its arch and the arch-neutral ones (the rule of process() in
// pipeline.cpp). Names repeat across arches (build/bpf/x.bpf.o and
// build/bpf/arm64/x.bpf.o), so the report names them by sha256 and path too.
std::vector<const ObjectInfo *> serving(const GenRun &run,
                                        const std::string &arch) {
  std::vector<const ObjectInfo *> out;
  std::string karch = archive_arch(arch);
  for (const auto &o : run.objects)
    if (o.arch == "any" || o.arch == karch)
      out.push_back(&o);
  return out;
}

json object_refs(const std::vector<const ObjectInfo *> &objs) {
  json a = json::array();
  for (const auto *o : objs)
    a.push_back({{"name", o->name},
                 {"path", o->path.string()},
                 {"arch", o->arch},
                 {"sha256", to_hex(o->digest)}});
  return a;
}

} // namespace

std::string report_json(const GenRun &run) {
  json j;
  j["schema"] = 1;
  j["tool"] = "btfpack gen";
  j["btfpack_version"] = BTFPACK_VERSION;
  j["bpftool"] = {{"path", run.bpftool.path.string()},
                  {"version", run.bpftool.version},
                  {"libbpf", run.bpftool.libbpf}};
  j["archive"] = run.archive;
  j["archive_snapshot"] = run.archive_snapshot;
  j["shard"] = {{"k", run.shard.k}, {"n", run.shard.n}};
  j["started"] = run.started;
  j["seconds"] = run.seconds;
  j["bpftool_runs"] = run.bpftool_runs;
  json objs = json::array();
  auto nowhere = unresolved_everywhere(run);
  for (const auto &o : run.objects) {
    json x = {{"path", o.path.string()},
              {"name", o.name},
              {"sha256", to_hex(o.digest)},
              {"arch", o.arch},
              {"arch_source", o.arch_source},
              {"core_relocations", o.relos.size()},
              {"flags", o.flags}};
    if (!o.error.empty())
      x["error"] = o.error;
    x["unresolved_everywhere"] = nowhere[o.name];
    json alts = json::array();
    for (const auto &g : alternative_groups(run))
      if (g.object == o.name)
        alts.push_back({{"section", g.section},
                        {"type", g.base},
                        {"relos", g.relos},
                        {"kernels", g.kernels},
                        {"uncovered_kernels", g.uncovered}});
    x["alternatives"] = std::move(alts);
    objs.push_back(std::move(x));
  }
  j["objects"] = std::move(objs);
  json entries = json::array();
  Totals all;
  std::map<std::tuple<std::string, std::string, std::string>, Totals> groups;
  std::size_t findings = 0, warnings = 0;
  for (const auto &e : run.entries) {
    json ej = entry_to_json(e);
    json digests = json::array();
    if (!e.objects.empty())
      for (const auto *o : serving(run, e.kernel.key.arch))
        digests.push_back(to_hex(o->digest));
    ej["object_sha256"] = std::move(digests);
    entries.push_back(std::move(ej));
    add(all, e);
    add(groups[{e.kernel.key.distro, e.kernel.key.version, e.kernel.key.arch}],
        e);
    findings += e.findings.size();
    for (const auto &f : e.findings)
      warnings += f.severity == "warning";
  }
  j["entries"] = std::move(entries);
  Dedup d = dedup_of(run);
  j["totals"] = {
      {"selected", run.entries.size()}, {"ok", all.ok},
      {"failed", all.failed},           {"skipped", all.skipped},
      {"cached", all.cached},           {"unique_blobs", d.unique},
      {"dedup_ratio", d.ratio()},       {"entry_bytes", d.entry_bytes},
      {"unique_bytes", d.unique_bytes}, {"findings", findings},
      {"finding_warnings", warnings}};
  json g = json::array();
  for (const auto &[k, t] : groups)
    g.push_back({{"distro", std::get<0>(k)},
                 {"version", std::get<1>(k)},
                 {"arch", std::get<2>(k)},
                 {"ok", t.ok},
                 {"failed", t.failed},
                 {"skipped", t.skipped},
                 {"objects", object_refs(serving(run, std::get<2>(k)))}});
  j["groups"] = std::move(g);
  j["warnings"] = run.warnings;
  return j.dump(2) + "\n";
}

std::string report_summary(const GenRun &run) {
  std::ostringstream os;
  Totals all;
  std::map<std::tuple<std::string, std::string, std::string>, Totals> groups;
  for (const auto &e : run.entries) {
    add(all, e);
    add(groups[{e.kernel.key.distro, e.kernel.key.version, e.kernel.key.arch}],
        e);
  }
  for (const auto &o : run.objects) {
    os << "object " << o.name << " (" << o.arch << ", " << o.relos.size()
       << " CO-RE relocations, " << o.path.string() << ")";
    if (!o.error.empty())
      os << ": UNUSABLE: " << o.error;
    os << "\n";
    for (const auto &f : o.flags)
      os << "  flag: " << f << "\n";
  }
  for (const auto &[obj, relos] : unresolved_everywhere(run))
    for (const auto &r : relos)
      os << "  flag: " << obj << " " << r
         << ": no target on any selected kernel (a kernel-module type? those "
            "are never in a minimized BTF)\n";
  for (const auto &e : run.entries) {
    if (e.status == Status::ok)
      continue;
    os << status_name(e.status) << ": " << e.kernel.key.distro << "/"
       << e.kernel.key.version << "/" << e.kernel.key.arch << "/"
       << e.kernel.key.release << ": " << e.reason << "\n";
  }
  auto groups_alt = alternative_groups(run);
  auto grouped = grouped_relos(groups_alt);
  for (const auto &g : groups_alt) {
    if (g.uncovered == 0)
      os << "alternatives: " << g.object << " '" << g.section << "' " << g.base
         << " (" << g.labels << "): every kernel resolves one alternative\n";
    else
      os << "finding: " << g.object << " '" << g.section << "' " << g.base
         << " alternatives (" << g.labels << "): none resolves on "
         << g.uncovered << " of " << g.kernels << " kernel(s)\n";
  }
  std::map<std::string, std::size_t> warn_by_relo;
  for (const auto &e : run.entries)
    for (const auto &f : e.findings)
      if (f.severity == "warning" &&
          !grouped.count({f.object, f.section, f.relo}))
        warn_by_relo[f.object + " '" + f.section + "' relo #" +
                     std::to_string(f.relo) + " <" + f.kind + "> " + f.spec]++;
  for (const auto &[k, n] : warn_by_relo)
    os << "finding: " << k << ": unresolved on " << n << " kernel(s)\n";
  os << "\n"
     << std::left << std::setw(12) << "distro" << std::setw(10) << "version"
     << std::setw(9) << "arch" << std::right << std::setw(5) << "ok"
     << std::setw(8) << "failed" << std::setw(9) << "skipped\n";
  for (const auto &[k, t] : groups)
    os << std::left << std::setw(12) << std::get<0>(k) << std::setw(10)
       << std::get<1>(k) << std::setw(9) << std::get<2>(k) << std::right
       << std::setw(5) << t.ok << std::setw(8) << t.failed << std::setw(8)
       << t.skipped << "\n";
  // Which objects served which kernels, per arch (only when the run mixes
  // arches or some objects served no kernel).
  std::map<std::string, std::size_t> per_arch;
  for (const auto &e : run.entries)
    per_arch[archive_arch(e.kernel.key.arch)]++;
  bool all_everywhere = true;
  for (const auto &[a, n] : per_arch)
    all_everywhere =
        all_everywhere && serving(run, a).size() == run.objects.size();
  if (!all_everywhere) {
    os << "\n";
    for (const auto &[a, n] : per_arch) {
      os << a << " kernels (" << n << ") minimized with:";
      auto objs = serving(run, a);
      if (objs.empty())
        os << " no object (skipped)";
      for (const auto *o : objs)
        os << " " << o->path.string();
      os << "\n";
    }
  }
  Dedup d = dedup_of(run);
  os << "\n"
     << run.entries.size() << " kernels: " << all.ok << " ok, " << all.failed
     << " failed, " << all.skipped << " skipped (" << all.cached
     << " from cache, " << run.bpftool_runs << " bpftool runs); " << d.unique
     << " unique BTFs, dedup " << std::fixed << std::setprecision(2)
     << d.ratio() << "x; " << std::setprecision(2) << run.seconds << " s\n";
  return os.str();
}

} // namespace btfpack::btfgen
