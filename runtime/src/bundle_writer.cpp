// SPDX-License-Identifier: Apache-2.0
//
// BundleWriter: content-addressed blobs, each stored as one zstd frame that
// is either self-contained or compressed against the raw content of one
// earlier, similar blob (a delta chain of bounded depth). Per-blob frames
// give random access; the deltas recover most of what solid xz gains on many
// near-identical minimized BTFs (docs/bundle-format.md, "Why deltas").
#include <algorithm>
#include <cstdlib>
#include <map>

#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "bundle_format.h"

namespace btfpack {

using namespace detail;

namespace {

constexpr int FINAL_LEVEL = 19;
constexpr int PROBE_LEVEL = 19;
// How many earlier blobs (in kernel order) are tried as delta bases.
constexpr std::size_t BASE_WINDOW = 48;
// Above this many raw bytes per blob, probing uses a faster level.
constexpr std::size_t PROBE_FAST_ABOVE = 256 * 1024;
// A blob beginning with the zstd dictionary magic would be read as a
// formatted dictionary by `zstd -D`, so it is never used as a base.
constexpr std::uint8_t ZSTD_DICT_MAGIC[4] = {0x37, 0xA4, 0x30, 0xEC};

bool usable_as_base(const std::vector<std::uint8_t> &b) {
  return !(b.size() >= 4 && std::equal(b.begin(), b.begin() + 4,
                                       std::begin(ZSTD_DICT_MAGIC)));
}

Error invalid(const std::string &what) {
  return make_error(Errc::invalid_argument, "bundle: " + what);
}

} // namespace

struct BundleWriter::Impl {
  BundleMeta meta;
  std::map<Sha256, std::vector<std::uint8_t>> blobs;
  std::map<KernelKey, Sha256> kernels;
  std::uint64_t raw_entry_bytes = 0;
};

BundleWriter::BundleWriter(BundleMeta meta) : impl_(std::make_unique<Impl>()) {
  impl_->meta = std::move(meta);
}
BundleWriter::~BundleWriter() = default;
BundleWriter::BundleWriter(BundleWriter &&) noexcept = default;
BundleWriter &BundleWriter::operator=(BundleWriter &&) noexcept = default;

Result<void> BundleWriter::add(const KernelKey &kernel,
                               std::span<const std::uint8_t> btf) {
  for (const auto *f :
       {&kernel.distro, &kernel.version, &kernel.arch, &kernel.release})
    if (!valid_field(*f, false, false))
      return invalid("kernel field \"" + *f +
                     "\" must be 1..255 printable ASCII bytes without "
                     "spaces");
  if (btf.empty() || btf.size() > MAX_BLOB_RAW)
    return invalid("BTF for " + kernel.release + " is empty or larger than " +
                   std::to_string(MAX_BLOB_RAW) + " bytes");
  if (impl_->kernels.size() >= MAX_KERNELS)
    return invalid("more than " + std::to_string(MAX_KERNELS) + " kernels");
  Sha256 d = sha256(btf);
  auto [it, inserted] = impl_->kernels.emplace(kernel, d);
  if (!inserted) {
    if (it->second != d)
      return invalid("kernel " + kernel.distro + "/" + kernel.version + "/" +
                     kernel.arch + "/" + kernel.release +
                     " added twice with different BTFs");
    return ok();
  }
  if (!impl_->blobs.contains(d))
    impl_->blobs.emplace(d, std::vector<std::uint8_t>(btf.begin(), btf.end()));
  return ok();
}

std::size_t BundleWriter::entry_count() const {
  return impl_->kernels.size();
}
std::size_t BundleWriter::blob_count() const {
  return impl_->blobs.size();
}

namespace {

// build_body makes the signed part: body header, manifest, blob frames.
// `meta` receives the metadata as written (sorted objects, created time).
Result<std::vector<std::uint8_t>> build_body(const BundleWriter::Impl &impl,
                                             BundleMeta &out_meta) {
  Manifest m;
  m.meta = impl.meta;
  auto &meta = m.meta;
  if (!valid_field(meta.name, true, false))
    return invalid("name must be 1..255 printable ASCII bytes");
  for (const auto *s :
       {&meta.btfpack_version, &meta.bpftool_version, &meta.archive_snapshot})
    if (!valid_field(*s, true, true))
      return invalid("\"" + *s + "\" must be printable ASCII, at most 255 "
                                 "bytes");
  if (meta.created == 0) {
    // Reproducible builds: the time comes from the caller or from
    // SOURCE_DATE_EPOCH, never from the clock.
    if (const char *sde = std::getenv("SOURCE_DATE_EPOCH")) {
      auto v = parse_u64(sde);
      if (!v)
        return invalid("SOURCE_DATE_EPOCH is not a number of seconds");
      meta.created = static_cast<std::int64_t>(*v);
    }
  }
  if (meta.created < 0 || meta.expires < 0 ||
      meta.created > (std::int64_t{1} << 62) ||
      meta.expires > (std::int64_t{1} << 62) ||
      meta.version > (std::uint64_t{1} << 62))
    return invalid("created, expires and version must be non-negative");
  if (meta.expires != 0 && meta.expires <= meta.created)
    return invalid("expires must be later than created");
  if (meta.objects.size() > MAX_OBJECTS)
    return invalid("too many objects");
  for (const auto &o : meta.objects)
    if (!valid_field(o.name, false, false) || o.arch == "-" ||
        !valid_field(o.arch, false, true))
      return invalid("object name \"" + o.name + "\" or arch \"" + o.arch +
                     "\" must be printable ASCII without spaces");
  std::sort(meta.objects.begin(), meta.objects.end(),
            [](const BundleObject &a, const BundleObject &b) {
              return std::tie(a.name, a.digest, a.arch) <
                     std::tie(b.name, b.digest, b.arch);
            });
  for (std::size_t i = 1; i < meta.objects.size(); i++)
    if (meta.objects[i - 1].name == meta.objects[i].name &&
        meta.objects[i - 1].digest == meta.objects[i].digest &&
        meta.objects[i - 1].arch == meta.objects[i].arch)
      return invalid("object " + meta.objects[i].name + " listed twice");
  if (impl.kernels.empty())
    return invalid("no kernels added");

  // Blob order: by the first kernel that uses it, so that neighbours (same
  // distro and version, adjacent releases) are near each other and bases
  // always come before the blobs compressed against them.
  std::vector<const Sha256 *> order;
  std::map<Sha256, std::uint32_t> index;
  for (const auto &[k, d] : impl.kernels)
    if (!index.contains(d)) {
      index.emplace(d, static_cast<std::uint32_t>(order.size()));
      order.push_back(&d);
    }

  std::vector<std::vector<std::uint8_t>> frames(order.size());
  std::vector<std::uint32_t> depth(order.size(), 0);
  m.blobs.resize(order.size());
  for (std::size_t i = 0; i < order.size(); i++) {
    const auto &raw = impl.blobs.at(*order[i]);
    int probe = raw.size() > PROBE_FAST_ABOVE ? 3 : PROBE_LEVEL;
    BTFPACK_TRY(best, zstd_compress(raw, {}, probe));
    std::optional<std::uint32_t> best_base;
    std::size_t first = i > BASE_WINDOW ? i - BASE_WINDOW : 0;
    for (std::size_t j = first; j < i; j++) {
      const auto &cand = impl.blobs.at(*order[j]);
      if (depth[j] >= WRITER_CHAIN_DEPTH || !usable_as_base(cand))
        continue;
      BTFPACK_TRY(c, zstd_compress(raw, cand, probe));
      if (c.size() < best.size()) {
        best = std::move(c);
        best_base = static_cast<std::uint32_t>(j);
      }
    }
    if (probe != FINAL_LEVEL) {
      std::span<const std::uint8_t> dict;
      if (best_base)
        dict = impl.blobs.at(*order[*best_base]);
      BTFPACK_TRY(c, zstd_compress(raw, dict, FINAL_LEVEL));
      best = std::move(c);
    }
    depth[i] = best_base ? depth[*best_base] + 1 : 0;
    auto &b = m.blobs[i];
    b.digest = *order[i];
    b.raw = raw.size();
    b.stored = best.size();
    b.base = best_base;
    frames[i] = std::move(best);
  }
  m.kernels.reserve(impl.kernels.size());
  for (const auto &[k, d] : impl.kernels)
    m.kernels.push_back({k.distro, k.version, k.arch, k.release, index.at(d)});

  std::string text = encode_manifest(m);
  auto text_bytes = std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t *>(text.data()), text.size());
  BTFPACK_TRY(mz, zstd_compress(text_bytes, {}, FINAL_LEVEL));
  BodyHeader h;
  h.major = FORMAT_MAJOR;
  h.minor = FORMAT_MINOR;
  h.manifest_size = mz.size();
  h.manifest_sha256 = sha256(mz);
  for (const auto &f : frames)
    h.blobs_size += f.size();
  std::string hdr = encode_body_header(h);
  std::vector<std::uint8_t> body(hdr.begin(), hdr.end());
  body.insert(body.end(), mz.begin(), mz.end());
  for (const auto &f : frames)
    body.insert(body.end(), f.begin(), f.end());
  out_meta = meta;
  return body;
}

} // namespace

namespace detail {

std::string bundle_trusted_comment(const BundleMeta &meta) {
  return "btfpack bundle " + meta.name + " version " +
         std::to_string(meta.version) + " created " +
         std::to_string(meta.created);
}

Result<std::vector<std::uint8_t>>
assemble_signed_bundle(std::span<const std::uint8_t> body,
                       const std::string &trusted_comment,
                       const SecretKey &key) {
  BTFPACK_TRY(sig, key.sign(body, trusted_comment));
  std::string pre = encode_preamble(sig.size());
  std::vector<std::uint8_t> out;
  out.reserve(pre.size() + sig.size() + body.size());
  out.insert(out.end(), pre.begin(), pre.end());
  out.insert(out.end(), sig.begin(), sig.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

} // namespace detail

Result<std::vector<std::uint8_t>>
BundleWriter::serialize(const SecretKey &key) const {
  BundleMeta meta;
  BTFPACK_TRY(body, build_body(*impl_, meta));
  return assemble_signed_bundle(body, bundle_trusted_comment(meta), key);
}

Result<std::vector<std::uint8_t>> BundleWriter::serialize_unsigned() const {
  BundleMeta meta;
  BTFPACK_TRY(body, build_body(*impl_, meta));
  std::string pre = encode_preamble(0);
  body.insert(body.begin(), pre.begin(), pre.end());
  return body;
}

Result<void> BundleWriter::write(const std::filesystem::path &path,
                                 const SecretKey &key) const {
  BTFPACK_TRY(bytes, serialize(key));
  return write_file_atomic(path, bytes, 0644);
}

} // namespace btfpack
