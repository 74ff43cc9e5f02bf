// SPDX-License-Identifier: Apache-2.0
//
// What a run leaves behind: btfhub's custom-archive layout (plus the report
// that `merge` reads back), and the signed bundle. A single run and a merge
// of shards build the bundle through the same function from the same facts
// (kernels, blobs, objects, bpftool version, archive snapshot), so their
// bytes are identical.
#include <cstdlib>
#include <ctime>
#include <set>

#include "btfpack/file_util.h"
#include "btfpack/json_parse.h"
#include "btfpack/supplement.h"
#include "json_codec.h"

namespace btfpack::btfgen {

using nlohmann::json;

namespace {

constexpr const char *REPORT_NAME = "btfpack-report.json";

struct Packed {
  KernelKey key;
  fs::path file;
  Sha256 digest{};
};

} // namespace

std::uint64_t bundle_version(const BundleParams &p) {
  return p.version   ? p.version
         : p.created ? static_cast<std::uint64_t>(p.created)
                     : 1;
}

Result<std::int64_t> parse_expiry(std::string_view text, std::int64_t created) {
  auto bad = make_error(Errc::invalid_argument,
                        "--expires '" + std::string(text) +
                            "': expected never, @UNIX_SECONDS or a duration "
                            "such as 90d, 12h, 3600s");
  if (text.empty() || text == "never" || text == "0")
    return std::int64_t{0};
  std::string t(text);
  bool absolute = t.front() == '@';
  if (absolute)
    t.erase(0, 1);
  std::int64_t mult = 1;
  if (!absolute && !t.empty()) {
    switch (t.back()) {
    case 'd':
      mult = 86400;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'm':
      mult = 60;
      break;
    case 's':
      mult = 1;
      break;
    default:
      return bad;
    }
    t.pop_back();
  }
  if (t.empty() || t.size() > 12 ||
      t.find_first_not_of("0123456789") != std::string::npos)
    return bad;
  std::int64_t v = std::stoll(t);
  // A duration counts from the creation time; with none recorded it counts
  // from now (the one place gen reads the clock, because it was asked to).
  std::int64_t base =
      created ? created : static_cast<std::int64_t>(std::time(nullptr));
  return absolute ? v : base + v * mult;
}

namespace {

// as_supplement turns `meta` and `items` into a supplement of `base`:
// same objects and name, a newer version, and only the kernels the base
// lacks or holds with another BTF (compared by blob digest).
Result<void> as_supplement(const Bundle &base, const BundleParams &params,
                           const fs::path &bundle, BundleMeta &meta,
                           std::vector<Packed> &items) {
  const auto &bm = base.meta();
  const std::string bn = "base " + base.path().string();
  BTFPACK_CHECK(
      check_same_objects(bm, bn, meta, "supplement " + bundle.string()));
  if (meta.name != bm.name)
    return make_error(Errc::invalid_argument,
                      "supplement " + bundle.string() + " is named \"" +
                          meta.name + "\" but " + bn + " is \"" + bm.name +
                          "\": a supplement keeps its base's name");
  if (!params.version)
    meta.version = bm.version + 1;
  if (meta.version <= bm.version)
    return make_error(Errc::invalid_argument,
                      "supplement version " + std::to_string(meta.version) +
                          " must be newer than " + bn + "'s version " +
                          std::to_string(bm.version));
  BTFPACK_TRY(digest, parse_sha256_hex(base.manifest_sha256()));
  meta.supplement_of = SupplementOf{bm.name, bm.version, digest};
  std::size_t total = items.size();
  std::erase_if(items, [&](const Packed &p) {
    const BundleEntry *e = base.find(p.key);
    return e && e->blob == p.digest;
  });
  if (items.empty())
    return make_error(Errc::not_found, "no supplement written: all " +
                                           std::to_string(total) +
                                           " kernel(s) are in " + bn +
                                           " with the same minimized BTF");
  return ok();
}

Result<void> build_bundle(BundleMeta meta, std::vector<Packed> items,
                          const BundleParams &params, const fs::path &bundle,
                          const SecretKey &key) {
  meta.name = params.name;
  meta.created = params.created;
  meta.version = bundle_version(params);
  meta.expires = params.expires;
  meta.btfpack_version = BTFPACK_VERSION;
  if (params.supplement_of)
    BTFPACK_CHECK(
        as_supplement(*params.supplement_of, params, bundle, meta, items));
  std::sort(items.begin(), items.end(),
            [](const Packed &a, const Packed &b) { return a.key < b.key; });
  BundleWriter w(std::move(meta));
  for (const auto &it : items) {
    BTFPACK_TRY(bytes, read_file(it.file, 1ull << 30));
    if (sha256(bytes) != it.digest)
      return make_error(Errc::digest_mismatch,
                        "blob " + it.file.string() +
                            " does not match its "
                            "recorded sha256 " +
                            to_hex(it.digest) +
                            " (the cache or shard output was modified: "
                            "re-run gen)");
    BTFPACK_CHECK(w.add(it.key, bytes));
  }
  return w.write(bundle, key);
}

BundleObject bundle_object(const std::string &name, const Sha256 &digest,
                           const std::string &arch) {
  return BundleObject{name, digest, arch == "any" ? std::string() : arch};
}

fs::path layout_path(const fs::path &dir, const KernelKey &k) {
  return dir / k.distro / k.version / k.arch / (k.release + ".btf");
}

} // namespace

Result<void> write_out_dir(const GenRun &run, const fs::path &dir) {
  for (const auto &e : run.entries) {
    if (e.status != Status::ok || !e.blob)
      continue;
    fs::path dst = layout_path(dir, e.kernel.key);
    std::error_code ec;
    fs::create_directories(dst.parent_path(), ec);
    if (ec)
      return make_error(Errc::io, "create " + dst.parent_path().string() +
                                      ": " + ec.message());
    BTFPACK_TRY(bytes, read_file(run.blob_path(*e.blob), 1ull << 30));
    if (sha256(bytes) != *e.blob)
      return make_error(Errc::digest_mismatch,
                        "cache blob " + run.blob_path(*e.blob).string() +
                            " was modified: remove it and re-run");
    BTFPACK_CHECK(write_file_atomic(dst, bytes, Durability::none));
  }
  return write_file_atomic(dir / REPORT_NAME, report_json(run),
                           Durability::none);
}

Result<void> write_bundle(const GenRun &run, const BundleParams &params,
                          const fs::path &bundle, const SecretKey &key) {
  BundleMeta meta;
  meta.bpftool_version = run.bpftool.version;
  meta.archive_snapshot = run.archive_snapshot;
  for (const auto &o : run.objects)
    meta.objects.push_back(bundle_object(o.name, o.digest, o.arch));
  std::vector<Packed> items;
  for (const auto &e : run.entries)
    if (e.status == Status::ok && e.blob)
      items.push_back({e.kernel.key, run.blob_path(*e.blob), *e.blob});
  if (items.empty()) {
    // Say why: every kernel failed, or the scan kept none (its reasons).
    std::string why = std::to_string(run.entries.size()) +
                      " kernel(s) selected, none minimized successfully";
    for (std::size_t i = 0; i < run.warnings.size() && i < 3; i++)
      why += "; " + run.warnings[i];
    if (run.warnings.size() > 3)
      why += "; and " + std::to_string(run.warnings.size() - 3) +
             " more scan warning(s)";
    return make_error(Errc::invalid_argument, "bundle " + bundle.string() +
                                                  ": no kernels to add (" +
                                                  why + ")");
  }
  return build_bundle(std::move(meta), std::move(items), params, bundle, key);
}

Result<MergeResult> merge_shards(const std::vector<fs::path> &shards,
                                 const BundleParams &params,
                                 const fs::path &bundle, const SecretKey &key,
                                 bool allow_failures) {
  if (shards.empty())
    return make_error(Errc::invalid_argument, "merge: no shard given");
  MergeResult res;
  BundleMeta meta;
  json first_objects;
  std::set<unsigned> ks;
  unsigned n_total = 0;
  std::vector<Packed> items;
  std::set<KernelKey> kernels;
  for (const auto &dir : shards) {
    fs::path rp = dir / REPORT_NAME;
    const std::string where = "shard " + dir.string();
    BTFPACK_TRY(text, read_text_file(rp, 256u << 20));
    auto parsed = parse_json(text, rp.string());
    json j = parsed ? std::move(*parsed) : json(json::value_t::discarded);
    if (j.is_discarded() || !j.is_object() || j.value("schema", 0) != 1)
      return make_error(Errc::corrupt, where + ": " + rp.string() +
                                           " is not a btfpack gen report "
                                           "(schema 1)");
    try {
      unsigned k = j.at("shard").at("k").get<unsigned>();
      unsigned n = j.at("shard").at("n").get<unsigned>();
      if (n_total == 0)
        n_total = n;
      if (n != n_total || k == 0 || k > n || !ks.insert(k).second)
        return make_error(Errc::invalid_argument,
                          where + ": shard " + std::to_string(k) + "/" +
                              std::to_string(n) +
                              " repeats or does not fit the others");
      json objects = json::array();
      for (const auto &o : j.at("objects"))
        objects.push_back({o.at("name"), o.at("sha256"), o.at("arch")});
      std::string bt = j.at("bpftool").at("version").get<std::string>();
      std::string snap = j.at("archive_snapshot").get<std::string>();
      if (res.shards == 0) {
        first_objects = objects;
        meta.bpftool_version = bt;
        meta.archive_snapshot = snap;
        for (const auto &o : objects) {
          BTFPACK_TRY(d, parse_sha256_hex(o[1].get<std::string>()));
          meta.objects.push_back(bundle_object(o[0].get<std::string>(), d,
                                               o[2].get<std::string>()));
        }
      } else if (objects != first_objects || bt != meta.bpftool_version ||
                 snap != meta.archive_snapshot) {
        return make_error(Errc::invalid_argument,
                          where + ": made from other objects, another "
                                  "bpftool or another archive snapshot than "
                                  "the first shard: re-run that shard");
      }
      for (const auto &je : j.at("entries")) {
        EntryResult e;
        if (!entry_from_json(je, e))
          return make_error(Errc::corrupt,
                            where + ": malformed entry in " + rp.string());
        if (!kernels.insert(e.kernel.key).second)
          return make_error(Errc::invalid_argument,
                            where + ": kernel " + e.kernel.path +
                                " appears in two shards");
        if (e.status == Status::failed)
          res.failed++;
        if (e.status != Status::ok)
          continue;
        items.push_back(
            {e.kernel.key, layout_path(dir, e.kernel.key), *e.blob});
      }
    } catch (const json::exception &ex) {
      return make_error(Errc::corrupt, where + ": malformed report " +
                                           rp.string() + ": " + ex.what());
    }
    res.shards++;
  }
  if (ks.size() != n_total)
    return make_error(Errc::invalid_argument,
                      "merge: got " + std::to_string(ks.size()) + " of " +
                          std::to_string(n_total) +
                          " shards: pass every shard's output directory");
  if (res.failed && !allow_failures)
    return make_error(Errc::failed,
                      "merge: " + std::to_string(res.failed) +
                          " kernel(s) failed in the shards (see their "
                          "reports); pass --allow-failures to bundle the "
                          "rest");
  res.entries = items.size();
  std::set<Sha256> blobs;
  for (const auto &i : items)
    blobs.insert(i.digest);
  res.blobs = blobs.size();
  BTFPACK_CHECK(
      build_bundle(std::move(meta), std::move(items), params, bundle, key));
  return res;
}

} // namespace btfpack::btfgen
