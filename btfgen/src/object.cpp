// SPDX-License-Identifier: Apache-2.0
//
// Up-front checks of the BPF objects: a BPF ELF with .BTF and CO-RE
// relocations in .BTF.ext (parsed here: libbpf's public API does not expose
// the records), and the architecture the object was built for. e_machine is
// always EM_BPF, so the arch comes from what __TARGET_ARCH_<arch> leaves in
// the object: the layout of `struct pt_regs` in its BTF (x86 names its
// registers di/si/ip, arm64 has regs[]/pstate), else the path convention.
#include <bpf/btf.h>
#include <cstring>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include "btfpack/btfgen.h"
#include "btfpack/c_free.h"
#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

namespace btfpack::btfgen {

std::string object_arch_name(std::string_view a) {
  if (a == "x86_64" || a == "x86" || a == "amd64")
    return "x86_64";
  if (a == "arm64" || a == "aarch64")
    return "arm64";
  return {};
}

namespace {

std::string normalize_arch(std::string_view a) {
  return object_arch_name(a);
}

using ElfPtr = CHandle<Elf, elf_end>;
using BtfPtr = CHandle<struct btf, btf__free>;

constexpr std::uint32_t BPF_CORE_TYPE_ID_TARGET = 7;

// .BTF.ext layout (linux/include/uapi/linux/btf.h is silent on it; see
// libbpf's libbpf_internal.h struct btf_ext_header / btf_ext_info_sec).
struct BtfExtHeader {
  std::uint16_t magic;
  std::uint8_t version;
  std::uint8_t flags;
  std::uint32_t hdr_len;
  std::uint32_t func_info_off, func_info_len;
  std::uint32_t line_info_off, line_info_len;
  std::uint32_t core_relo_off, core_relo_len;
};

struct CoreReloRecord {
  std::uint32_t insn_off, type_id, access_str_off, kind;
};

std::uint32_t read_u32(const std::uint8_t *p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// arch_from_pt_regs looks at `struct pt_regs` (and flavours) in the object.
std::string arch_from_btf(const struct btf *btf) {
  std::uint32_t n = btf__type_cnt(btf);
  for (std::uint32_t id = 1; id < n; id++) {
    const struct btf_type *t = btf__type_by_id(btf, id);
    if (!btf_is_struct(t))
      continue;
    const char *name = btf__name_by_offset(btf, t->name_off);
    if (!name)
      continue;
    std::string_view nm(name);
    if (nm == "user_pt_regs")
      return "arm64";
    if (nm != "pt_regs" && nm.rfind("pt_regs___", 0) != 0)
      continue;
    const struct btf_member *m = btf_members(t);
    for (std::uint16_t i = 0; i < btf_vlen(t); i++) {
      const char *mn = btf__name_by_offset(btf, m[i].name_off);
      std::string_view mv = mn ? mn : "";
      if (mv == "di" || mv == "si" || mv == "ip" || mv == "orig_ax")
        return "x86_64";
      if (mv == "regs" || mv == "pstate" || mv == "user_regs" ||
          mv == "orig_x0")
        return "arm64";
    }
  }
  return {};
}

std::string arch_from_path(const fs::path &path) {
  for (const auto &part : path.parent_path()) {
    auto a = normalize_arch(part.string());
    if (!a.empty())
      return a;
  }
  // name.<arch>.bpf.o
  std::string name = path.filename().string();
  for (const char *a : {"x86_64", "x86", "amd64", "arm64", "aarch64"}) {
    if (name.find(std::string(".") + a + ".") != std::string::npos)
      return normalize_arch(a);
  }
  return {};
}

} // namespace

std::string core_relo_kind_name(std::uint32_t kind) {
  static const char *names[] = {
      "byte_off",    "byte_sz",    "field_exists",   "signed",
      "lshift_u64",  "rshift_u64", "local_type_id",  "target_type_id",
      "type_exists", "type_size",  "enumval_exists", "enumval_value",
      "type_matches"};
  if (kind < sizeof names / sizeof names[0])
    return names[kind];
  return "kind_" + std::to_string(kind);
}

Result<ObjectInfo> inspect_object(const fs::path &path,
                                  std::string_view arch_override) {
  ObjectInfo info;
  info.path = path;
  info.name = path.filename().string();
  const std::string where = "object " + path.string();
  BTFPACK_TRY(bytes, read_file(path, 512ull << 20));
  info.digest = sha256(bytes);

  if (elf_version(EV_CURRENT) == EV_NONE)
    return make_error(Errc::internal, "libelf: " + std::string(elf_errmsg(-1)));
  ElfPtr elf(elf_memory(reinterpret_cast<char *>(bytes.data()), bytes.size()));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF)
    return make_error(Errc::invalid_argument,
                      where + ": not an ELF file (expected a BPF object "
                              "built with clang -target bpf)");
  GElf_Ehdr ehdr;
  if (!gelf_getehdr(elf.get(), &ehdr) || ehdr.e_machine != EM_BPF)
    return make_error(Errc::invalid_argument,
                      where + ": not a BPF object (e_machine is not EM_BPF)");
  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0)
    return make_error(Errc::invalid_argument,
                      where + ": corrupt ELF section header string table");
  Elf_Data *btf_data = nullptr, *ext_data = nullptr;
  for (Elf_Scn *scn = elf_nextscn(elf.get(), nullptr); scn;
       scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh))
      continue;
    const char *name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (!name || sh.sh_type == SHT_NOBITS)
      continue;
    if (std::strcmp(name, ".BTF") == 0)
      btf_data = elf_getdata(scn, nullptr);
    else if (std::strcmp(name, ".BTF.ext") == 0)
      ext_data = elf_getdata(scn, nullptr);
  }
  if (!btf_data || !btf_data->d_buf)
    return make_error(Errc::invalid_argument,
                      where + ": no .BTF section (compile with -g)");
  BtfPtr btf(btf__new(btf_data->d_buf, btf_data->d_size));
  if (!btf)
    return make_error(Errc::invalid_argument,
                      where + ": .BTF section is not valid BTF");
  if (!ext_data || !ext_data->d_buf ||
      ext_data->d_size < offsetof(BtfExtHeader, core_relo_off))
    return make_error(Errc::invalid_argument,
                      where + ": no .BTF.ext section, so no CO-RE relocations "
                              "(compile with -g and read kernel memory "
                              "with BPF_CORE_READ)");
  const auto *ext = static_cast<const std::uint8_t *>(ext_data->d_buf);
  const std::size_t ext_size = ext_data->d_size;
  BtfExtHeader hdr{};
  std::memcpy(&hdr, ext, std::min(sizeof hdr, ext_size));
  if (hdr.magic != 0xeB9F)
    return make_error(Errc::invalid_argument,
                      where + ": .BTF.ext has a bad magic (big-endian "
                              "objects are not supported)");
  if (hdr.hdr_len < sizeof(BtfExtHeader) || hdr.hdr_len > ext_size ||
      hdr.core_relo_len == 0)
    return make_error(Errc::invalid_argument,
                      where + ": no CO-RE relocations in .BTF.ext: the "
                              "object reads no kernel types through CO-RE, "
                              "so a minimized BTF cannot serve it");
  std::uint64_t begin = std::uint64_t(hdr.hdr_len) + hdr.core_relo_off;
  std::uint64_t end = begin + hdr.core_relo_len;
  if (end > ext_size || hdr.core_relo_len < 4)
    return make_error(Errc::invalid_argument,
                      where + ": .BTF.ext CO-RE relocation section out of "
                              "bounds");
  const std::uint8_t *p = ext + begin;
  const std::uint8_t *e = ext + end;
  std::uint32_t rec_size = read_u32(p);
  p += 4;
  if (rec_size < sizeof(CoreReloRecord))
    return make_error(Errc::invalid_argument,
                      where + ": .BTF.ext CO-RE record size too small");
  while (p < e) {
    if (e - p < 8)
      return make_error(Errc::invalid_argument,
                        where + ": truncated .BTF.ext CO-RE section");
    std::uint32_t sec_off = read_u32(p), num = read_u32(p + 4);
    p += 8;
    if (std::uint64_t(num) * rec_size > std::uint64_t(e - p))
      return make_error(Errc::invalid_argument,
                        where + ": truncated .BTF.ext CO-RE section");
    const char *sec = btf__name_by_offset(btf.get(), sec_off);
    for (std::uint32_t i = 0; i < num; i++, p += rec_size) {
      CoreReloRecord rec;
      std::memcpy(&rec, p, sizeof rec);
      CoreRelo r;
      r.section = sec ? sec : "?";
      r.index = i;
      r.kind = rec.kind;
      const struct btf_type *t = btf__type_by_id(btf.get(), rec.type_id);
      const char *tn = t ? btf__name_by_offset(btf.get(), t->name_off) : "";
      r.type_name = tn ? tn : "";
      const char *acc = btf__name_by_offset(btf.get(), rec.access_str_off);
      r.access = acc ? acc : "";
      if (rec.kind == BPF_CORE_TYPE_ID_TARGET)
        info.flags.push_back(
            "section '" + r.section + "' relo #" + std::to_string(i) +
            ": target_type_id (bpf_core_type_id_kernel) of '" + r.type_name +
            "': bpftool renumbers types, so the id is one of the minimized "
            "BTF, not the kernel's");
      info.relos.push_back(std::move(r));
    }
  }
  if (info.relos.empty())
    return make_error(Errc::invalid_argument,
                      where + ": no CO-RE relocations in .BTF.ext");

  if (!arch_override.empty()) {
    info.arch = normalize_arch(arch_override);
    if (info.arch.empty())
      return make_error(Errc::invalid_argument, where + ": unknown arch '" +
                                                    std::string(arch_override) +
                                                    "' (use x86_64 or arm64)");
    info.arch_source = "explicit";
    // Arch confusion: an object whose BTF shows another arch's pt_regs
    // cannot be declared for this one (its PT_REGS_* reads would relocate
    // against the wrong layout, and its kernels would get BTF minimized
    // with the wrong build).
    if (auto a = arch_from_btf(btf.get()); !a.empty() && a != info.arch)
      return make_error(
          Errc::invalid_argument,
          where + ": declared " + info.arch + " (" +
              std::string(arch_override) +
              ") but its BTF's struct pt_regs "
              "is the " +
              a + " layout (built with -D__TARGET_ARCH_" +
              (a == "x86_64" ? "x86" : a) + "): an " + a +
              " object cannot serve " + info.arch + " kernels; give the " +
              info.arch + " build of the object, or drop the arch to use " + a);
  } else if (auto a = arch_from_btf(btf.get()); !a.empty()) {
    info.arch = a;
    info.arch_source = "pt_regs";
  } else if (auto pa = arch_from_path(path); !pa.empty()) {
    info.arch = pa;
    info.arch_source = "path";
  } else {
    info.arch = "any";
    info.arch_source = "none";
  }
  return info;
}

} // namespace btfpack::btfgen
