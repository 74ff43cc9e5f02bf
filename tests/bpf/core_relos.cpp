// SPDX-License-Identifier: Apache-2.0
#include "core_relos.h"

#include "btfpack/c_free.h"
#include "btfpack/unique_fd.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <sstream>

namespace btfpack::test {

namespace {
using BtfPtr = CHandle<struct btf, btf__free>;
using BtfExtPtr = CHandle<struct btf_ext, btf_ext__free>;

// The .BTF.ext header (kernel's struct btf_ext_header, with CO-RE part).
struct BtfExtHeader {
  std::uint16_t magic;
  std::uint8_t version;
  std::uint8_t flags;
  std::uint32_t hdr_len;
  std::uint32_t func_info_off, func_info_len;
  std::uint32_t line_info_off, line_info_len;
  std::uint32_t core_relo_off, core_relo_len;
};

const btf_type *skip_mods(const struct btf *b, std::uint32_t &id) {
  const btf_type *t = btf__type_by_id(b, id);
  while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
    id = t->type;
    t = btf__type_by_id(b, id);
  }
  return t;
}

// describe turns (type id, access string "0:86:1") into names.
std::string describe(const struct btf *b, std::uint32_t type_id,
                     const std::string &access, unsigned kind) {
  std::vector<unsigned> idx;
  std::stringstream ss(access);
  for (std::string part; std::getline(ss, part, ':');)
    idx.push_back(static_cast<unsigned>(std::stoul(part)));
  std::uint32_t id = type_id;
  const btf_type *t = skip_mods(b, id);
  if (!t)
    return "?";
  std::string out = btf__name_by_offset(b, t->name_off);
  if (kind == BPF_CORE_ENUMVAL_EXISTS || kind == BPF_CORE_ENUMVAL_VALUE) {
    if (btf_is_enum(t) && !idx.empty() && idx[0] < btf_vlen(t))
      out += std::string("::") +
             btf__name_by_offset(b, btf_enum(t)[idx[0]].name_off);
    return out;
  }
  if (kind == BPF_CORE_TYPE_ID_LOCAL || kind == BPF_CORE_TYPE_ID_TARGET ||
      kind == BPF_CORE_TYPE_EXISTS || kind == BPF_CORE_TYPE_SIZE ||
      kind == BPF_CORE_TYPE_MATCHES)
    return out;
  for (size_t i = 1; i < idx.size(); i++) {
    t = skip_mods(b, id);
    if (!t)
      return out + "?";
    if (btf_is_composite(t) && idx[i] < btf_vlen(t)) {
      const btf_member *m = btf_members(t) + idx[i];
      out += std::string(".") + btf__name_by_offset(b, m->name_off);
      id = m->type;
    } else if (btf_is_array(t)) {
      out += "[" + std::to_string(idx[i]) + "]";
      id = btf_array(t)->type;
    } else {
      return out + "?";
    }
  }
  return out;
}

// btf_ext_section returns the raw .BTF.ext bytes. libbpf 1.1's header
// declares btf_ext__raw_data(), but its shared library does not export it,
// so the section is read with libelf.
std::vector<std::uint8_t> btf_ext_section(const std::string &path) {
  std::vector<std::uint8_t> out;
  if (elf_version(EV_CURRENT) == EV_NONE)
    return out;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    return out;
  CHandle<Elf, elf_end> elf(elf_begin(fd.get(), ELF_C_READ, nullptr));
  size_t shstrndx = 0;
  if (!elf || elf_getshdrstrndx(elf.get(), &shstrndx) != 0)
    return out;
  for (Elf_Scn *scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh))
      continue;
    const char *name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (!name || std::strcmp(name, ".BTF.ext") != 0)
      continue;
    Elf_Data *d = elf_getdata(scn, nullptr);
    if (d && d->d_buf) {
      auto *b = static_cast<const std::uint8_t *>(d->d_buf);
      out.assign(b, b + d->d_size);
    }
  }
  return out;
}

// scan_programs fills the instruction facts of info from every executable
// section: helper calls (BPF_JMP|BPF_CALL with src_reg 0), backward jumps,
// and which global-data sections exist.
void scan_programs(const std::string &path, ObjectBtfInfo &info) {
  if (elf_version(EV_CURRENT) == EV_NONE)
    return;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    return;
  CHandle<Elf, elf_end> elf(elf_begin(fd.get(), ELF_C_READ, nullptr));
  size_t shstrndx = 0;
  if (!elf || elf_getshdrstrndx(elf.get(), &shstrndx) != 0)
    return;
  for (Elf_Scn *scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh))
      continue;
    const char *name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    std::string n = name ? name : "";
    if (n.rfind(".rodata", 0) == 0 || n.rfind(".data", 0) == 0 ||
        n.rfind(".bss", 0) == 0)
      info.data_sections.push_back(n);
    if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR))
      continue;
    Elf_Data *d = elf_getdata(scn, nullptr);
    if (!d || !d->d_buf)
      continue;
    auto *insn = static_cast<const bpf_insn *>(d->d_buf);
    size_t count = d->d_size / sizeof(bpf_insn);
    for (size_t i = 0; i < count; i++) {
      info.insns++;
      std::uint8_t cls = BPF_CLASS(insn[i].code), op = BPF_OP(insn[i].code);
      if (cls != BPF_JMP && cls != BPF_JMP32)
        continue;
      if (op == BPF_CALL) {
        if (insn[i].src_reg == 0)
          info.helpers.push_back(insn[i].imm);
      } else if (op != BPF_EXIT && insn[i].off < 0) {
        info.back_jumps++;
      }
    }
  }
}

bool elf_is_bpf(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char *>(&eh), sizeof eh))
    return false;
  return std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
         eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == EM_BPF;
}
} // namespace

std::string core_relo_kind_name(unsigned kind) {
  static const char *names[] = {
      "byte_off",    "byte_sz",    "field_exists",   "signed",
      "lshift_u64",  "rshift_u64", "local_type_id",  "target_type_id",
      "type_exists", "type_size",  "enumval_exists", "enumval_value",
      "type_matches"};
  return kind < std::size(names) ? names[kind] : "unknown";
}

ObjectBtfInfo read_object_btf(const std::string &path) {
  ObjectBtfInfo info;
  info.is_bpf_elf = elf_is_bpf(path);
  scan_programs(path, info);
  struct btf_ext *ext_raw = nullptr;
  BtfPtr btf(btf__parse_elf(path.c_str(), &ext_raw));
  BtfExtPtr ext(ext_raw);
  if (!btf) {
    info.error = "btf__parse_elf " + path + ": " + std::strerror(errno);
    return info;
  }
  info.has_btf = true;
  if (!ext)
    return info;
  info.has_btf_ext = true;

  auto section = btf_ext_section(path);
  const std::uint8_t *raw = section.data();
  const auto size = section.size();
  BtfExtHeader h{};
  std::memcpy(&h, raw, std::min<size_t>(sizeof h, size));
  if (h.hdr_len < sizeof h || h.core_relo_len == 0)
    return info; // no CO-RE part
  const std::uint8_t *p = raw + h.hdr_len + h.core_relo_off;
  const std::uint8_t *end = p + h.core_relo_len;
  if (end > raw + size) {
    info.error = "core_relo section past the end of .BTF.ext";
    return info;
  }
  std::uint32_t rec_size;
  std::memcpy(&rec_size, p, 4);
  p += 4;
  if (rec_size < sizeof(bpf_core_relo)) {
    info.error = "core_relo record size " + std::to_string(rec_size);
    return info;
  }
  while (p + 8 <= end) {
    std::uint32_t sec_name_off, num;
    std::memcpy(&sec_name_off, p, 4);
    std::memcpy(&num, p + 4, 4);
    p += 8;
    std::string sec = btf__name_by_offset(btf.get(), sec_name_off);
    for (std::uint32_t i = 0; i < num && p + rec_size <= end; i++) {
      bpf_core_relo r;
      std::memcpy(&r, p, sizeof r);
      p += rec_size;
      const char *access = btf__name_by_offset(btf.get(), r.access_str_off);
      info.relos.push_back(
          CoreRelo{sec, static_cast<unsigned>(r.kind),
                   describe(btf.get(), r.type_id, access ? access : "0",
                            static_cast<unsigned>(r.kind))});
    }
  }
  return info;
}

} // namespace btfpack::test
