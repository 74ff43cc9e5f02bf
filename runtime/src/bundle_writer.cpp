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
#include <set>

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
// Longest dictionary (delta chain content) the writer builds.
constexpr std::size_t WRITER_MAX_DICT = 32u << 20;
// Above this many raw bytes per blob, probing uses a faster level.
constexpr std::size_t PROBE_FAST_ABOVE = 256 * 1024;
// A dictionary beginning with the zstd dictionary magic would be read as a
// formatted dictionary by `zstd -D`, so such a chain is never used.
constexpr std::uint8_t ZSTD_DICT_MAGIC[4] = {0x37, 0xA4, 0x30, 0xEC};

bool usable_as_dict(const std::vector<std::uint8_t> &b) {
  return !(b.size() >= 4 &&
           std::equal(b.begin(), b.begin() + 4, std::begin(ZSTD_DICT_MAGIC)));
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
                                             BundleMeta &out_meta,
                                             std::uint64_t &manifest_size) {
  Manifest m;
  m.meta = impl.meta;
  auto &meta = m.meta;
  if (!valid_field(meta.name, true, false))
    return invalid("name must be 1..255 printable ASCII bytes");
  for (const auto *s :
       {&meta.btfpack_version, &meta.bpftool_version, &meta.archive_snapshot})
    if (!valid_field(*s, true, true))
      return invalid("\"" + *s +
                     "\" must be printable ASCII, at most 255 "
                     "bytes");
  // Reproducible builds: the creation time is the caller's (the CLI's
  // SOURCE_DATE_EPOCH), never the clock nor the environment; 0 records none.
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
  if (meta.supplement_of) {
    if (!valid_field(meta.supplement_of->name, true, false) ||
        meta.supplement_of->version > (std::uint64_t{1} << 62))
      return invalid("supplement_of names an invalid base bundle");
    m.minor = MINOR_SUPPLEMENT; // the oldest version that can express it
  }

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

  // Each blob is compressed against the raw content of its delta chain
  // (root first, then each base down to its own base), concatenated: the
  // reader decodes that chain anyway, and more shared content means smaller
  // deltas. Bases are chosen like Prim's minimum spanning tree: start from
  // the blob with the smallest self-contained frame, then repeatedly add the
  // blob whose frame (against any blob already placed, within BASE_WINDOW in
  // kernel order, chain depth bounded) is smallest. Ties go to the lower
  // index, so the result is deterministic. The file order is the order of
  // placement, so bases always come first.
  const std::size_t n = order.size();
  std::vector<const std::vector<std::uint8_t> *> raw(n);
  for (std::size_t i = 0; i < n; i++)
    raw[i] = &impl.blobs.at(*order[i]);
  std::vector<std::vector<std::uint8_t>> frame(n);
  std::vector<std::optional<std::uint32_t>> base_of(n);
  std::vector<std::uint32_t> depth(n, 0);
  std::vector<bool> placed(n, false);
  std::vector<std::uint32_t> placement;
  auto probe_level = [&](std::size_t i) {
    return raw[i]->size() > PROBE_FAST_ABOVE ? 3 : PROBE_LEVEL;
  };
  auto chain_dict = [&](std::uint32_t j) {
    std::vector<std::uint32_t> chain;
    for (std::optional<std::uint32_t> c = j; c; c = base_of[*c])
      chain.push_back(*c);
    std::vector<std::uint8_t> dict;
    for (auto c = chain.rbegin(); c != chain.rend(); ++c)
      dict.insert(dict.end(), raw[*c]->begin(), raw[*c]->end());
    return dict;
  };
  std::set<std::pair<std::size_t, std::uint32_t>> queue;
  for (std::uint32_t i = 0; i < n; i++) {
    BTFPACK_TRY(f, zstd_compress(*raw[i], {}, probe_level(i), true));
    frame[i] = std::move(f);
    queue.emplace(frame[i].size(), i);
  }
  while (!queue.empty()) {
    auto [cost, j] = *queue.begin();
    queue.erase(queue.begin());
    placed[j] = true;
    placement.push_back(j);
    depth[j] = base_of[j] ? depth[*base_of[j]] + 1 : 0;
    if (depth[j] >= WRITER_CHAIN_DEPTH)
      continue;
    auto dict = chain_dict(j);
    if (!usable_as_dict(dict) || dict.size() > WRITER_MAX_DICT)
      continue;
    std::size_t lo = j > BASE_WINDOW ? j - BASE_WINDOW : 0;
    std::size_t hi = std::min(n, std::size_t{j} + BASE_WINDOW + 1);
    for (std::size_t i = lo; i < hi; i++) {
      if (placed[i] || dict.size() + raw[i]->size() > MAX_CHAIN_RAW)
        continue; // placed, or a chain readers refuse to decompress
      BTFPACK_TRY(c, zstd_compress(*raw[i], dict, probe_level(i), true));
      if (c.size() < frame[i].size()) {
        queue.erase({frame[i].size(), static_cast<std::uint32_t>(i)});
        frame[i] = std::move(c);
        base_of[i] = j;
        queue.emplace(frame[i].size(), static_cast<std::uint32_t>(i));
      }
    }
  }
  std::vector<std::uint32_t> new_index(n);
  for (std::uint32_t k = 0; k < n; k++)
    new_index[placement[k]] = k;
  std::vector<std::vector<std::uint8_t>> frames(n);
  m.blobs.resize(n);
  for (std::uint32_t k = 0; k < n; k++) {
    std::uint32_t i = placement[k];
    if (probe_level(i) != FINAL_LEVEL) {
      std::vector<std::uint8_t> dict;
      if (base_of[i])
        dict = chain_dict(*base_of[i]);
      BTFPACK_TRY(c, zstd_compress(*raw[i], dict, FINAL_LEVEL, true));
      frame[i] = std::move(c);
    }
    auto &b = m.blobs[k];
    b.digest = *order[i];
    b.raw = raw[i]->size();
    b.stored = frame[i].size();
    if (base_of[i])
      b.base = new_index[*base_of[i]];
    frames[k] = std::move(frame[i]);
  }
  for (auto &[d, idx] : index)
    idx = new_index[idx];
  m.kernels.reserve(impl.kernels.size());
  for (const auto &[k, d] : impl.kernels)
    m.kernels.push_back({k.distro, k.version, k.arch, k.release, index.at(d)});

  auto as_bytes = [](const std::string &t) {
    return std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t *>(t.data()), t.size());
  };
  // Many kernels: the kernel lines go in chunks of CHUNK_KERNELS, each its
  // own zstd frame, listed by the head; a lookup then decompresses the head
  // and one chunk, not every kernel line.
  std::vector<std::vector<std::uint8_t>> chunk_frames;
  if (m.kernels.size() > CHUNK_KERNELS) {
    for (std::size_t i = 0; i < m.kernels.size(); i += CHUNK_KERNELS) {
      auto part = std::span<const ManifestKernel>(m.kernels).subspan(
          i, std::min<std::size_t>(CHUNK_KERNELS, m.kernels.size() - i));
      std::string t = encode_kernel_lines(part);
      BTFPACK_TRY(cz, zstd_compress(as_bytes(t), {}, FINAL_LEVEL, false));
      ManifestChunk c;
      c.stored = cz.size();
      c.count = static_cast<std::uint32_t>(part.size());
      c.first = part.front();
      m.chunks.push_back(c);
      chunk_frames.push_back(std::move(cz));
    }
    m.kernels.clear();
  }
  std::string text = encode_manifest(m);
  BTFPACK_TRY(mz, zstd_compress(as_bytes(text), {}, FINAL_LEVEL, false));
  for (const auto &c : chunk_frames)
    mz.insert(mz.end(), c.begin(), c.end());
  if (mz.size() > MAX_MANIFEST_STORED)
    return invalid("manifest too large");
  manifest_size = mz.size();
  std::vector<std::uint8_t> body = std::move(mz);
  for (const auto &f : frames)
    body.insert(body.end(), f.begin(), f.end());
  out_meta = meta;
  return body;
}

// format_minor is the minor version a bundle with `meta` is written as.
std::uint32_t format_minor(const BundleMeta &meta) {
  return meta.supplement_of ? MINOR_SUPPLEMENT : 0;
}

} // namespace

namespace detail {

std::string bundle_trusted_comment(const BundleMeta &meta) {
  return "btfpack bundle " + meta.name + " version " +
         std::to_string(meta.version);
}

Result<std::vector<std::uint8_t>>
assemble_signed_bundle(std::span<const std::uint8_t> body,
                       std::uint64_t manifest_size,
                       const std::string &trusted_comment, const SecretKey &key,
                       std::uint32_t minor) {
  BTFPACK_TRY(sig, key.sign(body, trusted_comment));
  std::string pre = encode_preamble(sig.size(), manifest_size, minor);
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
  std::uint64_t msize = 0;
  BTFPACK_TRY(body, build_body(*impl_, meta, msize));
  return assemble_signed_bundle(body, msize, bundle_trusted_comment(meta), key,
                                format_minor(meta));
}

Result<std::vector<std::uint8_t>> BundleWriter::serialize_unsigned() const {
  BundleMeta meta;
  std::uint64_t msize = 0;
  BTFPACK_TRY(body, build_body(*impl_, meta, msize));
  std::string pre = encode_preamble(0, msize, format_minor(meta));
  body.insert(body.begin(), pre.begin(), pre.end());
  return body;
}

Result<void> BundleWriter::write(const std::filesystem::path &path,
                                 const SecretKey &key) const {
  BTFPACK_TRY(bytes, serialize(key));
  return write_file_atomic(path, bytes, Durability::file_and_dir, 0644);
}

} // namespace btfpack
