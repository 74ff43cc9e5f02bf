// SPDX-License-Identifier: Apache-2.0
//
// The bundle's on-disk layout (docs/bundle-format.md), shared by the writer
// and the reader: constants, limits, the manifest model and its text form,
// and the zstd helpers. Private to runtime/.
#pragma once

#ifndef ZSTD_STATIC_LINKING_ONLY
#define ZSTD_STATIC_LINKING_ONLY // ZSTD_f_zstd1_magicless (since zstd 1.3.4)
#endif

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btfpack/bundle.h"
#include "btfpack/result.h"
#include "btfpack/sha256.h"

namespace btfpack::detail {

// Format version written by this code. Readers accept any minor of their
// major and refuse a newer major (docs/bundle-format.md "Compatibility").
// FORMAT_MINOR is the newest minor version this code reads; writers write
// the oldest that can express the bundle: 1.0, or 1.1 for a supplement
// (the "supplement_of" line).
constexpr std::uint32_t FORMAT_MAJOR = 1;
constexpr std::uint32_t FORMAT_MINOR = 1;
constexpr std::uint32_t MINOR_SUPPLEMENT = 1;

constexpr std::string_view PREAMBLE_MAGIC = "BTFPACK";
constexpr std::string_view BODY_MAGIC = "BTFPACK-BODY";
constexpr std::string_view MANIFEST_MAGIC = "btfpack-manifest";

// Limits: every size and count read from a bundle is checked against these
// before anything is allocated for it.
constexpr std::size_t MAX_PREAMBLE = 64;     // first line, with its newline
constexpr std::size_t MAX_SIGNATURE = 10240; // minisign signature text
constexpr std::uint64_t MAX_FILE = 4ull << 30;
constexpr std::uint64_t MAX_MANIFEST_STORED = 64ull << 20;
constexpr std::uint64_t MAX_MANIFEST_RAW = 256ull << 20;
constexpr std::uint64_t MAX_BLOB_RAW = 256ull << 20;
constexpr std::size_t MAX_KERNELS = 4'000'000;
constexpr std::size_t MAX_BLOBS = 1'000'000;
constexpr std::size_t MAX_OBJECTS = 65536;
constexpr std::size_t MAX_FIELD = 255;      // one string field, in bytes
constexpr std::size_t MAX_CHAIN_DEPTH = 32; // reader's limit
// The raw sizes of a blob and every base down its delta chain, summed: what
// decoding one blob may decompress (and hold) at most.
constexpr std::uint64_t MAX_CHAIN_RAW = 256ull << 20;
constexpr std::size_t WRITER_CHAIN_DEPTH = 12;

// ManifestBlob is one stored blob: its sha256 (of the raw BTF), its stored
// (zstd frame) and raw sizes, and the earlier blob whose raw content is the
// zstd dictionary it was compressed with (none for a self-contained frame).
struct ManifestBlob {
  Sha256 digest{};
  std::uint64_t stored = 0;
  std::uint64_t raw = 0;
  std::optional<std::uint32_t> base;
  std::uint64_t offset = 0; // within the blob region (derived)
};

// ManifestKernel refers to fields of the manifest text (string_views into
// the decompressed manifest, which must outlive them).
struct ManifestKernel {
  std::string_view distro, version, arch, release;
  std::uint32_t blob = 0;
};

// ManifestChunk describes one frame of kernel lines of a chunked manifest:
// its stored (zstd) size, how many kernel lines it holds and its first
// kernel. `offset` is derived: where the frame starts in the manifest region.
struct ManifestChunk {
  std::uint64_t stored = 0;
  std::uint32_t count = 0;
  ManifestKernel first; // blob unused
  std::uint64_t offset = 0;
};

struct Manifest {
  std::uint32_t major = FORMAT_MAJOR, minor = 0;
  BundleMeta meta;
  std::vector<ManifestBlob> blobs;     // file order; bases come first
  std::vector<ManifestChunk> chunks;   // empty: kernels are in the head
  std::vector<ManifestKernel> kernels; // strictly sorted (head kernels)
};

// Manifests of more kernels than this are chunked: the head frame lists
// the chunks, each further frame holds this many kernel lines (the last one
// fewer), so one lookup decompresses the head and one chunk only.
constexpr std::uint32_t CHUNK_KERNELS = 1024;
constexpr std::uint32_t MAX_CHUNK_KERNELS = 1u << 20;
constexpr std::uint64_t MAX_CHUNK_RAW = 64ull << 20;

// encode_kernel_lines writes "kernel\t..." lines.
std::string encode_kernel_lines(std::span<const ManifestKernel> kernels);
// parse_kernel_chunk parses the kernel lines of one chunk: exactly
// chunk.count lines, the first equal to chunk.first, strictly sorted, all
// before `next_first` (the next chunk's first kernel, if any), blob indices
// below blob_count. `text` must outlive the result.
Result<std::vector<ManifestKernel>>
parse_kernel_chunk(std::string_view text, const ManifestChunk &chunk,
                   const ManifestKernel *next_first, std::size_t blob_count,
                   std::string_view name);

// valid_field reports whether s may appear as a manifest field: 1..255
// printable ASCII bytes without tab (spaces allowed only when `spaces`).
bool valid_field(std::string_view s, bool spaces, bool allow_empty);

// encode_manifest writes the manifest (head) text: meta, objects, blobs,
// chunk lines, and m.kernels. kernels' string_views may point anywhere.
std::string encode_manifest(const Manifest &m);

// parse_manifest parses and checks a manifest head text (order,
// uniqueness, bounds, references, chain depth). Without chunk lines it holds
// the kernel lines too, and every blob must be used by one of them. `text`
// must outlive the result.
Result<Manifest> parse_manifest(std::string_view text, std::string_view name);

// Preamble line: "BTFPACK <major>.<minor> <signature_size>
// <manifest_size>\n". It is not signed: it only says where the signature
// ends and how many leading bytes of the body (the manifest frame) the reader
// keeps while hashing; a wrong value makes the split, and so the checks that
// follow, fail.
struct Preamble {
  std::uint32_t major = 0, minor = 0;
  std::uint64_t sig_size = 0;
  std::uint64_t manifest_size = 0;
  std::size_t length = 0; // of the line, with its newline
};
std::string encode_preamble(std::uint64_t sig_size, std::uint64_t manifest_size,
                            std::uint32_t minor = 0);
// parse_preamble refuses a newer major version with Errc::unsupported.
Result<Preamble> parse_preamble(std::string_view data, std::string_view name);

// The 4-byte zstd frame magic that blob frames omit (zstd's magicless
// format); `zstd -d` reads a blob once it is put back in front.
constexpr std::uint8_t ZSTD_FRAME_MAGIC[4] = {0x28, 0xB5, 0x2F, 0xFD};

// zstd helpers. A dictionary is raw content (the blob's delta chain).
// `magicless` selects zstd's magicless frame format (blob frames).
Result<std::vector<std::uint8_t>>
zstd_compress(std::span<const std::uint8_t> src,
              std::span<const std::uint8_t> dict, int level, bool magicless);
// zstd_decompress requires exactly one frame filling `src` whose content is
// exactly `raw_size` bytes (bounded by the caller before this allocates).
Result<std::vector<std::uint8_t>>
zstd_decompress(std::span<const std::uint8_t> src,
                std::span<const std::uint8_t> dict, std::uint64_t raw_size,
                bool magicless, const std::string &what);
// zstd_frame_content_size returns the declared content size of the
// (standard, with magic) frame at the start of src.
Result<std::uint64_t> zstd_frame_content_size(std::span<const std::uint8_t> src,
                                              const std::string &what);

// bundle_trusted_comment is the signature's trusted comment for a bundle:
// "btfpack bundle <name> version <n>".
std::string bundle_trusted_comment(const BundleMeta &meta);
// assemble_signed_bundle signs `body` and returns preamble + signature +
// body.
// `minor` is the format's minor version (the manifest's).
Result<std::vector<std::uint8_t>>
assemble_signed_bundle(std::span<const std::uint8_t> body,
                       std::uint64_t manifest_size,
                       const std::string &trusted_comment, const SecretKey &key,
                       std::uint32_t minor = 0);

// parse_u64 accepts canonical decimal (no sign, no leading zero).
std::optional<std::uint64_t> parse_u64(std::string_view s);

} // namespace btfpack::detail
