// SPDX-License-Identifier: Apache-2.0
#include "btfpack/btf_check.h"

#include <cstring>
#include <elf.h>
#include <linux/btf.h>
#include <string>
#include <vector>

namespace btfpack {

namespace {

// Bound the work on hostile input: the largest real vmlinux BTF has well
// under a million types.
constexpr std::uint32_t MAX_TYPES = 4u << 20;

Error bad(std::string_view name, const std::string &why) {
  return make_error(Errc::corrupt, "check BTF " + std::string(name) + ": " +
                                       why + "; refusing to hand it to libbpf");
}

template <typename T> T load(const std::uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// elf_btf finds the .BTF section of a 64-bit little/native ELF file.
Result<std::span<const std::uint8_t>> elf_btf(std::span<const std::uint8_t> d,
                                              std::string_view name) {
  if (d.size() < sizeof(Elf64_Ehdr) || d[EI_CLASS] != ELFCLASS64)
    return bad(name, "ELF file is not 64-bit or truncated");
  auto eh = load<Elf64_Ehdr>(d.data());
  if (eh.e_shentsize != sizeof(Elf64_Shdr))
    return bad(name, "ELF section header size is wrong");
  std::uint64_t shend =
      eh.e_shoff + std::uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr);
  if (eh.e_shoff > d.size() || shend > d.size() || eh.e_shstrndx >= eh.e_shnum)
    return bad(name, "ELF section headers out of bounds");
  auto sh = [&](std::size_t i) {
    return load<Elf64_Shdr>(d.data() + eh.e_shoff + i * sizeof(Elf64_Shdr));
  };
  auto strs = sh(eh.e_shstrndx);
  if (strs.sh_offset > d.size() || strs.sh_size > d.size() - strs.sh_offset)
    return bad(name, "ELF section names out of bounds");
  for (std::size_t i = 0; i < eh.e_shnum; i++) {
    auto s = sh(i);
    if (s.sh_name >= strs.sh_size)
      continue;
    const char *nm =
        reinterpret_cast<const char *>(d.data() + strs.sh_offset + s.sh_name);
    std::size_t maxlen = strs.sh_size - s.sh_name;
    if (strnlen(nm, maxlen) == 4 && std::memcmp(nm, ".BTF", 4) == 0) {
      if (s.sh_type == SHT_NOBITS || s.sh_offset > d.size() ||
          s.sh_size > d.size() - s.sh_offset)
        return bad(name, "ELF .BTF section out of bounds");
      return d.subspan(s.sh_offset, s.sh_size);
    }
  }
  return bad(name, "ELF file has no .BTF section");
}

} // namespace

Result<BtfSummary> check_btf(std::span<const std::uint8_t> data,
                             std::string_view name) {
  BtfSummary sum;
  if (data.size() >= 4 && std::memcmp(data.data(), ELFMAG, SELFMAG) == 0) {
    BTFPACK_TRY(sec, elf_btf(data, name));
    data = sec;
    sum.elf = true;
  }
  if (data.size() < sizeof(btf_header))
    return bad(name, "only " + std::to_string(data.size()) +
                         " bytes, a BTF header needs 24");
  auto h = load<btf_header>(data.data());
  if (h.magic != BTF_MAGIC)
    return bad(name, h.magic == 0x9feb ? "BTF is in the other byte order"
                                       : "bad magic (not BTF)");
  if (h.version != BTF_VERSION)
    return bad(name, "unsupported BTF version " + std::to_string(h.version));
  if (h.hdr_len < sizeof(btf_header) || h.hdr_len > data.size())
    return bad(name,
               "header length " + std::to_string(h.hdr_len) + " out of range");
  // A longer header (7.1 kernels: 32 bytes, with a kind-layout section
  // between types and strings) is honoured through hdr_len; its extra
  // fields are not needed for the checks below.
  std::uint64_t body = data.size() - h.hdr_len;
  if (std::uint64_t(h.type_off) + h.type_len > body ||
      std::uint64_t(h.str_off) + h.str_len > body)
    return bad(name, "type or string section beyond the end (" +
                         std::to_string(body) + " bytes after the header)");
  if (h.type_off % 4 != 0 || h.type_len % 4 != 0)
    return bad(name, "type section is not 4-byte aligned");
  if (h.str_len == 0 || h.str_len > BTF_MAX_NAME_OFFSET + 1)
    return bad(name, "string section is empty or too large");
  bool overlap = h.type_off < h.str_off
                     ? std::uint64_t(h.type_off) + h.type_len > h.str_off
                     : std::uint64_t(h.str_off) + h.str_len > h.type_off;
  if (overlap && h.type_len > 0)
    return bad(name, "type and string sections overlap");
  const std::uint8_t *base = data.data() + h.hdr_len;
  const char *strs = reinterpret_cast<const char *>(base + h.str_off);
  if (strs[0] != '\0' || strs[h.str_len - 1] != '\0')
    return bad(name, "string section does not start and end with NUL");
  sum.string_bytes = h.str_len;

  const std::uint8_t *tp = base + h.type_off;
  const std::uint8_t *tend = tp + h.type_len;
  // First pass: walk the types to count them and check sizes and names.
  struct Ref {
    std::uint32_t from, to;
  };
  std::vector<Ref> refs;
  std::uint32_t id = 0;
  auto check_name = [&](std::uint32_t off, std::uint32_t at) -> Result<void> {
    if (off >= h.str_len)
      return bad(name, "type " + std::to_string(at) + " name offset " +
                           std::to_string(off) + " beyond the strings (" +
                           std::to_string(h.str_len) + " bytes)");
    return ok();
  };
  while (tp < tend) {
    if (std::size_t(tend - tp) < sizeof(btf_type))
      return bad(name, "truncated type after type " + std::to_string(id));
    if (++id > MAX_TYPES)
      return bad(name, "more than " + std::to_string(MAX_TYPES) + " types");
    auto t = load<btf_type>(tp);
    tp += sizeof(btf_type);
    std::uint32_t kind = BTF_INFO_KIND(t.info), vlen = BTF_INFO_VLEN(t.info);
    BTFPACK_CHECK(check_name(t.name_off, id));
    std::uint64_t extra = 0;
    bool ref = false;
    switch (kind) {
    case BTF_KIND_INT:
      extra = 4;
      break;
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_TYPE_TAG:
      ref = true;
      break;
    case BTF_KIND_VAR:
      ref = true;
      extra = 4;
      break;
    case BTF_KIND_DECL_TAG:
      ref = true;
      extra = 4;
      break;
    case BTF_KIND_ARRAY:
      extra = sizeof(btf_array);
      break;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      extra = std::uint64_t(vlen) * sizeof(btf_member);
      break;
    case BTF_KIND_ENUM:
      extra = std::uint64_t(vlen) * sizeof(btf_enum);
      break;
    case BTF_KIND_ENUM64: // name, lo32, hi32
      extra = std::uint64_t(vlen) * 12;
      break;
    case BTF_KIND_FUNC_PROTO:
      ref = true; // return type
      extra = std::uint64_t(vlen) * sizeof(btf_param);
      break;
    case BTF_KIND_DATASEC:
      extra = std::uint64_t(vlen) * sizeof(btf_var_secinfo);
      break;
    case BTF_KIND_FWD:
    case BTF_KIND_FLOAT:
      break;
    default:
      return bad(name, "type " + std::to_string(id) + " has unknown kind " +
                           std::to_string(kind));
    }
    if (std::uint64_t(tend - tp) < extra)
      return bad(name, "type " + std::to_string(id) + " is truncated");
    if (ref)
      refs.push_back({id, t.type});
    const std::uint8_t *x = tp;
    switch (kind) {
    case BTF_KIND_ARRAY: {
      auto a = load<btf_array>(x);
      refs.push_back({id, a.type});
      refs.push_back({id, a.index_type});
      break;
    }
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      for (std::uint32_t i = 0; i < vlen; i++) {
        auto m = load<btf_member>(x + i * sizeof(btf_member));
        BTFPACK_CHECK(check_name(m.name_off, id));
        refs.push_back({id, m.type});
      }
      break;
    case BTF_KIND_ENUM:
      for (std::uint32_t i = 0; i < vlen; i++)
        BTFPACK_CHECK(
            check_name(load<btf_enum>(x + i * sizeof(btf_enum)).name_off, id));
      break;
    case BTF_KIND_ENUM64:
      for (std::uint32_t i = 0; i < vlen; i++)
        BTFPACK_CHECK(check_name(load<std::uint32_t>(x + i * 12), id));
      break;
    case BTF_KIND_FUNC_PROTO:
      for (std::uint32_t i = 0; i < vlen; i++) {
        auto p = load<btf_param>(x + i * sizeof(btf_param));
        BTFPACK_CHECK(check_name(p.name_off, id));
        refs.push_back({id, p.type});
      }
      break;
    case BTF_KIND_DATASEC:
      for (std::uint32_t i = 0; i < vlen; i++)
        refs.push_back(
            {id, load<btf_var_secinfo>(x + i * sizeof(btf_var_secinfo)).type});
      break;
    default:
      break;
    }
    tp += extra;
  }
  for (const auto &r : refs)
    if (r.to > id)
      return bad(name, "type " + std::to_string(r.from) + " refers to type " +
                           std::to_string(r.to) + ", only " +
                           std::to_string(id) + " exist");
  sum.types = id;
  return sum;
}

} // namespace btfpack
