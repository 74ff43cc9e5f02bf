// SPDX-License-Identifier: Apache-2.0
//
// `btfpack gen`: minimize every selected archive kernel's BTF for the
// release's BPF objects; `btfpack merge`: join shard outputs into the bundle
// a single run would have made. docs/btfgen.md has the details.
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>

#include "btfpack/btfgen.h"
#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "build_side.h"
#include "cli.h"
#include "selection.h"

namespace btfpack::cli {

namespace {

namespace bg = btfpack::btfgen;

struct BundleArgs {
  std::string bundle, key, name = "btfpack", expires = "never";
  std::string supplement_of; // BASE.btfpack
  bool name_given = false;
  std::int64_t valid_days = -1; // --valid-days N: expires = created + N days
  std::uint64_t version = 0;
  bool allow_failures = false;
};

void add_bundle_options(CLI::App *sub, BundleArgs &b) {
  sub->add_option("--bundle", b.bundle, "write a signed bundle to FILE");
  sub->add_option("--key", b.key, "minisign secret key that signs the bundle");
  sub->add_option("--bundle-name,--name", b.name,
                  "name recorded in the bundle (bundle.name; --name is an "
                  "alias)")
      ->capture_default_str()
      ->each([&b](const std::string &) { b.name_given = true; });
  sub->add_option("--supplement-of", b.supplement_of,
                  "BASE.btfpack: write a supplement of BASE holding only the "
                  "kernels it lacks or that changed (same objects and name, "
                  "newer version; BASE must verify with --key's public key)");
  sub->add_option("--bundle-version", b.version,
                  "bundle version (monotonic; default: creation time)");
  sub->add_option("--valid-days", b.valid_days,
                  "days until the bundle expires (bundle.valid_days; 0 never)")
      ->check(CLI::Range(0, 36500));
  sub->add_option("--expires", b.expires,
                  "alias of --valid-days with more forms: never, "
                  "@UNIX_SECONDS or a duration (90d, 12h)")
      ->capture_default_str();
  sub->add_flag("--allow-failures", b.allow_failures,
                "exit 0 and write the bundle even when some kernels failed");
}

// bundle_params reads the bundle options; with --supplement-of, `base`
// receives the opened base (kept alive for the params' pointer).
Result<bg::BundleParams> bundle_params(const Cli &cli, const BundleArgs &b,
                                       const SecretKey *key,
                                       std::shared_ptr<Bundle> &base) {
  bg::BundleParams p;
  p.name = b.name;
  if (!b.supplement_of.empty() && key) {
    BTFPACK_TRY(opened, open_supplement_base(b.supplement_of, *key));
    base = std::move(opened);
    p.supplement_of = base.get();
    if (!b.name_given)
      p.name = base->meta().name;
  }
  p.version = b.version;
  BTFPACK_TRY(created, created_time(cli));
  p.created = created;
  std::string expires = b.expires;
  if (b.valid_days == 0)
    expires = "never";
  else if (b.valid_days > 0)
    expires = std::to_string(b.valid_days) + "d";
  BTFPACK_TRY(exp, bg::parse_expiry(expires, p.created));
  p.expires = exp;
  return p;
}

struct GenArgs {
  std::string archive, out, report, shard = "1/1", cache, bpftool;
  std::vector<std::string> objects, object_arch, custom, extra;
  std::string distro, version, arch, release;
  unsigned jobs = 0;
  double timeout = 120;
  bool no_cache = false;
  bool allow_empty = false;
  BundleArgs bundle;
};

void run_gen_command(Cli &cli, const GenArgs &a) {
  bg::GenOptions o;
  o.archive = a.archive;
  // --object [ARCH:]PATH: a leading arch name (x86_64, x86, amd64, arm64,
  // aarch64) and a colon declare the arch, as --object-arch PATH=ARCH does.
  for (const auto &x : a.objects) {
    auto colon = x.find(':');
    if (colon != std::string::npos && colon > 0 &&
        !bg::object_arch_name(x.substr(0, colon)).empty()) {
      std::string path = x.substr(colon + 1);
      if (path.empty()) {
        fail(cli, make_error(Errc::invalid_argument,
                             "--object '" + x + "': no path after the arch"));
        cli.exit_code = EXIT_USAGE;
        return;
      }
      o.objects.emplace_back(path);
      o.object_arch[path] = x.substr(0, colon);
    } else {
      o.objects.emplace_back(x);
    }
  }
  for (const auto &x : a.object_arch) {
    auto eq = x.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      fail(cli, make_error(Errc::invalid_argument,
                           "--object-arch '" + x +
                               "': expected OBJECT_PATH=ARCH (x86_64, arm64)"));
      cli.exit_code = EXIT_USAGE;
      return;
    }
    std::string path = x.substr(0, eq), arch = x.substr(eq + 1);
    if (auto it = o.object_arch.find(path);
        it != o.object_arch.end() &&
        bg::object_arch_name(it->second) != bg::object_arch_name(arch)) {
      fail(cli, make_error(Errc::invalid_argument,
                           "object " + path + " is declared " + it->second +
                               " (--object " + it->second + ":" + path +
                               ") and " + arch + " (--object-arch): give one"));
      cli.exit_code = EXIT_USAGE;
      return;
    }
    o.object_arch[path] = arch;
  }
  for (const auto &x : a.custom)
    o.custom_dirs.emplace_back(x);
  o.extra = a.extra;
  o.filter = {a.distro, a.version, a.arch, a.release};
  auto shard = bg::Shard::parse(a.shard);
  if (!shard.ok()) {
    fail(cli, shard.error());
    cli.exit_code = EXIT_USAGE;
    return;
  }
  o.shard = *shard;
  o.jobs = a.jobs;
  o.cache_dir = a.cache;
  o.use_cache = !a.no_cache;
  o.bpftool = a.bpftool;
  o.timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout * 1000));
  if (a.archive.empty() && a.custom.empty() && a.extra.empty()) {
    fail(cli,
         make_error(Errc::invalid_argument,
                    "nothing to minimize: give --archive DIR, --custom-kernels "
                    "DIR or --extra SPEC"));
    cli.exit_code = EXIT_USAGE;
    return;
  }
  if (!a.bundle.bundle.empty() && a.bundle.key.empty()) {
    fail(cli,
         make_error(Errc::invalid_argument, "--bundle needs --key SECRET_KEY"));
    cli.exit_code = EXIT_USAGE;
    return;
  }
  if (a.shard != "1/1" && !a.bundle.bundle.empty()) {
    fail(cli, make_error(Errc::invalid_argument,
                         "--bundle with --shard: a shard writes --out DIR; "
                         "join the shards with `btfpack merge`"));
    cli.exit_code = EXIT_USAGE;
    return;
  }
  // Load the key first: a bad key should not cost a whole run.
  std::unique_ptr<SecretKey> key;
  if (!a.bundle.key.empty()) {
    auto k = SecretKey::read_file(a.bundle.key);
    if (!k.ok())
      return fail(cli, k.error());
    key = std::make_unique<SecretKey>(std::move(*k));
  }
  if (!a.bundle.supplement_of.empty() && a.bundle.bundle.empty()) {
    fail(cli, make_error(Errc::invalid_argument,
                         "--supplement-of needs --bundle OUT and --key"));
    cli.exit_code = EXIT_USAGE;
    return;
  }
  std::shared_ptr<Bundle> base;
  auto params = bundle_params(cli, a.bundle, key.get(), base);
  if (!params.ok()) {
    fail(cli, params.error());
    if (params.error().code == Errc::invalid_argument)
      cli.exit_code = EXIT_USAGE;
    return;
  }
  if (base)
    if (auto r = check_supplement_objects(*base, o.objects, a.bundle.bundle);
        !r.ok())
      return fail(cli, r.error());
  // Output paths first: a missing directory must not cost a whole run.
  for (auto r : {check_output_file("--bundle", a.bundle.bundle),
                 check_output_file("--report", a.report),
                 check_output_dir("--out", a.out)})
    if (!r.ok())
      return fail(cli, r.error());
  if (progress_enabled(cli)) {
    o.progress = [](std::size_t done, std::size_t total,
                    const bg::EntryResult &e) {
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s %s/%s/%s/%s", done, total,
                   bg::status_name(e.status), e.kernel.key.distro.c_str(),
                   e.kernel.key.version.c_str(), e.kernel.key.arch.c_str(),
                   e.kernel.key.release.c_str());
      if (done == total)
        std::fprintf(stderr, "\r\033[K");
    };
  }
  auto run = bg::run_gen(o);
  if (!run.ok())
    return fail(cli, run.error());
  // A selection that matches nothing is a mistake (a typo in --distro)
  // more often than not; a shard of a non-empty selection may be empty.
  if (run->entries.empty() && !a.allow_empty && o.shard.n == 1) {
    if (!a.archive.empty()) {
      auto err = no_match_error(o.filter, archive_entries(a.archive),
                                "the archive " + a.archive);
      // What the scan skipped, and why (names a bundle cannot hold, ...).
      for (std::size_t i = 0; i < run->warnings.size() && i < 5; ++i)
        err.message += (i ? "; " : "; the scan skipped: ") + run->warnings[i];
      return fail(cli, std::move(err));
    }
    return fail(cli, make_error(Errc::not_found,
                                "no kernel selected from --custom-kernels / "
                                "--extra; pass --allow-empty when no kernel "
                                "is fine"));
  }
  if (!a.report.empty()) {
    auto w = write_file_atomic(a.report, bg::report_json(*run));
    if (!w.ok())
      return fail(cli, w.error());
  }
  if (!a.out.empty()) {
    auto w = bg::write_out_dir(*run, a.out);
    if (!w.ok())
      return fail(cli, w.error());
  }
  if (cli.json)
    std::cout << bg::report_json(*run);
  else
    std::cerr << bg::report_summary(*run);
  std::size_t failed = run->count(bg::Status::failed);
  if (failed && !a.bundle.allow_failures)
    return fail(
        cli, make_error(Errc::failed, std::to_string(failed) +
                                          " kernel(s) failed (see the report); "
                                          "no bundle written; pass "
                                          "--allow-failures to accept"));
  if (!a.bundle.bundle.empty()) {
    auto w = bg::write_bundle(*run, *params, a.bundle.bundle, *key);
    if (!w.ok())
      return fail(cli, w.error());
  }
}

} // namespace

void add_gen_command(CLI::App &app, Cli &cli) {
  auto a = std::make_shared<GenArgs>();
  auto *sub = app.add_subcommand("gen", build_side_description("gen"));
  sub->add_option("--archive", a->archive,
                  "btfhub-archive mirror: <distro>/<version>/<arch>/"
                  "<release>.btf.tar.xz (uses DIR/index.json when fresh)");
  sub->add_option("--object", a->objects,
                  "[ARCH:]PATH: BPF object (repeat for several; objects of "
                  "several arches in one run, each kernel gets its arch's); "
                  "ARCH: (x86_64, arm64, ...) declares the arch the object "
                  "was built for")
      ->required();
  sub->add_option("--object-arch", a->object_arch,
                  "OBJECT_PATH=ARCH: the arch an object was built for, when "
                  "its BTF and path do not tell");
  sub->add_option("--out", a->out,
                  "write DIR/<distro>/<version>/<arch>/<release>.btf and "
                  "DIR/btfpack-report.json");
  sub->add_option("--report", a->report, "write the JSON coverage report");
  sub->add_option("--jobs,-j", a->jobs,
                  "workers (default: one per core; -j N is an alias)");
  sub->add_option("--shard", a->shard,
                  "K/N: do the K-th of N stable parts (by path hash)");
  sub->add_option("--distro", a->distro, "only this distro");
  sub->add_option("--version", a->version, "only this distro version");
  sub->add_option("--arch", a->arch, "only this arch folder");
  sub->add_option("--release", a->release, "only releases matching GLOB");
  sub->add_option(
      "--custom-kernels,--custom", a->custom,
      "custom kernels: DIR/<distro>/<version>/<arch>/<release>.btf "
      "(raw BTF or ELF with .BTF), .btf.tar.xz or vmlinux-<release>");
  sub->add_option("--extra", a->extra,
                  "one custom kernel: DISTRO/VERSION/ARCH/RELEASE=FILE");
  sub->add_option("--cache-dir,--cache", a->cache,
                  "cache dir (cache_dir; default $XDG_CACHE_HOME/btfpack or "
                  "~/.cache/btfpack; --cache is an alias)");
  sub->add_flag("--no-cache", a->no_cache,
                "ignore cached results (still stores new ones)");
  sub->add_option("--bpftool", a->bpftool, "bpftool to use (default: PATH)");
  sub->add_option("--timeout", a->timeout,
                  "seconds one bpftool call may take before it is killed")
      ->capture_default_str();
  sub->add_flag("--allow-empty", a->allow_empty,
                "exit 0 when the selection matches no kernel");
  add_bundle_options(sub, a->bundle);
  sub->callback([&cli, a] { run_gen_command(cli, *a); });
}

void add_merge_command(CLI::App &app, Cli &cli) {
  auto shards = std::make_shared<std::vector<std::string>>();
  auto b = std::make_shared<BundleArgs>();
  auto *sub = app.add_subcommand("merge", build_side_description("merge"));
  sub->add_option("shards", *shards, "shard output directories (all N)")
      ->required();
  add_bundle_options(sub, *b);
  sub->get_option("--bundle")->required();
  sub->get_option("--key")->required();
  sub->callback([&cli, shards, b] {
    if (auto w = check_output_file("--bundle", b->bundle); !w.ok())
      return fail(cli, w.error());
    auto key = SecretKey::read_file(b->key);
    if (!key.ok())
      return fail(cli, key.error());
    std::shared_ptr<Bundle> base;
    auto params = bundle_params(cli, *b, &*key, base);
    if (!params.ok())
      return fail(cli, params.error());
    std::vector<std::filesystem::path> dirs(shards->begin(), shards->end());
    auto r =
        bg::merge_shards(dirs, *params, b->bundle, *key, b->allow_failures);
    if (!r.ok())
      return fail(cli, r.error());
    if (cli.json)
      print_json(cli, {{"shards", r->shards},
                       {"entries", r->entries},
                       {"blobs", r->blobs},
                       {"failed", r->failed},
                       {"bundle", b->bundle}});
    else
      std::fprintf(stderr, "merged %zu shards: %zu kernels, %zu blobs -> %s\n",
                   r->shards, r->entries, r->blobs, b->bundle.c_str());
  });
}

} // namespace btfpack::cli
