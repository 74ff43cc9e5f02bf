// SPDX-License-Identifier: Apache-2.0
//
// A CO-RE program loaded here with an embedded bundle: this kernel's BTF,
// minimized and signed into a bundle held only in memory (as
// btfpack_embed_bundle links it), resolved through the C API from those
// bytes and that key text, and every bpf/ program loaded with the sealed
// memfd it hands over, checking the CO-RE values against ground truth.
// Skips (with the reason) without CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN;
// tracefs is mounted when missing (privileged_skip_reason).
#include <gtest/gtest.h>

#include "btfpack/bpf_demo.h"
#include "btfpack/btfpack.h"
#include "btfpack/file_util.h"
#include "embed_fixture.h"

using namespace btfpack;
using namespace btfpack::test;

namespace {

TEST(EmbedPrivileged, EveryProgramLoadsWithTheBundleFromMemory) {
  SKIP_UNLESS_PRIVILEGED();
  TempDir t;
  HostBundle hb;
  std::string why;
  ASSERT_TRUE(make_host_bundle(t.path(), hb, why)) << why;
  // Nothing on disk: the bundle and key exist only as bytes.
  fs::remove(hb.bundle);
  fs::remove(hb.pub);
  std::vector<std::vector<std::uint8_t>> elf;
  std::vector<btfpack_object> objs;
  for (const auto &o : hb.objects)
    elf.push_back(*read_file(o));
  for (std::size_t i = 0; i < elf.size(); ++i)
    objs.push_back(
        {hb.objects[i].filename().c_str(), elf[i].data(), elf[i].size()});
  BTFPACK_OPTS(bo, .keys_dir = "/nonexistent", .prefer_bundle = 1,
               .objects = objs.data(), .objects_cnt = objs.size());
  bo.bundle_data = hb.bytes.data();
  bo.bundle_size = hb.bytes.size();
  bo.bundle_data_name = "embedded bundle in embed_privileged_test";
  bo.key_data = hb.pub_text.data();
  bo.key_size = hb.pub_text.size();
  btfpack_btf *h = btfpack_resolve(&bo);
  ASSERT_NE(h, nullptr) << btfpack_last_error();
  ASSERT_NE(btfpack_btf__path(h), nullptr);
  const std::string path = btfpack_btf__path(h);
  EXPECT_EQ(path.rfind("/proc/self/fd/", 0), 0u) << path;
  for (const auto &name : bpf_demo::program_names()) {
    bpf_demo::Options o;
    o.btf_path = path;
    auto rep = bpf_demo::run_program(name, o);
    EXPECT_EQ(rep.outcome, bpf_demo::Outcome::pass)
        << name << " via " << path << ": " << rep.to_json();
    EXPECT_EQ(rep.btf, path);
    for (const auto &c : rep.checks)
      EXPECT_TRUE(c.ok) << name << ": " << c.name << " got " << c.got
                        << " want " << c.want;
  }
  btfpack_btf__free(h);
}

} // namespace
