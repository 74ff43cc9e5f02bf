// SPDX-License-Identifier: Apache-2.0
#include "embed_fixture.h"

#include "btfpack/file_util.h"
#include "btfpack/keys.h"
#include "runtime_fixture.h"

namespace btfpack::test {

bool make_host_bundle(const fs::path &dir, HostBundle &out, std::string &why) {
  auto h = detect_host();
  if (!h.ok() || !h->os_id.present()) {
    why = "this host has no os-release ID";
    return false;
  }
  out.host = *h;
  if (!fs::exists("/sys/kernel/btf/vmlinux")) {
    why = "this kernel has no /sys/kernel/btf/vmlinux to minimize";
    return false;
  }
  out.objects =
      bpf_objects(out.host.arch.value == "x86_64" ? "x86_64" : "arm64");
  if (!minimize("/sys/kernel/btf/vmlinux", dir / "min.btf", out.objects, &why))
    return false;
  auto blob = read_file(dir / "min.btf");
  auto key = SecretKey::generate();
  auto other = SecretKey::generate();
  if (!blob.ok() || !key.ok() || !other.ok()) {
    why = "cannot read the minimized BTF or make keys";
    return false;
  }
  out.blob = *blob;
  out.pub_text = key->public_key().to_minisign();
  out.other_pub_text = other->public_key().to_minisign();
  out.pub = dir / "k.pub";
  BundleMeta meta;
  meta.name = "embedded-test";
  meta.version = 1;
  for (const auto &o : out.objects)
    meta.objects.push_back(
        {o.filename().string(), *sha256_file(o), out.host.arch.value});
  BundleWriter w(meta);
  const HostFacts &f = out.host;
  auto rc = w.add({f.os_id.value, f.os_version_id.value, f.arch.value,
                   f.kernel_release.value},
                  out.blob);
  out.bundle = dir / "host.btfpack";
  if (rc.ok())
    rc = w.write(out.bundle, *key);
  if (rc.ok())
    rc = write_file_atomic(out.pub, out.pub_text);
  if (!rc.ok()) {
    why = rc.error().message;
    return false;
  }
  auto bytes = read_file(out.bundle);
  if (!bytes.ok()) {
    why = bytes.error().message;
    return false;
  }
  out.bytes = *bytes;
  return true;
}

} // namespace btfpack::test
