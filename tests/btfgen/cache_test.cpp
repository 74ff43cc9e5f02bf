// SPDX-License-Identifier: Apache-2.0
//
// The gen result cache's key: records written by a gen whose checks were
// weaker are not trusted by a newer one.
#include <gtest/gtest.h>

#include "btfpack/file_util.h"
#include "cache.h"
#include "test_util.h"

namespace btfpack::btfgen {
namespace {

using namespace btfpack::test;

// weak spot (#20): before "an empty minimized BTF is a failure", gen cached
// such kernels as "ok". A cache made then must be a miss, not an "ok" record.
TEST(GenCache, RecordsFromBeforeTheEmptyBtfCheckAreNotTrusted) {
  TempDir d;
  Cache c(d.path());
  ObjectInfo o;
  o.name = "noresolve.bpf.o";
  o.digest = sha256(std::string("object bytes"));
  Bpftool b{"/usr/sbin/bpftool", "v7.1.0", "v1.1"};
  std::string input(64, 'a');
  // The key the checks of version 1 (no empty-BTF check) used.
  std::string old_key =
      to_hex(sha256("btfpack-gen-v1-check1\n" + input + "\n" + b.version +
                    "\n" + to_hex(o.digest) + "\n"));
  std::vector<std::uint8_t> empty_btf(24, 0); // what bpftool wrote
  EntryResult r;
  r.status = Status::ok;
  r.blob = sha256(std::span<const std::uint8_t>(empty_btf));
  r.blob_size = empty_btf.size();
  r.objects = {o.name};
  ASSERT_TRUE(c.put_blob(*r.blob, empty_btf).ok());
  ASSERT_TRUE(c.put(old_key, r).ok());
  ASSERT_TRUE(c.get(old_key)); // the planted record reads back

  std::string now = Cache::key(input, {&o}, b);
  EXPECT_NE(now, old_key);
  EXPECT_FALSE(c.get(now))
      << "a record made before the empty-BTF check is used";
}

} // namespace
} // namespace btfpack::btfgen
