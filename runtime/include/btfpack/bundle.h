// SPDX-License-Identifier: Apache-2.0
//
// The bundle: one signed file holding minimized BTFs for many kernels
// (docs/bundle-format.md). BundleWriter packs and signs; Bundle opens a file,
// verifies its signature before parsing anything else, and then gives random
// access to one kernel's BTF (one blob decompressed, its sha256 checked
// against the signed manifest).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/keys.h"
#include "btfpack/result.h"
#include "btfpack/sha256.h"

namespace btfpack {

// KernelKey names one kernel as the archive does.
struct KernelKey {
  std::string distro, version, arch, release;
  auto operator<=>(const KernelKey &) const = default;
};

// BundleEntry maps a kernel to the sha256 of its (uncompressed) minimized BTF.
struct BundleEntry {
  KernelKey kernel;
  Sha256 blob{};
};

// BundleObject is one BPF object the bundle was minimized for.
struct BundleObject {
  std::string name; // file name, e.g. "exec.bpf.o"
  Sha256 digest{};  // sha256 of the object file
  std::string arch; // "x86_64", "arm64", or empty when unknown
};

// object_serves tells whether `o` is one of the objects a kernel of
// `kernel_arch` was minimized with: gen uses, for each kernel, exactly the
// objects of its arch (aliases such as aarch64/arm64 mapped) plus the
// arch-neutral ones (empty arch). docs/bundle-format.md, "Which objects
// served a kernel".
bool object_serves(const BundleObject &o, std::string_view kernel_arch);

// SupplementOf names the base bundle a supplement adds kernels to
// (format 1.1, docs/bundle-format.md "Supplements"): its name, version and
// the sha256 of its manifest region (Bundle::manifest_sha256()).
struct SupplementOf {
  std::string name;
  std::uint64_t version = 0;
  Sha256 base_manifest{};
  bool operator==(const SupplementOf &) const = default;
};

// BundleMeta is what the manifest records besides the entries.
struct BundleMeta {
  std::string name;             // e.g. "my-agent"
  std::uint64_t version = 0;    // monotonically increasing bundle version
  std::int64_t created = 0;     // unix seconds as given (0: none)
  std::int64_t expires = 0;     // unix seconds; 0 = never
  std::string btfpack_version;  // writer's version
  std::string bpftool_version;  // "v7.1.0"
  std::string archive_snapshot; // e.g. archive index sha256 or git commit
  std::vector<BundleObject> objects;
  // supplement_of: set for a supplement bundle (written as format 1.1);
  // ordinary bundles leave it empty and are written as format 1.0.
  std::optional<SupplementOf> supplement_of;
};

// BundleWriter collects entries and blobs, then writes one signed bundle.
// Output is reproducible: entries and blobs are sorted, nothing depends on
// the clock or insertion order.
class BundleWriter {
public:
  explicit BundleWriter(BundleMeta meta);
  ~BundleWriter();
  BundleWriter(BundleWriter &&) noexcept;
  BundleWriter &operator=(BundleWriter &&) noexcept;

  // add records kernel -> btf; identical BTFs are stored once. Adding the
  // same kernel twice with different content is Errc::invalid_argument.
  Result<void> add(const KernelKey &kernel, std::span<const std::uint8_t> btf);
  std::size_t entry_count() const;
  std::size_t blob_count() const;

  // serialize builds and signs the bundle bytes.
  Result<std::vector<std::uint8_t>> serialize(const SecretKey &key) const;
  // serialize_unsigned builds a bundle without a signature (signature size
  // 0), e.g. for signing elsewhere with `btfpack sign`. Bundle::open refuses
  // it until it is signed.
  Result<std::vector<std::uint8_t>> serialize_unsigned() const;
  // write serializes and writes `path` atomically.
  Result<void> write(const std::filesystem::path &path,
                     const SecretKey &key) const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

struct OpenOptions {
  bool allow_expired = false;
  std::int64_t now = 0; // 0: the clock; tests set it
};

// BundleStats summarises sizes for inspect.
struct BundleStats {
  std::uint64_t file_size = 0;
  std::uint64_t raw_blob_bytes = 0;        // sum of unique blobs, uncompressed
  std::uint64_t compressed_blob_bytes = 0; // as stored
  std::uint64_t raw_entry_bytes = 0;       // sum over entries (before dedup)
  std::uint32_t format_major = 0, format_minor = 0;
  std::uint64_t manifest_bytes = 0;     // compressed, as stored
  std::uint64_t manifest_raw_bytes = 0; // decompressed text
  std::uint32_t max_chain_depth = 0;    // longest delta chain (0: none)
  std::uint64_t entry_count = 0, blob_count = 0;
};

// Bundle is an opened, signature-verified bundle.
class Bundle {
public:
  // open verifies the signature against `trusted` (at least one key) before
  // parsing the manifest; every size is bounded before allocation. Errors:
  // Errc::corrupt (malformed/truncated, naming the part), Errc::bad_signature,
  // Errc::unsupported (newer major format version), Errc::expired.
  static Result<Bundle> open(const std::filesystem::path &path,
                             std::span<const PublicKey> trusted,
                             const OpenOptions &opts = {});
  // open_memory is open() for bundle bytes already in memory (`name` is
  // used in messages).
  static Result<Bundle> open_memory(std::vector<std::uint8_t> bytes,
                                    const std::string &name,
                                    std::span<const PublicKey> trusted,
                                    const OpenOptions &opts = {});
  // open_view is open_memory() without the copy: `bytes` (e.g. a bundle
  // linked into the program by btfpack_embed_bundle) must stay valid as
  // long as the Bundle. Same verifier, same errors as open().
  static Result<Bundle> open_view(std::span<const std::uint8_t> bytes,
                                  const std::string &name,
                                  std::span<const PublicKey> trusted,
                                  const OpenOptions &opts = {});
  // open_unverified parses a bundle WITHOUT checking its signature, for
  // display only (`btfpack inspect` without --key): verified() is false and
  // signer() is the key id the signature claims. Sizes are bounded as in
  // open(); blobs are still checked against the (unverified) manifest.
  static Result<Bundle> open_unverified(const std::filesystem::path &path,
                                        const OpenOptions &opts = {});
  ~Bundle();
  Bundle(Bundle &&) noexcept;
  Bundle &operator=(Bundle &&) noexcept;

  const std::filesystem::path &path() const;
  const BundleMeta &meta() const;
  const std::vector<BundleEntry> &entries() const; // sorted by kernel
  const KeyId &signer() const;
  bool verified() const;
  // stats() decodes every kernel chunk (for raw_entry_bytes);
  // entry_count() is stats().entry_count from the manifest head alone.
  BundleStats stats() const;
  std::uint64_t entry_count() const;
  const std::string &manifest_sha256() const; // hex, identifies the bundle
  // trusted_comment is the signature's (verified) trusted comment.
  const std::string &trusted_comment() const;

  // find returns the entry for exactly this kernel, or nullptr.
  const BundleEntry *find(const KernelKey &kernel) const;
  // read_blob decompresses one blob and checks its sha256 against the
  // manifest (Errc::digest_mismatch, Errc::corrupt). A blob stored as a
  // delta also decodes (and checks) the few blobs of its delta chain (at
  // most 32, 12 as written); no other blob is touched.
  Result<std::vector<std::uint8_t>> read_blob(const Sha256 &digest) const;
  // verify_blobs checks every blob (what `btfpack verify` does).
  Result<void> verify_blobs() const;

  struct Impl;

private:
  friend Result<void> resign_bundle(const std::filesystem::path &path,
                                    const SecretKey &key);
  Bundle();
  std::unique_ptr<Impl> impl_;
};

// resign_bundle (re)signs the bundle at `path` with `key`, replacing its
// signature (or adding one to an unsigned bundle) atomically. The old
// signature is not checked, but the body is: header, manifest and every blob
// digest, since signing endorses it. Errors as Bundle::open.
Result<void> resign_bundle(const std::filesystem::path &path,
                           const SecretKey &key);

} // namespace btfpack
