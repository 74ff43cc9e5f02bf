// SPDX-License-Identifier: Apache-2.0
#include "bundle_format.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <zstd.h>

#include "btfpack/c_free.h"

namespace btfpack::detail {

namespace {

using CCtxPtr = CHandle<ZSTD_CCtx, ZSTD_freeCCtx>;
using DCtxPtr = CHandle<ZSTD_DCtx, ZSTD_freeDCtx>;

// Fields is a line split at TABs without allocating: at most N fields are
// kept; `count` is the true number (so callers can reject extra fields).
template <std::size_t N> struct Fields {
  std::array<std::string_view, N> f;
  std::size_t count = 0;
  std::size_t size() const { return count; }
  std::string_view operator[](std::size_t i) const { return f[i]; }
};

template <std::size_t N> Fields<N> split_fields(std::string_view s, char sep) {
  Fields<N> out;
  for (;;) {
    auto p = s.find(sep);
    if (out.count < N)
      out.f[out.count] = s.substr(0, p);
    out.count++;
    if (p == std::string_view::npos)
      return out;
    s.remove_prefix(p + 1);
  }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos)
      return out;
    s.remove_prefix(p + 1);
  }
}

// parse_version reads "<major>.<minor>" (each 1..3 canonical digits).
bool parse_version(std::string_view s, std::uint32_t &major,
                   std::uint32_t &minor) {
  auto dot = s.find('.');
  if (dot == std::string_view::npos || dot > 3 || s.size() - dot - 1 > 3)
    return false;
  auto a = parse_u64(s.substr(0, dot));
  auto b = parse_u64(s.substr(dot + 1));
  if (!a || !b)
    return false;
  major = static_cast<std::uint32_t>(*a);
  minor = static_cast<std::uint32_t>(*b);
  return true;
}

std::string version_string(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

Error newer_major(std::string_view name, std::uint32_t major,
                  std::uint32_t minor) {
  return make_error(
      Errc::unsupported,
      std::string(name) + ": bundle format " + version_string(major, minor) +
          " is newer than this btfpack reads (" + std::to_string(FORMAT_MAJOR) +
          ".x): upgrade btfpack to read it");
}

} // namespace

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0'))
    return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

bool valid_field(std::string_view s, bool spaces, bool allow_empty) {
  if (s.size() > MAX_FIELD || (s.empty() && !allow_empty))
    return false;
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e || (c == ' ' && !spaces))
      return false;
  return true;
}

std::string encode_manifest(const Manifest &m) {
  const auto &meta = m.meta;
  std::string out;
  out.reserve(64 + m.blobs.size() * 90 + m.kernels.size() * 64);
  out += std::string(MANIFEST_MAGIC) + " " + version_string(m.major, m.minor) +
         "\n";
  out += "name\t" + meta.name + "\n";
  out += "version\t" + std::to_string(meta.version) + "\n";
  out += "created\t" + std::to_string(meta.created) + "\n";
  out += "expires\t" + std::to_string(meta.expires) + "\n";
  out += "btfpack\t" + meta.btfpack_version + "\n";
  out += "bpftool\t" + meta.bpftool_version + "\n";
  out += "snapshot\t" + meta.archive_snapshot + "\n";
  if (meta.supplement_of)
    out += "supplement_of\t" + meta.supplement_of->name + "\t" +
           std::to_string(meta.supplement_of->version) + "\t" +
           to_hex(meta.supplement_of->base_manifest) + "\n";
  for (const auto &o : meta.objects)
    out += "object\t" + o.name + "\t" + (o.arch.empty() ? "-" : o.arch) + "\t" +
           to_hex(o.digest) + "\n";
  for (const auto &b : m.blobs)
    out += "blob\t" + to_hex(b.digest) + "\t" + std::to_string(b.stored) +
           "\t" + std::to_string(b.raw) + "\t" +
           (b.base ? std::to_string(*b.base) : "-") + "\n";
  for (const auto &c : m.chunks) {
    out += "chunk\t" + std::to_string(c.stored) + "\t" +
           std::to_string(c.count) + "\t";
    out += c.first.distro;
    out += '\t';
    out += c.first.version;
    out += '\t';
    out += c.first.arch;
    out += '\t';
    out += c.first.release;
    out += '\n';
  }
  out += encode_kernel_lines(m.kernels);
  return out;
}

std::string encode_kernel_lines(std::span<const ManifestKernel> kernels) {
  std::string out;
  out.reserve(kernels.size() * 56);
  for (const auto &k : kernels) {
    out += "kernel\t";
    out += k.distro;
    out += '\t';
    out += k.version;
    out += '\t';
    out += k.arch;
    out += '\t';
    out += k.release;
    out += '\t';
    out += std::to_string(k.blob);
    out += '\n';
  }
  return out;
}

namespace {

// parse_supplement_of reads "supplement_of\t<name>\t<version>\t<sha256>"
// (format 1.1): once, before any object, blob or kernel line.
template <typename F, typename Bad>
Result<void> parse_supplement_of(const F &f, Manifest &m, const Bad &bad) {
  if (m.meta.supplement_of)
    return bad("\"supplement_of\" listed twice");
  if (!m.meta.objects.empty() || !m.blobs.empty() || !m.kernels.empty())
    return bad("\"supplement_of\" after \"object\", \"blob\" or "
               "\"kernel\" lines");
  if (f.size() != 4)
    return bad("expected \"supplement_of\t<name>\t<version>\t<sha256>\"");
  if (!valid_field(f[1], true, false))
    return bad("\"supplement_of\" names an invalid bundle name");
  auto v = parse_u64(f[2]);
  if (!v || *v > (std::uint64_t{1} << 62))
    return bad("\"supplement_of\" version is not a number");
  auto d = parse_sha256_hex(f[3]);
  if (!d || to_hex(*d) != f[3])
    return bad("\"supplement_of\" digest is not 64 lowercase hex digits");
  m.meta.supplement_of = SupplementOf{std::string(f[1]), *v, *d};
  return ok();
}

auto ktuple(const ManifestKernel &k) {
  return std::tie(k.distro, k.version, k.arch, k.release);
}

// parse_kernel_line parses one "kernel\t..." line (the hot loop of a large
// manifest: one pass over the line finds the TABs and checks every byte).
Result<ManifestKernel> parse_kernel_line(std::string_view line,
                                         std::size_t blob_count,
                                         const std::string &where) {
  auto bad = [&](const std::string &why) {
    return make_error(Errc::corrupt, where + ": " + why);
  };
  if (!line.starts_with("kernel\t"))
    return bad("expected a \"kernel\" line");
  std::string_view fl[5];
  std::size_t nf = 0, start = 7;
  bool printable = true;
  for (std::size_t i = 7; i < line.size(); i++) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == '\t') {
      if (nf == 4) {
        nf = 6; // too many fields
        break;
      }
      fl[nf++] = line.substr(start, i - start);
      start = i + 1;
    } else {
      printable = printable && c >= 0x21 && c <= 0x7e;
    }
  }
  if (nf == 4)
    fl[nf++] = line.substr(start);
  if (nf != 5)
    return bad("expected \"kernel\t<distro>\t<version>\t<arch>\t"
               "<release>\t<blob>\"");
  for (int i = 0; i < 4; i++)
    if (!printable || fl[i].empty() || fl[i].size() > MAX_FIELD)
      return bad("invalid kernel field \"" + std::string(fl[i].substr(0, 64)) +
                 "\"");
  auto blob = parse_u64(fl[4]);
  if (!blob || *blob >= blob_count)
    return bad("kernel names a blob that is not in the bundle");
  return ManifestKernel{fl[0], fl[1], fl[2], fl[3],
                        static_cast<std::uint32_t>(*blob)};
}

} // namespace

Result<std::vector<ManifestKernel>>
parse_kernel_chunk(std::string_view text, const ManifestChunk &chunk,
                   const ManifestKernel *next_first, std::size_t blob_count,
                   std::string_view name) {
  std::string where = std::string(name) + ": kernel chunk starting at " +
                      std::string(chunk.first.release);
  if (text.empty() || text.back() != '\n')
    return make_error(Errc::corrupt, where + ": empty or no final newline");
  std::vector<ManifestKernel> out;
  out.reserve(chunk.count);
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (out.size() >= chunk.count)
      return make_error(Errc::corrupt, where + ": more kernel lines than the " +
                                           std::to_string(chunk.count) +
                                           " announced");
    BTFPACK_TRY(
        k, parse_kernel_line(text.substr(pos, nl - pos), blob_count, where));
    if (out.empty() ? ktuple(k) != ktuple(chunk.first)
                    : ktuple(out.back()) >= ktuple(k))
      return make_error(Errc::corrupt,
                        where + ": kernels not strictly sorted, or the first "
                                "is not the one the chunk line names");
    out.push_back(k);
    pos = nl + 1;
  }
  if (out.size() != chunk.count)
    return make_error(Errc::corrupt, where + ": fewer kernel lines than the " +
                                         std::to_string(chunk.count) +
                                         " announced");
  if (next_first && ktuple(out.back()) >= ktuple(*next_first))
    return make_error(Errc::corrupt,
                      where + ": overlaps the next chunk (not sorted)");
  return out;
}

Result<Manifest> parse_manifest(std::string_view text, std::string_view name) {
  std::string n(name);
  std::size_t line_no = 0;
  auto bad = [&](const std::string &why) {
    return make_error(Errc::corrupt, n + ": manifest line " +
                                         std::to_string(line_no) + ": " + why);
  };
  if (text.empty() || text.back() != '\n')
    return make_error(Errc::corrupt,
                      n + ": manifest is empty or lacks its final newline");
  text.remove_suffix(1);
  Manifest m;
  std::vector<std::uint32_t> depth;
  std::vector<std::uint64_t> chain_total; // raw bytes of each blob's chain
  std::vector<bool> used;
  std::size_t pos = 0;
  auto next_line = [&](std::string_view &line) {
    if (pos > text.size())
      return false;
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      nl = text.size();
    line = text.substr(pos, nl - pos);
    pos = nl + 1;
    line_no++;
    return true;
  };
  std::string_view line;
  if (!next_line(line) || !line.starts_with(MANIFEST_MAGIC) ||
      line.size() <= MANIFEST_MAGIC.size() ||
      line[MANIFEST_MAGIC.size()] != ' ' ||
      !parse_version(line.substr(MANIFEST_MAGIC.size() + 1), m.major, m.minor))
    return bad("expected \"btfpack-manifest <major>.<minor>\"");
  if (m.major != FORMAT_MAJOR)
    return bad("manifest version " + version_string(m.major, m.minor) +
               " does not match the bundle's");

  auto meta_line = [&](std::string_view key, bool number, std::string *str_out,
                       std::uint64_t *num_out) -> Result<void> {
    if (!next_line(line))
      return bad("missing \"" + std::string(key) + "\" line");
    auto f = split_fields<2>(line, '\t');
    if (f.size() != 2 || f[0] != key)
      return bad("expected \"" + std::string(key) + "\t<value>\"");
    if (number) {
      auto v = parse_u64(f[1]);
      if (!v || *v > (std::uint64_t{1} << 62))
        return bad("\"" + std::string(key) + "\" is not a number");
      *num_out = *v;
    } else {
      if (!valid_field(f[1], true, key != "name"))
        return bad("\"" + std::string(key) +
                   "\" holds control characters or is too long or empty");
      *str_out = std::string(f[1]);
    }
    return ok();
  };
  std::uint64_t created = 0, expires = 0;
  BTFPACK_CHECK(meta_line("name", false, &m.meta.name, nullptr));
  BTFPACK_CHECK(meta_line("version", true, nullptr, &m.meta.version));
  BTFPACK_CHECK(meta_line("created", true, nullptr, &created));
  BTFPACK_CHECK(meta_line("expires", true, nullptr, &expires));
  BTFPACK_CHECK(meta_line("btfpack", false, &m.meta.btfpack_version, nullptr));
  BTFPACK_CHECK(meta_line("bpftool", false, &m.meta.bpftool_version, nullptr));
  BTFPACK_CHECK(
      meta_line("snapshot", false, &m.meta.archive_snapshot, nullptr));
  m.meta.created = static_cast<std::int64_t>(created);
  m.meta.expires = static_cast<std::int64_t>(expires);

  std::uint64_t offset = 0;
  std::uint64_t chunk_kernels = 0;
  // (pos is past the end when the metadata lines are all there is: found
  // by the bundle_manifest fuzz target.)
  if (pos <= text.size())
    m.kernels.reserve(std::min<std::size_t>(
        MAX_KERNELS, static_cast<std::size_t>(std::count(
                         text.begin() + static_cast<std::ptrdiff_t>(pos),
                         text.end(), '\n')) +
                         1));
  while (next_line(line)) {
    auto f = line.starts_with("kernel\t") ? Fields<6>{{"kernel"}, 1}
                                          : split_fields<6>(line, '\t');
    if (f[0] == "supplement_of" && m.minor >= MINOR_SUPPLEMENT) {
      BTFPACK_CHECK(parse_supplement_of(f, m, bad));
    } else if (f[0] == "object") {
      if (!m.blobs.empty() || !m.kernels.empty())
        return bad("\"object\" after \"blob\" or \"kernel\" lines");
      if (f.size() != 4)
        return bad("expected \"object\t<name>\t<arch>\t<sha256>\"");
      if (m.meta.objects.size() >= MAX_OBJECTS)
        return bad("more than " + std::to_string(MAX_OBJECTS) + " objects");
      BundleObject o;
      if (!valid_field(f[1], false, false) || !valid_field(f[2], false, false))
        return bad("invalid object name or arch");
      auto d = parse_sha256_hex(f[3]);
      if (!d || to_hex(*d) != f[3])
        return bad("object digest is not 64 lowercase hex digits");
      o.name = std::string(f[1]);
      o.arch = f[2] == "-" ? std::string() : std::string(f[2]);
      o.digest = *d;
      if (!m.meta.objects.empty()) {
        const auto &p = m.meta.objects.back();
        if (std::tie(p.name, p.digest, p.arch) >=
            std::tie(o.name, o.digest, o.arch))
          return bad("objects not strictly sorted by name");
      }
      m.meta.objects.push_back(std::move(o));
    } else if (f[0] == "blob") {
      if (!m.kernels.empty())
        return bad("\"blob\" after \"kernel\" lines");
      if (f.size() != 5)
        return bad("expected \"blob\t<sha256>\t<stored>\t<raw>\t<base>\"");
      if (m.blobs.size() >= MAX_BLOBS)
        return bad("more than " + std::to_string(MAX_BLOBS) + " blobs");
      ManifestBlob b;
      auto d = parse_sha256_hex(f[1]);
      if (!d || to_hex(*d) != f[1])
        return bad("blob digest is not 64 lowercase hex digits");
      b.digest = *d;
      auto stored = parse_u64(f[2]);
      auto raw = parse_u64(f[3]);
      if (!stored || *stored == 0 || *stored > MAX_FILE)
        return bad("invalid blob stored size");
      if (!raw || *raw == 0 || *raw > MAX_BLOB_RAW)
        return bad("invalid blob raw size (limit " +
                   std::to_string(MAX_BLOB_RAW) + ")");
      b.stored = *stored;
      b.raw = *raw;
      std::uint32_t dep = 0;
      std::uint64_t chain_raw = b.raw;
      if (f[4] != "-") {
        auto base = parse_u64(f[4]);
        if (!base || *base >= m.blobs.size())
          return bad("blob base must name an earlier blob");
        b.base = static_cast<std::uint32_t>(*base);
        dep = depth[*base] + 1;
        if (dep > MAX_CHAIN_DEPTH)
          return bad("delta chain deeper than " +
                     std::to_string(MAX_CHAIN_DEPTH));
        chain_raw = b.raw + chain_total[*base];
        if (chain_raw > MAX_CHAIN_RAW)
          return bad("delta chain decompresses to " +
                     std::to_string(chain_raw) + " bytes (limit " +
                     std::to_string(MAX_CHAIN_RAW) + ")");
      }
      b.offset = offset;
      offset += b.stored;
      if (offset > MAX_FILE)
        return bad("blobs larger than the file size limit");
      m.blobs.push_back(b);
      depth.push_back(dep);
      chain_total.push_back(chain_raw);
    } else if (f[0] == "chunk") {
      if (!m.kernels.empty())
        return bad("\"chunk\" after \"kernel\" lines");
      auto g = split_fields<8>(line, '\t');
      if (g.size() != 7)
        return bad("expected \"chunk\t<stored>\t<count>\t<distro>\t"
                   "<version>\t<arch>\t<release>\"");
      auto stored = parse_u64(g[1]);
      auto count = parse_u64(g[2]);
      if (!stored || *stored == 0 || *stored > MAX_MANIFEST_STORED)
        return bad("invalid chunk stored size");
      if (!count || *count == 0 || *count > MAX_CHUNK_KERNELS)
        return bad("invalid chunk kernel count");
      if (m.chunks.size() >= MAX_KERNELS)
        return bad("too many chunks");
      for (int i = 3; i <= 6; i++)
        if (!valid_field(g[i], false, false))
          return bad("invalid chunk kernel field");
      ManifestChunk c;
      c.stored = *stored;
      c.count = static_cast<std::uint32_t>(*count);
      c.first = {g[3], g[4], g[5], g[6], 0};
      if (!m.chunks.empty()) {
        const auto &p = m.chunks.back();
        if (ktuple(p.first) >= ktuple(c.first))
          return bad("chunks not strictly sorted");
        c.offset = p.offset + p.stored;
      }
      chunk_kernels += c.count;
      if (chunk_kernels > MAX_KERNELS)
        return bad("more than " + std::to_string(MAX_KERNELS) + " kernels");
      m.chunks.push_back(c);
    } else if (f[0] == "kernel") {
      if (!m.chunks.empty())
        return bad("\"kernel\" lines in the head of a chunked manifest");
      if (m.kernels.size() >= MAX_KERNELS)
        return bad("more than " + std::to_string(MAX_KERNELS) + " kernels");
      auto k =
          parse_kernel_line(line, m.blobs.size(),
                            n + ": manifest line " + std::to_string(line_no));
      if (!k)
        return std::move(k).error();
      if (!m.kernels.empty() && ktuple(m.kernels.back()) >= ktuple(*k))
        return bad("kernels not strictly sorted (or listed twice)");
      m.kernels.push_back(*k);
    } else if (m.minor > FORMAT_MINOR) {
      // A newer minor version may add line types that are safe to ignore
      // (docs/bundle-format.md, Compatibility); they must still be text.
      bool printable = true;
      for (unsigned char c : line)
        printable = printable && (c == '\t' || (c >= 0x20 && c <= 0x7e));
      if (!printable)
        return bad("unreadable line of a newer minor version");
    } else {
      return bad("unknown line type \"" + std::string(f[0].substr(0, 32)) +
                 "\"");
    }
  }
  line_no = 0;
  // Every digest once; every blob used by a kernel (nothing dead is signed).
  std::vector<Sha256> digests;
  digests.reserve(m.blobs.size());
  for (const auto &b : m.blobs)
    digests.push_back(b.digest);
  std::sort(digests.begin(), digests.end());
  if (std::adjacent_find(digests.begin(), digests.end()) != digests.end())
    return make_error(Errc::corrupt, n + ": manifest lists a blob twice");
  if (m.chunks.empty()) {
    used.assign(m.blobs.size(), false);
    for (const auto &k : m.kernels)
      used[k.blob] = true;
    for (std::size_t i = 0; i < used.size(); i++)
      if (!used[i])
        return make_error(Errc::corrupt, n + ": manifest blob " +
                                             std::to_string(i) +
                                             " is used by no kernel");
  }
  return m;
}

std::string encode_preamble(std::uint64_t sig_size, std::uint64_t manifest_size,
                            std::uint32_t minor) {
  return std::string(PREAMBLE_MAGIC) + " " +
         version_string(FORMAT_MAJOR, minor) + " " + std::to_string(sig_size) +
         " " + std::to_string(manifest_size) + "\n";
}

Result<Preamble> parse_preamble(std::string_view data, std::string_view name) {
  std::string n(name);
  if (!data.starts_with(std::string(PREAMBLE_MAGIC) + " "))
    return make_error(Errc::corrupt,
                      n + ": not a btfpack bundle (no \"BTFPACK\" magic)");
  auto nl = data.substr(0, MAX_PREAMBLE).find('\n');
  if (nl == std::string_view::npos)
    return make_error(Errc::corrupt, n + ": truncated or malformed bundle "
                                         "preamble");
  auto f = split(data.substr(0, nl), ' ');
  Preamble p;
  if (f.size() < 2 || !parse_version(f[1], p.major, p.minor))
    return make_error(Errc::corrupt,
                      n + ": malformed bundle format version in preamble");
  // The version is judged before the rest: a newer major may lay out
  // everything after it differently.
  if (p.major > FORMAT_MAJOR)
    return newer_major(name, p.major, p.minor);
  if (p.major < 1)
    return make_error(Errc::unsupported, n + ": bundle format " +
                                             version_string(p.major, p.minor) +
                                             " is not supported");
  auto sig = f.size() == 4 ? parse_u64(f[2]) : std::nullopt;
  auto man = f.size() == 4 ? parse_u64(f[3]) : std::nullopt;
  if (!sig || *sig > MAX_SIGNATURE || !man || *man == 0 ||
      *man > MAX_MANIFEST_STORED)
    return make_error(Errc::corrupt,
                      n + ": malformed signature or manifest size in the "
                          "preamble");
  p.sig_size = *sig;
  p.manifest_size = *man;
  p.length = nl + 1;
  return p;
}

Result<std::vector<std::uint8_t>>
zstd_compress(std::span<const std::uint8_t> src,
              std::span<const std::uint8_t> dict, int level, bool magicless) {
  CCtxPtr cctx(ZSTD_createCCtx());
  if (!cctx)
    return make_error(Errc::internal, "zstd: out of memory");
  // No checksum (the manifest's sha256
  // covers the content), no dictionary id (raw content has none). A
  // dictionary not starting with the zstd dictionary magic is raw content,
  // exactly as `zstd -D FILE` reads it.
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  // Blob frames (magicless) leave the content size out: the manifest has it.
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, magicless ? 0 : 1);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 0);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_dictIDFlag, 0);
  if (magicless)
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_format, ZSTD_f_zstd1_magicless);
  if (!dict.empty() && ZSTD_isError(ZSTD_CCtx_loadDictionary(
                           cctx.get(), dict.data(), dict.size())))
    return make_error(Errc::internal, "zstd: cannot load dictionary");
  std::vector<std::uint8_t> out(ZSTD_compressBound(src.size()));
  std::size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), src.data(),
                                 src.size());
  if (ZSTD_isError(n))
    return make_error(Errc::internal,
                      std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<std::uint64_t> zstd_frame_content_size(std::span<const std::uint8_t> src,
                                              const std::string &what) {
  unsigned long long size = ZSTD_getFrameContentSize(src.data(), src.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
    return make_error(Errc::corrupt,
                      what + ": not a zstd frame declaring its size");
  return static_cast<std::uint64_t>(size);
}

Result<std::vector<std::uint8_t>>
zstd_decompress(std::span<const std::uint8_t> src,
                std::span<const std::uint8_t> dict, std::uint64_t raw_size,
                bool magicless, const std::string &what) {
  DCtxPtr dctx(ZSTD_createDCtx());
  if (!dctx)
    return make_error(Errc::internal, "zstd: out of memory");
  // A frame may not ask for a window beyond 128 MiB, whatever it declares.
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, 27);
  if (magicless)
    ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_format, ZSTD_f_zstd1_magicless);
  if (!dict.empty() && ZSTD_isError(ZSTD_DCtx_loadDictionary(
                           dctx.get(), dict.data(), dict.size())))
    return make_error(Errc::internal, "zstd: cannot load dictionary");
  // Streaming decompression into raw_size + 1 bytes: the frame must end
  // exactly at the end of src and produce exactly raw_size bytes.
  std::vector<std::uint8_t> out(static_cast<std::size_t>(raw_size) + 1);
  ZSTD_inBuffer in{src.data(), src.size(), 0};
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  for (;;) {
    std::size_t in_pos = in.pos, out_pos = ob.pos;
    std::size_t r = ZSTD_decompressStream(dctx.get(), &ob, &in);
    if (ZSTD_isError(r))
      return make_error(Errc::corrupt,
                        what + ": zstd: " + ZSTD_getErrorName(r));
    if (r == 0)
      break; // frame complete
    if (in.pos == in_pos && ob.pos == out_pos)
      return make_error(Errc::corrupt,
                        what + (ob.pos == ob.size
                                    ? ": zstd frame holds more than declared"
                                    : ": truncated zstd frame"));
  }
  if (in.pos != in.size)
    return make_error(Errc::corrupt,
                      what + ": unexpected bytes after the zstd frame");
  if (ob.pos != raw_size)
    return make_error(Errc::corrupt,
                      what + ": decompressed to " + std::to_string(ob.pos) +
                          " bytes, expected " + std::to_string(raw_size));
  out.resize(static_cast<std::size_t>(raw_size));
  return out;
}

} // namespace btfpack::detail
