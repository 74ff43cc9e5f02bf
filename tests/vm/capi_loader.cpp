// SPDX-License-Identifier: Apache-2.0
//
// btfpack-vm-capi-loader: the libbpf-tools way, inside the VM test. Resolves
// the BTF through btfpack's C API (btfpack_ensure_core_btf on a
// bpf_object_open_opts, installed defaults unless told otherwise), then runs
// the bpf/ programs with the btf_custom_path it set (a memfd,
// /proc/self/fd/N) and checks the values they read (bpf/README.md).
//   btfpack-vm-capi-loader [--bundle B] [--key K] [--object O]
//                          [--allow-nearest] [--prefer-bundle]
// Exit: btfpack-bpf-demo's (0 pass, 1 wrong values, 3 load failed, 4 no
// event, 5 error), 2 usage, 6 btfpack found no BTF for this host (message
// on stderr).
#include "btfpack/bpf_demo.h"
#include "btfpack/btfpack.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bpf/libbpf.h>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int EXIT_NO_BTF = 6;

// CoreBtf owns what btfpack_ensure_core_btf set up on `opts`.
class CoreBtf {
public:
  explicit CoreBtf(bpf_object_open_opts &opts) : opts_(opts) {}
  ~CoreBtf() { btfpack_cleanup_core_btf(&opts_); }
  CoreBtf(const CoreBtf &) = delete;
  CoreBtf &operator=(const CoreBtf &) = delete;

private:
  bpf_object_open_opts &opts_;
};

} // namespace

int main(int argc, char **argv) {
  namespace demo = btfpack::bpf_demo;
  CLI::App app{"Resolve the BTF through btfpack's C API and run the bpf/ "
               "programs with it"};
  std::string bundle, key, object;
  bool allow_nearest = false, prefer_bundle = false;
  int verbose = 0;
  app.add_option("--bundle", bundle, "bundle (default: the installed store)");
  app.add_option("--key", key, "trusted key (default: /etc/btfpack/keys)");
  app.add_option("--object", object,
                 "BPF object the bundle must have been made for");
  app.add_flag("--allow-nearest", allow_nearest,
               "accept a neighbouring kernel's BTF when provably identical");
  app.add_flag("--prefer-bundle", prefer_bundle,
               "use the bundle even when the kernel has its own BTF");
  app.add_flag("-v,--verbose", verbose, "show libbpf's messages");
  CLI11_PARSE(app, argc, argv);

  btfpack_route_libbpf_logs(verbose);
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  std::vector<const char *> keys;
  if (!key.empty())
    keys = {key.c_str(), nullptr};
  btfpack_opts bopts{};
  bopts.sz = sizeof(bopts);
  bopts.bundle_path = bundle.empty() ? nullptr : bundle.c_str();
  bopts.key_paths = keys.empty() ? nullptr : keys.data();
  bopts.object_path = object.empty() ? nullptr : object.c_str();
  bopts.allow_nearest = allow_nearest;
  bopts.prefer_bundle = prefer_bundle;
  bool defaults = bundle.empty() && key.empty() && object.empty() &&
                  !allow_nearest && !prefer_bundle;
  int err = defaults ? btfpack_ensure_core_btf(&open_opts)
                     : btfpack_ensure_core_btf_opts(&open_opts, &bopts);
  if (err) {
    std::fprintf(stderr,
                 "btfpack-vm-capi-loader: no BTF for this host (%d): %s\n", err,
                 btfpack_last_error());
    return EXIT_NO_BTF;
  }
  CoreBtf guard(open_opts);
  const char *path = open_opts.btf_custom_path;
  std::fprintf(stderr, "btfpack-vm-capi-loader: btf_custom_path=%s\n",
               path ? path : "(null: native BTF)");

  demo::Options opts;
  opts.btf_path = path ? path : "";
  opts.timeout = std::chrono::milliseconds(30000);
  int status = 0;
  for (const auto &name : demo::program_names()) {
    auto rep = demo::run_program(name, opts);
    std::cout << rep.to_json() << std::endl;
    std::fprintf(stderr, "btfpack-vm-capi-loader: %s: %s%s%s\n", name.c_str(),
                 demo::outcome_name(rep.outcome), rep.error.empty() ? "" : ": ",
                 rep.error.c_str());
    status = std::max(status, demo::exit_code(rep.outcome));
  }
  return status;
}
