// SPDX-License-Identifier: Apache-2.0
//
// btfpack build [CONFIG] [options]: the whole build side in one command, for
// CI: fetch the selected part of the archive -> gen (bpftool min_core_btf
// for every kernel) -> bundle -> sign. The configuration file is described
// in docs/build-config.md (example: packaging/ci/btfpack.json); every
// setting can be given or overridden on the command line. With
// `--shard K/N` (N > 1) the run stops after gen and writes the shard's
// output to --out; `--merge DIR...` then joins the shards into the bundle a
// single run would have written, with the configuration's name, version
// and validity (packaging/ci/local-run.sh does both over a CI matrix).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "btfpack/btfgen.h"
#include "btfpack/fetcher.h"
#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "btfpack/sha256.h"
#include "build_config.h"
#include "build_side.h"
#include "cli.h"
#include "github_access.h"
#include "selection.h"

namespace btfpack::cli {

namespace {

namespace fs = std::filesystem;

struct BuildArgs {
  std::string config;
  // Command-line overrides; empty / unset means "from the config".
  std::string archive_url, listing, mirror, archive_dir;
  std::string distro, version, arch, release;
  std::vector<std::string> objects;
  std::vector<std::string> custom_kernels;
  std::string key, key_env, name;
  std::uint64_t bundle_version = 0;
  std::int64_t valid_days = -1;
  std::string expires; // alias of --valid-days: never, @UNIX, 90d, 12h
  std::string bundle, report, out, cache_dir, shard, supplement_of;
  unsigned jobs = 0, fetch_jobs = 0;
  bool allow_failures = false;
  bool no_fetch = false;
  bool allow_empty = false;
  std::vector<std::string> merge; // shard output directories
};

void apply_overrides(BuildConfig &c, const BuildArgs &a) {
  auto set = [](auto &dst, const std::string &v) {
    if (!v.empty())
      dst = v;
  };
  if (!a.archive_url.empty()) {
    c.archive_url = a.archive_url;
    c.archive_dir.clear();
  }
  if (!a.archive_dir.empty()) {
    c.archive_dir = a.archive_dir;
    c.archive_url.clear();
  }
  set(c.listing, a.listing);
  set(c.mirror, a.mirror);
  set(c.select.distro, a.distro);
  set(c.select.version, a.version);
  set(c.select.arch, a.arch);
  set(c.select.release_glob, a.release);
  if (!a.objects.empty())
    c.objects = a.objects;
  if (!a.custom_kernels.empty())
    c.custom_kernels.assign(a.custom_kernels.begin(), a.custom_kernels.end());
  set(c.key_file, a.key);
  set(c.key_env, a.key_env);
  set(c.name, a.name);
  if (a.bundle_version)
    c.version = a.bundle_version;
  if (a.valid_days >= 0)
    c.valid_days = a.valid_days;
  set(c.bundle, a.bundle);
  set(c.supplement_of, a.supplement_of);
  set(c.report, a.report);
  set(c.out, a.out);
  set(c.cache_dir, a.cache_dir);
  set(c.shard, a.shard);
  if (a.jobs)
    c.jobs = a.jobs;
  if (a.fetch_jobs)
    c.fetch_jobs = a.fetch_jobs;
  if (a.allow_failures)
    c.allow_failures = true;
}

// load_key finds the signing key: --key / signing.key_file, else the
// environment variable signing.key_env holding the key text or a path.
Result<SecretKey> load_key(const BuildConfig &c) {
  if (!c.key_file.empty())
    return SecretKey::read_file(c.key_file);
  const char *v = std::getenv(c.key_env.c_str());
  if (!v || !*v)
    return make_error(Errc::invalid_argument,
                      "no signing key: give --key FILE, signing.key_file, or "
                      "set $" +
                          c.key_env + " to the secret key (text or file path)");
  std::string text(v);
  if (text.find('\n') == std::string::npos && fs::exists(text))
    return SecretKey::read_file(text);
  return SecretKey::parse(text, "$" + c.key_env);
}

void note(const Cli &cli, const std::string &msg) {
  if (!cli.json)
    std::fprintf(stderr, "build: %s\n", msg.c_str());
}

// bundle_params: the same policy as gen --bundle and merge (created_time
// for the creation time, btfgen::bundle_version for the default version,
// parse_expiry for the validity), so build and gen give the same bytes.
// With bundle.supplement_of, `base` receives the opened base (verified
// with `key`'s public half), which bp points to; the name then defaults to
// the base's and the version to the base's + 1.
Result<btfgen::BundleParams> bundle_params(const Cli &cli, const BuildConfig &c,
                                           const SecretKey &key,
                                           std::shared_ptr<Bundle> &base) {
  btfgen::BundleParams bp;
  bp.name = c.name;
  BTFPACK_TRY(created, created_time(cli));
  bp.created = created;
  bp.version = c.version;
  if (c.valid_days) {
    BTFPACK_TRY(exp, btfgen::parse_expiry(std::to_string(c.valid_days) + "d",
                                          bp.created));
    bp.expires = exp;
  }
  if (!c.supplement_of.empty()) {
    BTFPACK_TRY(b, open_supplement_base(c.supplement_of, key));
    base = std::move(b);
    bp.supplement_of = base.get();
    if (c.name == BuildConfig{}.name)
      bp.name = base->meta().name;
    if (!c.version)
      bp.version = base->meta().version + 1;
  }
  return bp;
}

Result<nlohmann::json> describe_bundle(const BuildConfig &c,
                                       const btfgen::BundleParams &bp,
                                       const SecretKey &key) {
  BTFPACK_TRY(digest, sha256_file(c.bundle));
  return nlohmann::json{{"path", c.bundle.string()},
                        {"name", bp.name},
                        {"version", btfgen::bundle_version(bp)},
                        {"created", bp.created},
                        {"expires", bp.expires},
                        {"sha256", to_hex(digest)},
                        {"signer", key_id_hex(key.id())}};
}

// do_merge joins shard outputs (`--shard K/N --out DIR` runs) into the
// bundle a single run would have written, with this configuration's name,
// version and validity; the report lists every shard's report.
void do_merge(Cli &cli, const BuildConfig &c, const BuildArgs &a) {
  if (c.bundle.empty())
    return fail(cli, make_error(Errc::invalid_argument,
                                "--merge needs --bundle FILE (bundle.output)"));
  auto key = load_key(c);
  if (!key)
    return fail(cli, key.error());
  std::vector<fs::path> shards(a.merge.begin(), a.merge.end());
  std::shared_ptr<Bundle> base;
  auto params = bundle_params(cli, c, key.value(), base);
  if (!params)
    return fail(cli, params.error());
  const auto &bp = params.value();
  auto res =
      btfgen::merge_shards(shards, bp, c.bundle, key.value(), c.allow_failures);
  if (!res)
    return fail(cli, res.error());
  if (!c.report.empty()) {
    nlohmann::json rep = {{"shards", nlohmann::json::array()}};
    for (const auto &s : shards) {
      auto text = read_text_file(s / "btfpack-report.json");
      if (!text)
        return fail(cli, text.error());
      rep["shards"].push_back(
          nlohmann::json::parse(text.value(), nullptr, false));
    }
    if (auto r = write_file_atomic(c.report, rep.dump(2) + "\n"); !r)
      return fail(cli, r.error());
  }
  auto desc = describe_bundle(c, bp, key.value());
  if (!desc)
    return fail(cli, desc.error());
  nlohmann::json summary = {{"merged",
                             {{"shards", res->shards},
                              {"entries", res->entries},
                              {"blobs", res->blobs},
                              {"failed", res->failed}}},
                            {"bundle", desc.value()}};
  if (cli.json)
    return print_json(cli, summary);
  note(cli, "merged " + std::to_string(res->shards) + " shards (" +
                std::to_string(res->entries) + " kernels, " +
                std::to_string(res->blobs) + " blobs) into " +
                c.bundle.string() + " (" + bp.name + " version " +
                std::to_string(bp.version) + ")");
}

void do_build(Cli &cli, const BuildArgs &a) {
  BuildConfig c;
  std::string config = a.config;
  std::error_code ec;
  if (config.empty() && fs::is_regular_file("btfpack.json", ec))
    config = "btfpack.json"; // `btfpack build` in the project's directory
  if (!config.empty()) {
    auto r = read_build_config(config);
    if (!r)
      return fail(cli, r.error());
    c = std::move(r.value());
  }
  apply_overrides(c, a);
  // A bad SOURCE_DATE_EPOCH is refused before any work.
  auto created = created_time(cli);
  if (!created)
    return fail(cli, created.error());
  if (!a.expires.empty()) {
    // --expires (gen's spelling) is relative to the creation time, or to
    // now when none is recorded (as parse_expiry counts).
    std::int64_t t =
        *created ? *created : static_cast<std::int64_t>(std::time(nullptr));
    auto e = btfgen::parse_expiry(a.expires, *created);
    if (!e)
      return fail(cli, e.error());
    c.valid_days = *e == 0 ? 0 : (*e - t + 86399) / 86400;
  }
  if (!a.merge.empty())
    return do_merge(cli, c, a);
  if (c.objects.empty())
    return fail(cli,
                make_error(Errc::invalid_argument,
                           std::string("no BPF objects: give --object "
                                       "or `objects` in the "
                                       "configuration") +
                               (config.empty() ? " (no CONFIG given and no "
                                                 "./btfpack.json here)"
                                               : "")));
  auto objects = expand_objects(c.objects);
  if (!objects)
    return fail(cli, objects.error());
  auto shard = btfgen::Shard::parse(c.shard.empty() ? "1/1" : c.shard);
  if (!shard)
    return fail(cli, shard.error());
  bool sharded = shard->n > 1;
  if (sharded && c.out.empty())
    return fail(cli, make_error(Errc::invalid_argument,
                                "--shard " + c.shard +
                                    " needs --out DIR (the shard's output "
                                    "for `btfpack merge`)"));
  if (!sharded && c.bundle.empty() && c.out.empty())
    return fail(cli, make_error(Errc::invalid_argument,
                                "nothing to write: give --bundle FILE "
                                "(bundle.output) and/or --out DIR"));
  // Load the key and check the outputs before hours of work, not after.
  std::optional<SecretKey> key;
  if (!sharded && !c.bundle.empty()) {
    auto k = load_key(c);
    if (!k)
      return fail(cli, k.error());
    key = std::move(k.value());
  }
  for (auto r : {check_output_file("--bundle", c.bundle),
                 check_output_file("--report", c.report),
                 check_output_dir("--out", c.out)})
    if (!r)
      return fail(cli, r.error());
  nlohmann::json summary;

  // 1. fetch
  fs::path archive = c.archive_dir;
  if (!c.archive_url.empty() && !a.no_fetch) {
    FetchOptions fo;
    fo.from = c.archive_url;
    fo.listing = c.listing;
    fo.to = c.mirror.empty() ? fs::path(".btfpack/mirror") : c.mirror;
    fo.filter = c.select;
    fo.jobs = c.fetch_jobs;
    if (auto g = github_access(fo.transport.github, "GITHUB_TOKEN", false); !g)
      return fail(cli, g.error());
    note(cli, "fetch " + fo.from + " -> " + fo.to.string());
    auto rep = fetch_archive(fo);
    if (!rep)
      return fail(cli, rep.error());
    if (rep->selected == 0 && !a.allow_empty && c.custom_kernels.empty()) {
      return fail(cli, no_match_error(
                           c.select,
                           listing_entries(rep->listing_source, fo.transport),
                           "the archive " + fo.from));
    }
    if (!rep->ok())
      return fail(
          cli, make_error(Errc::io,
                          "fetch: " + std::to_string(rep->failed.size()) +
                              " file(s) failed, first " + rep->failed[0].path +
                              ": " + rep->failed[0].reason));
    summary["fetch"] = {{"selected", rep->selected},
                        {"fetched", rep->fetched},
                        {"present", rep->skipped},
                        {"bytes", rep->bytes}};
    archive = fo.to;
  } else if (!c.archive_url.empty()) {
    archive = c.mirror.empty() ? fs::path(".btfpack/mirror") : c.mirror;
  }
  if (archive.empty() && c.custom_kernels.empty())
    return fail(cli, make_error(Errc::invalid_argument,
                                "no kernels: give an archive (--archive-url "
                                "URL, --archive DIR) or --custom-kernels"));

  // 2. gen
  btfgen::GenOptions go;
  go.archive = archive;
  go.objects = std::move(objects.value());
  go.filter = c.select;
  go.custom_dirs = c.custom_kernels;
  go.shard = shard.value();
  go.jobs = c.jobs;
  go.cache_dir = c.cache_dir;
  if (progress_enabled(cli))
    go.progress = [](std::size_t done, std::size_t total,
                     const btfgen::EntryResult &) {
      std::fprintf(stderr, "\r\033[Kgen: %zu/%zu kernels", done, total);
      if (done == total)
        std::fputc('\n', stderr);
    };
  note(cli, "gen " + archive.string() + " (" +
                std::to_string(go.objects.size()) + " objects, shard " +
                std::to_string(go.shard.k) + "/" + std::to_string(go.shard.n) +
                ")");
  auto run = btfgen::run_gen(go);
  if (!run)
    return fail(cli, run.error());
  if (run->entries.empty() && !a.allow_empty && go.shard.n == 1) {
    if (!archive.empty())
      return fail(cli, no_match_error(c.select, archive_entries(archive),
                                      "the archive " + archive.string()));
    return fail(cli, make_error(Errc::not_found,
                                "no kernel in --custom-kernels; pass "
                                "--allow-empty when no kernel is fine"));
  }
  if (!c.report.empty()) {
    if (auto r = write_file_atomic(c.report, btfgen::report_json(run.value()));
        !r)
      return fail(cli, r.error());
  }
  if (!cli.json)
    std::fputs(btfgen::report_summary(run.value()).c_str(), stderr);
  auto n_ok = run->count(btfgen::Status::ok);
  auto n_failed = run->count(btfgen::Status::failed);
  summary["kernels"] = {{"ok", n_ok},
                        {"failed", n_failed},
                        {"skipped", run->count(btfgen::Status::skipped)}};
  summary["shard"] =
      std::to_string(go.shard.k) + "/" + std::to_string(go.shard.n);
  if (!c.report.empty())
    summary["report"] = c.report.string();
  if (!c.out.empty()) {
    if (auto r = btfgen::write_out_dir(run.value(), c.out); !r)
      return fail(cli, r.error());
    summary["out"] = c.out.string();
  }
  if (n_failed && !c.allow_failures) {
    if (cli.json)
      print_json(cli, summary);
    return fail(
        cli, make_error(Errc::failed, std::to_string(n_failed) +
                                          " kernel(s) failed (see the report); "
                                          "--allow-failures ships the rest"));
  }

  // 3. bundle + sign
  if (key) {
    std::shared_ptr<Bundle> base;
    auto params = bundle_params(cli, c, *key, base);
    if (!params)
      return fail(cli, params.error());
    const auto &bp = params.value();
    if (auto r = btfgen::write_bundle(run.value(), bp, c.bundle, *key); !r)
      return fail(cli, r.error());
    auto desc = describe_bundle(c, bp, *key);
    if (!desc)
      return fail(cli, desc.error());
    summary["bundle"] = desc.value();
    note(cli, "wrote " + c.bundle.string() + " (" + bp.name + " version " +
                  std::to_string(btfgen::bundle_version(bp)) + ", signed by " +
                  key_id_hex(key->id()) + ")");
  }
  if (cli.json)
    print_json(cli, summary);
}

} // namespace

void add_build_command(CLI::App &app, Cli &cli) {
  auto a = std::make_shared<BuildArgs>();
  auto *sub = app.add_subcommand("build", build_side_description("build"));
  sub->add_option("CONFIG", a->config,
                  "JSON configuration file (default: ./btfpack.json when "
                  "there is one)");
  auto grp = [&](const char *g) { return sub->add_option_group(g); };
  auto *ar = grp("archive");
  ar->add_option("--archive-url", a->archive_url,
                 "fetch from this base URL or local directory (archive.url)");
  ar->add_option("--listing", a->listing,
                 "listing URL or file (archive.listing)");
  ar->add_option("--mirror", a->mirror,
                 "where fetched files go (archive.mirror, default "
                 ".btfpack/mirror)");
  ar->add_option("--archive", a->archive_dir,
                 "use this local mirror as is, no fetch (archive.dir)");
  ar->add_flag("--no-fetch", a->no_fetch,
               "use the mirror as already fetched (CI cache)");
  auto *se = grp("selection");
  se->add_option("--distro", a->distro, "select.distro");
  se->add_option("--version", a->version, "select.version (distro version)");
  se->add_option("--arch", a->arch, "select.arch");
  se->add_option("--release", a->release, "select.release (glob)");
  auto *in = grp("inputs");
  in->add_option("--object", a->objects,
                 "BPF object or glob (repeatable; replaces `objects`)");
  in->add_option("--custom-kernels,--custom", a->custom_kernels,
                 "directory of custom kernels (custom_kernels; repeatable; "
                 "--custom is an alias)");
  auto *bu = grp("bundle");
  bu->add_option("--key", a->key, "secret key file (signing.key_file)");
  bu->add_option("--key-env", a->key_env,
                 "environment variable holding the secret key text or path "
                 "(signing.key_env, default BTFPACK_SECRET_KEY)");
  bu->add_option("--bundle-name,--name", a->name,
                 "bundle name (bundle.name; --name is an alias)");
  bu->add_option("--bundle-version", a->bundle_version,
                 "bundle version, monotonically increasing (bundle.version; "
                 "default: creation time)");
  bu->add_option("--valid-days", a->valid_days,
                 "days until the bundle expires (bundle.valid_days; 0 never)");
  bu->add_option("--expires", a->expires,
                 "alias of --valid-days with more forms: never, "
                 "@UNIX_SECONDS or a duration (90d, 12h)");
  bu->add_option("--bundle", a->bundle, "bundle file to write (bundle.output)");
  bu->add_option("--supplement-of", a->supplement_of,
                 "BASE.btfpack: write a supplement of BASE with only the "
                 "kernels it lacks or that changed (bundle.supplement_of)");
  auto *ou = grp("output and run");
  ou->add_option("--report", a->report, "coverage report JSON (report)");
  ou->add_option("--out", a->out,
                 "minimized BTFs in btfhub layout; the shard output with "
                 "--shard (out)");
  ou->add_option("--cache-dir,--cache", a->cache_dir,
                 "gen cache (cache_dir; --cache is an alias)");
  ou->add_option("--shard", a->shard,
                 "K/N: only this shard; stops after gen (shard)");
  ou->add_option("--jobs,-j", a->jobs,
                 "gen workers (jobs; default per core; -j N is an alias)");
  ou->add_option("--fetch-jobs", a->fetch_jobs, "parallel downloads");
  ou->add_option("--merge", a->merge,
                 "join these shard outputs into --bundle instead of "
                 "fetch+gen (the CI matrix's last step)");
  ou->add_flag("--allow-failures", a->allow_failures,
               "ship the kernels that worked when some failed");
  ou->add_flag("--allow-empty", a->allow_empty,
               "exit 0 when the selection matches no kernel");
  sub->callback([&cli, a] { do_build(cli, *a); });
}

} // namespace btfpack::cli
