// SPDX-License-Identifier: Apache-2.0
//
// Bundle: opening is "untrusted until verified". Before the signature checks
// out, only the preamble line and the signature text are parsed; the body is
// hashed as opaque bytes, keeping its first line only. Everything read
// afterwards is checked against a digest that chains to the signature: the
// manifest against the sha256 in the signed body header, each blob (and each
// delta base) against the sha256 in the manifest. So a file changed after
// verification is caught, and nothing is allocated from an unchecked size
// that is not first bounded by a format limit and the file size.
#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "btfpack/btf_check.h"
#include "btfpack/bundle.h"
#include "btfpack/file_util.h"
#include "btfpack/kernel_release.h"
#include "btfpack/time_util.h"
#include "btfpack/unique_fd.h"
#include "bundle_format.h"
#include "crypto.h"

namespace btfpack {

bool object_serves(const BundleObject &o, std::string_view kernel_arch) {
  return o.arch.empty() || archive_arch(o.arch) == archive_arch(kernel_arch);
}

using namespace detail;

namespace {

// Source is where bundle bytes come from: a file (pread) or memory.
class Source {
public:
  virtual ~Source() = default;
  virtual Result<void> read(std::uint64_t off,
                            std::span<std::uint8_t> out) const = 0;
  // hash feeds bytes [off, off + n) to `h`, in 64 KiB reads.
  virtual Result<void> hash(std::uint64_t off, std::uint64_t n,
                            Blake2b512Stream &h) const {
    std::vector<std::uint8_t> buf(
        static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 16)));
    for (std::uint64_t done = 0; done < n;) {
      auto k = static_cast<std::size_t>(
          std::min<std::uint64_t>(buf.size(), n - done));
      BTFPACK_CHECK(read(off + done, std::span(buf.data(), k)));
      h.update(buf.data(), k);
      done += k;
    }
    return ok();
  }
  std::uint64_t size = 0;
  std::string name;
  const char *kind = "file"; // in messages: "file ends inside ..."
};

class FdSource : public Source {
public:
  UniqueFd fd;
  Result<void> read(std::uint64_t off,
                    std::span<std::uint8_t> out) const override {
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done,
                          static_cast<off_t>(off + done));
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return make_error(Errc::io,
                          "read " + name + ": " + errno_message(errno));
      }
      if (n == 0)
        return make_error(Errc::corrupt,
                          name + ": file shrank while being read");
      done += static_cast<std::size_t>(n);
    }
    return ok();
  }
};

// MemSource reads bytes in memory: its own copy (owned), or the caller's
// (a view, e.g. a bundle linked into the program), which must outlive it.
class MemSource : public Source {
public:
  std::vector<std::uint8_t> owned;
  std::span<const std::uint8_t> bytes;
  Result<void> read(std::uint64_t off,
                    std::span<std::uint8_t> out) const override {
    if (off > bytes.size() || out.size() > bytes.size() - off)
      return make_error(Errc::corrupt, name + ": read past the end");
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(off), out.size(),
                out.begin());
    return ok();
  }
  // hash reads the bytes in place: no copy.
  Result<void> hash(std::uint64_t off, std::uint64_t n,
                    Blake2b512Stream &h) const override {
    if (off > bytes.size() || n > bytes.size() - off)
      return make_error(Errc::corrupt, name + ": read past the end");
    h.update(bytes.data() + off, static_cast<std::size_t>(n));
    return ok();
  }
};

auto kernel_tuple(const ManifestKernel &k) {
  return std::tie(k.distro, k.version, k.arch, k.release);
}

} // namespace

struct Bundle::Impl {
  std::filesystem::path path;
  std::unique_ptr<Source> src;
  Preamble pre;
  std::uint64_t blobs_offset = 0;          // in the file
  std::vector<std::uint8_t> manifest_text; // decompressed; manifest views it
  Manifest manifest;
  KeyId signer{};
  bool verified = false;
  std::string manifest_hex;
  std::string trusted_comment;
  std::vector<std::uint32_t> by_digest; // blob indices sorted by digest

  // The manifest region as verified (the head frame, then the kernel chunk
  // frames of a chunked manifest, decoded on demand).
  std::vector<std::uint8_t> mz;
  std::uint64_t head_size = 0;
  struct Segment {
    std::vector<std::uint8_t> text;
    std::vector<ManifestKernel> kernels;
  };
  mutable std::mutex mu;
  mutable std::vector<std::optional<Segment>> segments;
  mutable std::once_flag entries_once;
  mutable std::vector<BundleEntry> entries;
  // Entries returned by find(): one lookup must not build all of them.
  mutable std::map<std::pair<std::size_t, std::size_t>, BundleEntry> found;

  std::size_t segment_count() const {
    return manifest.chunks.empty() ? 1 : manifest.chunks.size();
  }

  // segment returns the kernels of segment i (the head's, or chunk i's,
  // decompressed and checked once). Call with `mu` held.
  Result<const std::vector<ManifestKernel> *> segment(std::size_t i) const {
    if (manifest.chunks.empty())
      return &manifest.kernels;
    if (segments.empty())
      segments.resize(manifest.chunks.size());
    if (segments[i])
      return &segments[i]->kernels;
    const auto &c = manifest.chunks[i];
    std::string what = src->name + ": manifest chunk " + std::to_string(i);
    auto bytes = std::span<const std::uint8_t>(mz).subspan(
        static_cast<std::size_t>(head_size + c.offset),
        static_cast<std::size_t>(c.stored));
    BTFPACK_TRY(raw_size, zstd_frame_content_size(bytes, what));
    if (raw_size == 0 || raw_size > MAX_CHUNK_RAW)
      return make_error(Errc::corrupt, what + ": declares " +
                                           std::to_string(raw_size) +
                                           " bytes (limit " +
                                           std::to_string(MAX_CHUNK_RAW) + ")");
    Segment seg;
    BTFPACK_TRY(text, zstd_decompress(bytes, {}, raw_size, false, what));
    seg.text = std::move(text);
    const ManifestKernel *next = i + 1 < manifest.chunks.size()
                                     ? &manifest.chunks[i + 1].first
                                     : nullptr;
    BTFPACK_TRY(
        ks, parse_kernel_chunk(std::string_view(reinterpret_cast<const char *>(
                                                    seg.text.data()),
                                                seg.text.size()),
                               c, next, manifest.blobs.size(), src->name));
    seg.kernels = std::move(ks);
    segments[i] = std::move(seg);
    return &segments[i]->kernels;
  }

  BundleEntry make_entry(const ManifestKernel &k) const {
    return {KernelKey{std::string(k.distro), std::string(k.version),
                      std::string(k.arch), std::string(k.release)},
            manifest.blobs[k.blob].digest};
  }

  // all_entries: every kernel; a chunk that fails to decode contributes
  // none (verify_blobs() reports it).
  const std::vector<BundleEntry> &all_entries() const {
    std::call_once(entries_once, [this] {
      std::lock_guard lock(mu);
      for (std::size_t i = 0; i < segment_count(); i++)
        if (auto ks = segment(i); ks.ok())
          for (const auto &k : **ks)
            entries.push_back(make_entry(k));
    });
    return entries;
  }

  Result<std::vector<std::uint8_t>> read_stored(std::uint32_t i) const {
    const auto &b = manifest.blobs[i];
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(b.stored));
    BTFPACK_CHECK(src->read(blobs_offset + b.offset, buf));
    return buf;
  }

  // decode decompresses blob i given its dictionary (the raw content of its
  // delta chain, root first) and checks its digest: no blob, nor any part of
  // a dictionary, is used before it matches the manifest.
  Result<std::vector<std::uint8_t>>
  decode(std::uint32_t i, std::span<const std::uint8_t> dict) const {
    const auto &b = manifest.blobs[i];
    std::string what = src->name + ": blob " + to_hex(b.digest);
    BTFPACK_TRY(stored, read_stored(i));
    BTFPACK_TRY(raw, zstd_decompress(stored, dict, b.raw, true, what));
    if (sha256(raw) != b.digest)
      return make_error(Errc::digest_mismatch,
                        what + ": content does not match its manifest "
                               "digest (damaged or changed after "
                               "verification)");
    return raw;
  }
};

namespace {

// Body is the manifest region parsed: its text (which `manifest` views: move
// it, never copy it) and the head frame's size.
struct Body {
  std::vector<std::uint8_t> text;
  Manifest manifest;
  std::size_t head_size = 0;
};

// parse_body parses the manifest region `mz` (every size bounded) and checks
// it against the preamble and the blob region's size (body_size minus the
// manifest). Errc::corrupt names what is wrong; a blob region cut short is
// "truncated: <file|data> ends inside the blobs".
Result<Body> parse_body(const std::vector<std::uint8_t> &mz,
                        const Preamble &pre, std::uint64_t body_size,
                        const Source &src) {
  const std::string &name = src.name;
  auto corrupt = [&](const std::string &why) {
    return make_error(Errc::corrupt, name + ": " + why);
  };
  Body body;
  std::size_t head_size = ZSTD_findFrameCompressedSize(mz.data(), mz.size());
  if (ZSTD_isError(head_size))
    return corrupt("manifest: not a zstd frame (damaged or truncated)");
  auto head_frame = std::span<const std::uint8_t>(mz).subspan(0, head_size);
  BTFPACK_TRY(raw_size,
              zstd_frame_content_size(head_frame, name + ": manifest"));
  if (raw_size == 0 || raw_size > MAX_MANIFEST_RAW)
    return corrupt("manifest declares " + std::to_string(raw_size) +
                   " bytes (limit " + std::to_string(MAX_MANIFEST_RAW) + ")");
  BTFPACK_TRY(text, zstd_decompress(head_frame, {}, raw_size, false,
                                    name + ": manifest"));
  body.text = std::move(text);
  BTFPACK_TRY(m, parse_manifest(std::string_view(reinterpret_cast<const char *>(
                                                     body.text.data()),
                                                 body.text.size()),
                                name));
  std::uint64_t chunks_size =
      m.chunks.empty() ? 0 : m.chunks.back().offset + m.chunks.back().stored;
  if (head_size + chunks_size != pre.manifest_size)
    return corrupt("manifest frames do not fill the manifest region (" +
                   std::to_string(pre.manifest_size) + " bytes)");
  if (m.major != pre.major || m.minor != pre.minor)
    return corrupt("manifest format version " + std::to_string(m.major) + "." +
                   std::to_string(m.minor) + " differs from the preamble's " +
                   std::to_string(pre.major) + "." + std::to_string(pre.minor));
  std::uint64_t blobs_size = body_size - pre.manifest_size;
  std::uint64_t stored_total =
      m.blobs.empty() ? 0 : m.blobs.back().offset + m.blobs.back().stored;
  if (stored_total > blobs_size)
    return corrupt(std::string("truncated: ") + src.kind +
                   " ends inside the blobs: the manifest blob sizes (" +
                   std::to_string(stored_total) +
                   " bytes) do not match the blob region (" +
                   std::to_string(blobs_size) + " bytes; " +
                   std::to_string(src.size) + " bytes in all)");
  if (stored_total != blobs_size)
    return corrupt("manifest blob sizes (" + std::to_string(stored_total) +
                   " bytes) do not match the blob region (" +
                   std::to_string(blobs_size) + " bytes): extended or damaged");
  if (m.kernels.empty() && m.chunks.empty())
    return corrupt("manifest lists no kernel");
  body.manifest = std::move(m);
  body.head_size = head_size;
  return body;
}

Result<std::unique_ptr<Bundle::Impl>>
open_impl(std::unique_ptr<Source> src, std::span<const PublicKey> trusted,
          const OpenOptions &opts, bool check_signature) {
#ifdef BTFPACK_FUZZING
  // Fuzz builds only (fuzz/README.md): reach the parsers behind the
  // signature check.
  check_signature = false;
#endif
  auto impl = std::make_unique<Bundle::Impl>();
  const std::string &name = src->name;
  auto corrupt = [&](const std::string &why) {
    return make_error(Errc::corrupt, name + ": " + why);
  };

  // 1. Preamble and signature: all that is parsed before verification.
  std::vector<std::uint8_t> head(static_cast<std::size_t>(
      std::min<std::uint64_t>(src->size, MAX_PREAMBLE)));
  BTFPACK_CHECK(src->read(0, head));
  BTFPACK_TRY(pre,
              parse_preamble(
                  std::string_view(reinterpret_cast<const char *>(head.data()),
                                   head.size()),
                  name));
  if (pre.sig_size == 0 && check_signature)
    return make_error(Errc::bad_signature,
                      name + ": bundle is not signed (sign it with btfpack "
                             "sign)");
  std::uint64_t body_off = pre.length + pre.sig_size;
  if (body_off >= src->size)
    return corrupt(std::string("truncated: ") + src->kind +
                   " ends inside the signature (" + std::to_string(src->size) +
                   " bytes)");
  std::uint64_t body_size = src->size - body_off;
  if (pre.manifest_size > body_size)
    return corrupt(std::string("truncated: ") + src->kind +
                   " ends inside the manifest (" + std::to_string(src->size) +
                   " bytes)");
  std::string sig_text(static_cast<std::size_t>(pre.sig_size), '\0');
  BTFPACK_CHECK(src->read(
      pre.length,
      std::span<std::uint8_t>(reinterpret_cast<std::uint8_t *>(sig_text.data()),
                              sig_text.size())));
  std::optional<Signature> sig;
  if (pre.sig_size > 0) {
    auto s = Signature::parse(sig_text, name + " signature");
    if (!s.ok() && check_signature)
      return std::move(s).error();
    if (s.ok())
      sig = std::move(s).value();
    if (sig && !sig->prehashed && check_signature)
      return make_error(Errc::unsupported,
                        name + ": legacy \"Ed\" signature; bundles are "
                               "signed with prehashed \"ED\" signatures");
  }

  // 2. Hash the body as opaque bytes, keeping the manifest frame (its size
  // is bounded by the preamble parser and the file size): what is parsed
  // later is exactly what was hashed.
  Blake2b512Stream hash;
  std::vector<std::uint8_t> mz(static_cast<std::size_t>(pre.manifest_size));
  BTFPACK_CHECK(src->read(body_off, mz));
  hash.update(mz.data(), mz.size());
  BTFPACK_CHECK(src->hash(body_off + pre.manifest_size,
                          body_size - pre.manifest_size, hash));
  auto digest = hash.finish();
  if (check_signature) {
    auto key = verify_signature_prehashed(digest, *sig, trusted);
    if (!key) {
      // A bundle cut short fails its signature too: when the manifest (not
      // trusted, parsed with every size bounded, only to explain the
      // refusal) shows the blobs cut short, say truncated, as for any
      // other truncation.
      if (auto b = parse_body(mz, pre, body_size, *src);
          !b.ok() &&
          b.error().message.find(": truncated: ") != std::string::npos)
        return make_error(Errc::corrupt,
                          b.error().message +
                              "; the signature cannot verify it either");
      return with_context(std::move(key).error(), name);
    }
    impl->signer = key->id();
    impl->verified = true;
  }
  if (sig) {
    impl->trusted_comment = sig->trusted_comment;
    if (!check_signature)
      impl->signer = sig->key_id;
  }

  // 3. The signed body: the manifest (its head frame, then any kernel
  // chunk frames), then the blob frames.
  BTFPACK_TRY(body, parse_body(mz, pre, body_size, *src));
  impl->manifest_text = std::move(body.text); // the buffer manifest views
  Manifest m = std::move(body.manifest);
  std::size_t head_size = body.head_size;
  impl->manifest_hex = to_hex(sha256(mz));

  // 4. Validity window.
  std::int64_t now = opts.now != 0 ? opts.now : std::time(nullptr);
  if (m.meta.expires != 0 && now >= m.meta.expires && !opts.allow_expired)
    return make_error(Errc::expired,
                      name + ": bundle \"" + m.meta.name + "\" version " +
                          std::to_string(m.meta.version) + " expired at " +
                          iso8601_utc(m.meta.expires) + " (now " +
                          iso8601_utc(now) +
                          "); get a newer bundle, or allow expired bundles "
                          "explicitly (--allow-expired)");

  impl->pre = pre;
  impl->blobs_offset = body_off + pre.manifest_size;
  impl->manifest = std::move(m);
  impl->head_size = head_size;
  impl->mz = std::move(mz);
  impl->by_digest.resize(impl->manifest.blobs.size());
  for (std::uint32_t i = 0; i < impl->by_digest.size(); i++)
    impl->by_digest[i] = i;
  const auto &blobs = impl->manifest.blobs;
  std::sort(impl->by_digest.begin(), impl->by_digest.end(),
            [&](std::uint32_t a, std::uint32_t b) {
              return blobs[a].digest < blobs[b].digest;
            });
  impl->src = std::move(src);
  return impl;
}

Result<std::unique_ptr<Source>> file_source(const std::filesystem::path &path) {
  auto src = std::make_unique<FdSource>();
  src->name = path.string();
  auto fd = open_regular_file(path);
  if (!fd.ok())
    return make_error(fd.error().code, "bundle: " + fd.error().message);
  src->fd = std::move(*fd);
  struct stat st {};
  if (::fstat(src->fd.get(), &st) != 0)
    return make_error(Errc::io,
                      "stat " + path.string() + ": " + errno_message(errno));
  if (static_cast<std::uint64_t>(st.st_size) > MAX_FILE)
    return make_error(Errc::corrupt, path.string() + ": larger than the " +
                                         std::to_string(MAX_FILE) +
                                         "-byte bundle limit");
  src->size = static_cast<std::uint64_t>(st.st_size);
  return std::unique_ptr<Source>(std::move(src));
}

} // namespace

Bundle::Bundle() = default;
Bundle::~Bundle() = default;
Bundle::Bundle(Bundle &&) noexcept = default;
Bundle &Bundle::operator=(Bundle &&) noexcept = default;

Result<Bundle> Bundle::open(const std::filesystem::path &path,
                            std::span<const PublicKey> trusted,
                            const OpenOptions &opts) {
  if (trusted.empty())
    return make_error(Errc::invalid_argument,
                      "open bundle " + path.string() +
                          ": no trusted public key given (--key PUB)");
  BTFPACK_TRY(src, file_source(path));
  BTFPACK_TRY(impl, open_impl(std::move(src), trusted, opts, true));
  impl->path = path;
  Bundle b;
  b.impl_ = std::move(impl);
  return b;
}

Result<Bundle> Bundle::open_unverified(const std::filesystem::path &path,
                                       const OpenOptions &opts) {
  BTFPACK_TRY(src, file_source(path));
  BTFPACK_TRY(impl, open_impl(std::move(src), {}, opts, false));
  impl->path = path;
  Bundle b;
  b.impl_ = std::move(impl);
  return b;
}

namespace {
// open_mem is open() over a MemSource: the same verifier as a file.
Result<std::unique_ptr<Bundle::Impl>>
open_mem(std::unique_ptr<MemSource> src, std::span<const PublicKey> trusted,
         const OpenOptions &opts) {
  if (trusted.empty())
    return make_error(Errc::invalid_argument, "open bundle " + src->name +
                                                  ": no trusted public key "
                                                  "given");
  if (src->bytes.size() > MAX_FILE)
    return make_error(Errc::corrupt, src->name + ": larger than the " +
                                         std::to_string(MAX_FILE) +
                                         "-byte bundle limit");
  src->size = src->bytes.size();
  src->kind = "data";
  std::string name = src->name;
  BTFPACK_TRY(impl, open_impl(std::move(src), trusted, opts, true));
  impl->path = name;
  return impl;
}
} // namespace

Result<Bundle> Bundle::open_memory(std::vector<std::uint8_t> bytes,
                                   const std::string &name,
                                   std::span<const PublicKey> trusted,
                                   const OpenOptions &opts) {
  auto src = std::make_unique<MemSource>();
  src->name = name;
  src->owned = std::move(bytes);
  src->bytes = src->owned;
  BTFPACK_TRY(impl, open_mem(std::move(src), trusted, opts));
  Bundle b;
  b.impl_ = std::move(impl);
  return b;
}

Result<Bundle> Bundle::open_view(std::span<const std::uint8_t> bytes,
                                 const std::string &name,
                                 std::span<const PublicKey> trusted,
                                 const OpenOptions &opts) {
  auto src = std::make_unique<MemSource>();
  src->name = name;
  src->bytes = bytes;
  BTFPACK_TRY(impl, open_mem(std::move(src), trusted, opts));
  Bundle b;
  b.impl_ = std::move(impl);
  return b;
}

const std::filesystem::path &Bundle::path() const {
  return impl_->path;
}
const BundleMeta &Bundle::meta() const {
  return impl_->manifest.meta;
}
const std::vector<BundleEntry> &Bundle::entries() const {
  return impl_->all_entries();
}
const KeyId &Bundle::signer() const {
  return impl_->signer;
}
bool Bundle::verified() const {
  return impl_->verified;
}
const std::string &Bundle::manifest_sha256() const {
  return impl_->manifest_hex;
}
const std::string &Bundle::trusted_comment() const {
  return impl_->trusted_comment;
}

BundleStats Bundle::stats() const {
  BundleStats s;
  const auto &m = impl_->manifest;
  s.file_size = impl_->src->size;
  for (const auto &b : m.blobs) {
    s.raw_blob_bytes += b.raw;
    s.compressed_blob_bytes += b.stored;
  }
  {
    std::lock_guard lock(impl_->mu);
    for (std::size_t i = 0; i < impl_->segment_count(); i++)
      if (auto ks = impl_->segment(i); ks.ok())
        for (const auto &k : **ks)
          s.raw_entry_bytes += m.blobs[k.blob].raw;
  }
  s.format_major = impl_->pre.major;
  s.format_minor = impl_->pre.minor;
  s.manifest_bytes = impl_->pre.manifest_size;
  s.manifest_raw_bytes = impl_->manifest_text.size();
  std::size_t max_depth = 0;
  std::vector<std::size_t> depth(m.blobs.size(), 0);
  for (std::size_t i = 0; i < m.blobs.size(); i++) {
    if (m.blobs[i].base)
      depth[i] = depth[*m.blobs[i].base] + 1;
    max_depth = std::max(max_depth, depth[i]);
  }
  s.max_chain_depth = static_cast<std::uint32_t>(max_depth);
  s.entry_count = entry_count();
  s.blob_count = m.blobs.size();
  return s;
}

std::uint64_t Bundle::entry_count() const {
  const auto &m = impl_->manifest;
  std::uint64_t n = m.kernels.size();
  for (const auto &c : m.chunks)
    n += c.count;
  return n;
}

const BundleEntry *Bundle::find(const KernelKey &kernel) const {
  const auto &m = impl_->manifest;
  ManifestKernel probe{kernel.distro, kernel.version, kernel.arch,
                       kernel.release, 0};
  auto less = [](const ManifestKernel &a, const ManifestKernel &b) {
    return kernel_tuple(a) < kernel_tuple(b);
  };
  std::size_t seg = 0;
  if (!m.chunks.empty()) {
    // The last chunk whose first kernel is not after the one looked up.
    auto c =
        std::upper_bound(m.chunks.begin(), m.chunks.end(), probe,
                         [&](const ManifestKernel &p, const ManifestChunk &ch) {
                           return less(p, ch.first);
                         });
    if (c == m.chunks.begin())
      return nullptr;
    seg = static_cast<std::size_t>(c - m.chunks.begin()) - 1;
  }
  std::lock_guard lock(impl_->mu);
  auto ks = impl_->segment(seg);
  if (!ks)
    return nullptr; // a damaged chunk: verify_blobs() reports it
  auto it = std::lower_bound((*ks)->begin(), (*ks)->end(), probe, less);
  if (it == (*ks)->end() || kernel_tuple(*it) != kernel_tuple(probe))
    return nullptr;
  auto key = std::make_pair(seg, static_cast<std::size_t>(it - (*ks)->begin()));
  auto f = impl_->found.try_emplace(key, impl_->make_entry(*it)).first;
  return &f->second;
}

Result<std::vector<std::uint8_t>>
Bundle::read_blob(const Sha256 &digest) const {
  const auto &blobs = impl_->manifest.blobs;
  const auto &idx = impl_->by_digest;
  auto it = std::lower_bound(
      idx.begin(), idx.end(), digest,
      [&](std::uint32_t i, const Sha256 &d) { return blobs[i].digest < d; });
  if (it == idx.end() || blobs[*it].digest != digest)
    return make_error(Errc::not_found, impl_->src->name + ": blob " +
                                           to_hex(digest) +
                                           " is not in the bundle");
  // Decode the delta chain from its root (depth bounded by the manifest
  // parser), checking every link's digest.
  std::vector<std::uint32_t> chain;
  for (std::optional<std::uint32_t> i = *it; i; i = blobs[*i].base)
    chain.push_back(*i);
  std::vector<std::uint8_t> dict;
  for (std::size_t k = chain.size(); k-- > 1;) {
    BTFPACK_TRY(raw, impl_->decode(chain[k], dict));
    dict.insert(dict.end(), raw.begin(), raw.end());
  }
  return impl_->decode(chain[0], dict);
}

Result<void> Bundle::verify_blobs() const {
  const auto &blobs = impl_->manifest.blobs;
  {
    // Every kernel chunk decodes and checks out, and every blob is used.
    std::vector<bool> used(blobs.size(), false);
    std::lock_guard lock(impl_->mu);
    for (std::size_t i = 0; i < impl_->segment_count(); i++) {
      BTFPACK_TRY(ks, impl_->segment(i));
      for (const auto &k : *ks)
        used[k.blob] = true;
    }
    for (std::size_t i = 0; i < used.size(); i++)
      if (!used[i])
        return make_error(Errc::corrupt, impl_->src->name + ": blob " +
                                             std::to_string(i) +
                                             " is used by no kernel");
  }
  // Decode in file order (bases first), keeping a blob's content only while
  // a later blob's chain still needs it.
  std::vector<std::uint32_t> needed(blobs.size(), 0);
  for (const auto &b : blobs)
    for (auto c = b.base; c; c = blobs[*c].base)
      needed[*c]++;
  // What is kept is bounded too (MAX_CHAIN_RAW): a base that does not fit
  // is decoded again from its chain when a later blob needs it.
  std::map<std::uint32_t, std::vector<std::uint8_t>> live;
  std::uint64_t live_bytes = 0;
  for (std::uint32_t i = 0; i < blobs.size(); i++) {
    std::vector<std::uint32_t> chain;
    for (auto c = blobs[i].base; c; c = blobs[*c].base)
      chain.push_back(*c);
    std::vector<std::uint8_t> dict;
    for (auto c = chain.rbegin(); c != chain.rend(); ++c) {
      if (auto it = live.find(*c); it != live.end()) {
        dict.insert(dict.end(), it->second.begin(), it->second.end());
      } else {
        // dict holds exactly the chain below *c: decode *c against it.
        BTFPACK_TRY(raw, impl_->decode(*c, dict));
        dict.insert(dict.end(), raw.begin(), raw.end());
      }
    }
    BTFPACK_TRY(raw, impl_->decode(i, dict));
    // Verified means usable: the structure check resolve applies before
    // libbpf sees a blob (type ids, string offsets, header).
    if (auto chk = check_btf(raw, impl_->src->name + ": blob " +
                                      to_hex(blobs[i].digest));
        !chk.ok())
      return make_error(chk.error().code,
                        chk.error().message +
                            " (resolve would refuse this blob)");
    for (auto c : chain)
      if (--needed[c] == 0) {
        if (auto it = live.find(c); it != live.end()) {
          live_bytes -= it->second.size();
          live.erase(it);
        }
      }
    if (needed[i] > 0 && live_bytes + raw.size() <= MAX_CHAIN_RAW) {
      live_bytes += raw.size();
      live.emplace(i, std::move(raw));
    }
  }
  return ok();
}

Result<void> resign_bundle(const std::filesystem::path &path,
                           const SecretKey &key) {
  BTFPACK_TRY(bytes, read_file(path, MAX_FILE));
  auto src = std::make_unique<MemSource>();
  src->name = path.string();
  src->size = bytes.size();
  src->bytes = bytes;
  src->kind = "data";
  BTFPACK_TRY(impl, open_impl(std::move(src), {}, OpenOptions{true, 0}, false));
  Bundle b;
  b.impl_ = std::move(impl);
  BTFPACK_CHECK(b.verify_blobs());
  const auto &pre = b.impl_->pre;
  auto body = std::span<const std::uint8_t>(bytes).subspan(
      static_cast<std::size_t>(pre.length + pre.sig_size));
  BTFPACK_TRY(out, assemble_signed_bundle(body, pre.manifest_size,
                                          bundle_trusted_comment(b.meta()), key,
                                          pre.minor));
  return write_file_atomic(path, out, Durability::file_and_dir, 0644);
}

} // namespace btfpack
