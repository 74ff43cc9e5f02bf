// SPDX-License-Identifier: Apache-2.0
#include "btfpack/host.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "btfpack/file_util.h"
#include "btfpack/kernel_release.h"
#include "btfpack/os_release.h"
#include "btfpack/sha256.h"

namespace btfpack {

namespace fs = std::filesystem;

namespace {

bool rooted(const fs::path &root) {
  return !root.empty() && root != "/";
}

constexpr int MAX_LINK_HOPS = 32; // as the kernel's MAXSYMLINKS=40, smaller

// in_root maps an absolute host path into host_root, following symlinks
// inside the root: /etc/os-release is usually a symlink to
// ../usr/lib/os-release, and an absolute target must not escape into the
// container's own files. Every symlink on the way is resolved here, so the
// path returned has none left to follow (the caller opens it with
// Symlinks::refuse); beyond MAX_LINK_HOPS links the lookup fails with ELOOP
// rather than leave a link for the kernel to follow out of the root.
Result<fs::path> in_root(const fs::path &root, const fs::path &abs) {
  if (!rooted(root))
    return abs;
  std::vector<std::string> todo;
  for (const auto &c : abs.relative_path())
    todo.push_back(c.string());
  std::reverse(todo.begin(), todo.end());
  fs::path cur; // relative to root
  int hops = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.back());
    todo.pop_back();
    if (c.empty() || c == ".")
      continue;
    if (c == "..") {
      cur = cur.has_parent_path() ? cur.parent_path() : fs::path();
      continue;
    }
    fs::path next = cur / c;
    std::error_code ec;
    auto st = fs::symlink_status(root / next, ec);
    if (!ec && fs::is_symlink(st)) {
      if (++hops > MAX_LINK_HOPS)
        return make_error(Errc::invalid_argument,
                          "resolve " + (root / abs.relative_path()).string() +
                              " inside host root " + root.string() +
                              ": more than " + std::to_string(MAX_LINK_HOPS) +
                              " symbolic links (" + errno_message(ELOOP) +
                              "); refused");
      fs::path target = fs::read_symlink(root / next, ec);
      if (ec)
        return make_error(Errc::io, "read link " + (root / next).string() +
                                        ": " + ec.message());
      std::vector<std::string> parts;
      for (const auto &p : target.relative_path())
        parts.push_back(p.string());
      if (target.is_absolute())
        cur.clear();
      for (auto it = parts.rbegin(); it != parts.rend(); ++it)
        todo.push_back(*it);
      continue;
    }
    cur = std::move(next);
  }
  return root / cur;
}

// links_for: inside a host root every link was resolved by in_root, so the
// final component must not be one (a link swapped in meanwhile is refused).
Symlinks links_for(const fs::path &root) {
  return rooted(root) ? Symlinks::refuse : Symlinks::follow;
}

// host_file maps a host path under the root; when the root has no such file
// and fallback is set, the container's own file (the kernel is shared, so
// /proc and /sys tell the truth from inside the container too).
Result<fs::path> host_file(const fs::path &root, const char *abs,
                           bool fallback) {
  BTFPACK_TRY(p, in_root(root, abs));
  std::error_code ec;
  if (fallback && rooted(root) && !fs::exists(fs::symlink_status(p, ec)))
    return fs::path(abs);
  return p;
}

// native_btf_problem: empty when path is a regular file starting with a
// BTF header (magic 0xeb9f, version 1); "absent" when there is nothing;
// else what is wrong (a FIFO or a directory is not native BTF).
std::string native_btf_problem(const fs::path &path, Symlinks links) {
  auto fd = open_regular_file(path, links);
  if (!fd.ok())
    return fd.error().code == Errc::not_found ? "absent" : fd.error().message;
  unsigned char hdr[4] = {};
  ssize_t n = ::read(fd->get(), hdr, sizeof hdr);
  if (n != static_cast<ssize_t>(sizeof hdr))
    return "shorter than a BTF header";
  bool le = hdr[0] == 0x9f && hdr[1] == 0xeb,
       be = hdr[0] == 0xeb && hdr[1] == 0x9f;
  if (!le && !be)
    return "no BTF magic (0xeb9f) at its start";
  if (hdr[2] != 1)
    return "BTF version " + std::to_string(hdr[2]) + ", want 1";
  return {};
}

Fact fact(std::string value, std::string source) {
  return Fact{std::move(value), std::move(source)};
}

// read_build_id finds the GNU build-id note (NT_GNU_BUILD_ID, 3) in the
// kernel's notes (a sequence of Elf_Nhdr records, 4-byte aligned).
std::string read_build_id(const fs::path &notes, Symlinks links,
                          std::string &why) {
  auto data = read_file(notes, 64 * 1024, links);
  if (!data.ok()) {
    why = data.error().message;
    return {};
  }
  const auto &d = *data;
  std::size_t off = 0;
  auto u32 = [&](std::size_t o) {
    std::uint32_t v;
    std::memcpy(&v, d.data() + o, 4);
    return v;
  };
  while (off + 12 <= d.size()) {
    std::uint64_t namesz = u32(off), descsz = u32(off + 4), type = u32(off + 8);
    std::uint64_t name_off = off + 12;
    std::uint64_t desc_off = name_off + ((namesz + 3) & ~3ull);
    std::uint64_t end = desc_off + ((descsz + 3) & ~3ull);
    if (end > d.size())
      break;
    if (type == 3 && namesz == 4 &&
        std::memcmp(d.data() + name_off, "GNU", 4) == 0)
      return to_hex(std::span<const std::uint8_t>(
          d.data() + desc_off, static_cast<std::size_t>(descsz)));
    off = static_cast<std::size_t>(end);
  }
  return {};
}

void add_os_release(HostFacts &h, const HostOptions &opts) {
  std::vector<fs::path> tried;
  std::optional<fs::path> chosen;
  bool failed = false;
  std::string src_prefix;
  if (opts.os_release_file) {
    chosen = *opts.os_release_file;
    src_prefix = "--os-release ";
  } else {
    for (const char *p : {"/etc/os-release", "/usr/lib/os-release"}) {
      auto full = in_root(opts.host_root, p);
      if (!full.ok()) {
        // A link loop: refused, and not passed over for the next file.
        h.warnings.push_back(full.error().message);
        h.os_release_file = fact("", "unusable: " + full.error().message);
        failed = true;
        break;
      }
      tried.push_back(*full);
      std::error_code ec;
      if (fs::exists(fs::symlink_status(*full, ec))) {
        chosen = *full;
        break;
      }
    }
  }
  Result<OsRelease> os = make_error(Errc::not_found, "");
  if (failed) {
  } else if (chosen) {
    os = read_os_release(*chosen, opts.os_release_file
                                      ? Symlinks::follow
                                      : links_for(opts.host_root));
    if (os.ok()) {
      h.os_release_file =
          fact(chosen->string(),
               src_prefix.empty() ? "found on the host" : "--os-release");
      for (const auto &s : os->skipped)
        h.warnings.push_back("os-release " + chosen->string() + " " + s +
                             " (skipped)");
    } else {
      h.warnings.push_back(os.error().message);
      h.os_release_file = fact("", "unusable: " + os.error().message);
    }
  } else {
    std::string list;
    for (const auto &t : tried)
      list += (list.empty() ? "" : ", ") + t.string();
    h.os_release_file = fact("", "missing: none of " + list + " exists");
    h.warnings.push_back("no os-release found (" + list +
                         "); matching goes by kernel release alone");
  }
  std::string src = os.ok() ? chosen->string() : h.os_release_file.source;
  auto field = [&](const char *key, const std::optional<std::string> &ovr,
                   const char *flag) {
    if (ovr)
      return fact(*ovr, flag);
    if (!os.ok())
      return fact("", src);
    std::string v = os->get(key);
    return v.empty()
               ? fact("", std::string("missing: no ") + key + " in " + src)
               : fact(v, src);
  };
  h.os_id = field("ID", opts.os_id, "override (os id)");
  h.os_version_id =
      field("VERSION_ID", opts.os_version_id, "override (os version id)");
  h.os_id_like = field("ID_LIKE", opts.os_id_like, "override (os id_like)");
  h.os_name = field("NAME", std::nullopt, "");
  if (os.ok() && !opts.os_id && h.os_id.value.empty())
    h.warnings.push_back("os-release " + src +
                         " has no ID; matching goes by kernel release alone");
}

} // namespace

bool known_arch(std::string_view arch) {
  static constexpr std::array<std::string_view, 12> KNOWN = {
      "x86_64",  "arm64", "s390x", "ppc64le", "riscv64", "loongarch64",
      "aarch64", "i686",  "armhf", "mips64",  "ppc64",   "arm"};
  for (auto k : KNOWN)
    if (k == arch)
      return true;
  return false;
}

std::vector<std::string> HostFacts::id_like() const {
  std::vector<std::string> out;
  std::string cur;
  for (char c : os_id_like.value + " ") {
    if (c == ' ' || c == '\t') {
      if (!cur.empty())
        out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

Result<HostFacts> detect_host(const HostOptions &opts) {
  HostFacts h;
  if (!opts.host_root.empty()) {
    std::error_code ec;
    if (!fs::is_directory(opts.host_root, ec))
      return make_error(Errc::not_found,
                        "host root " + opts.host_root.string() +
                            " is not a directory (--host-root): give the "
                            "directory where the host's filesystem is "
                            "mounted, e.g. /host");
  }
  // --kernel-release simulates another kernel: what this machine's kernel
  // says about itself (its BTF, /proc/version, build-id) is not about it.
  const bool simulated = opts.kernel_release.has_value();
  struct utsname u {};
  bool have_uname = ::uname(&u) == 0;
  int uname_err = errno;
  if (opts.kernel_release) {
    h.kernel_release = fact(*opts.kernel_release, "--kernel-release");
  } else if (have_uname) {
    // In a container the kernel is the host's: uname is right even with
    // a host root.
    h.kernel_release = fact(u.release, "uname(2)");
  } else {
    return make_error(Errc::io, "uname: " + errno_message(uname_err) +
                                    "; pass --kernel-release");
  }
  if (opts.machine) {
    h.machine = fact(*opts.machine, "--arch");
  } else if (have_uname) {
    h.machine = fact(u.machine, "uname(2)");
  } else {
    return make_error(Errc::io,
                      "uname: " + errno_message(uname_err) + "; pass --arch");
  }
  if (h.kernel_release.value.empty())
    return make_error(Errc::invalid_argument, "kernel release is empty (" +
                                                  h.kernel_release.source +
                                                  ")");
  if (h.machine.value.empty())
    return make_error(Errc::invalid_argument,
                      "machine is empty (" + h.machine.source + ")");
  std::string arch = archive_arch(h.machine.value);
  h.arch = fact(arch, arch == h.machine.value
                          ? h.machine.source
                          : h.machine.source + ", " + h.machine.value +
                                " named " + arch + " as in the archive");
  if (!known_arch(arch))
    h.warnings.push_back("arch " + arch +
                         " is not one btfhub-archive knows; expect no match");

  add_os_release(h, opts);

  if (opts.native_btf) {
    h.native_btf = fact(*opts.native_btf ? "yes" : "no", "--native-btf");
  } else if (simulated) {
    h.native_btf = fact("unknown", "simulated kernel (--kernel-release); "
                                   "--native-btf yes|no says");
  } else {
    // A host root without /sys mounted: the kernel is shared, so the
    // container's own /sys tells the truth.
    Result<fs::path> p = fs::path("/sys/kernel/btf/vmlinux");
    auto sys = in_root(opts.host_root, "/sys/kernel");
    std::error_code ec;
    if (!sys.ok())
      p = sys.error();
    else if (!rooted(opts.host_root) ||
             fs::exists(fs::symlink_status(*sys, ec)))
      p = in_root(opts.host_root, "/sys/kernel/btf/vmlinux");
    if (!p.ok()) {
      h.native_btf = fact("no", "unusable: " + p.error().message);
      h.warnings.push_back(p.error().message);
    } else {
      std::string why = native_btf_problem(*p, links_for(opts.host_root));
      h.native_btf =
          fact(why.empty() ? "yes" : "no",
               why.empty() || why == "absent" ? p->string()
                                              : p->string() + " (" + why + ")");
      if (!why.empty() && why != "absent")
        h.warnings.push_back("native BTF " + p->string() + ": " + why);
    }
  }

  if (simulated) {
    h.proc_version = fact("", "not read: simulated kernel (--kernel-release)");
    h.build_id = fact("", "not read: simulated kernel (--kernel-release)");
    return h;
  }
  for (const char *pv : {"/proc/version"}) {
    auto p = host_file(opts.host_root, pv, true);
    if (!p.ok()) {
      h.proc_version = fact("", "unreadable: " + p.error().message);
      continue;
    }
    auto t = read_text_file(*p, 4096, links_for(opts.host_root));
    if (t.ok()) {
      std::string s = *t;
      while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
      h.proc_version = fact(s, p->string());
    } else {
      h.proc_version = fact("", "unreadable: " + t.error().message);
    }
  }
  {
    auto p = host_file(opts.host_root, "/sys/kernel/notes", true);
    std::string why, id;
    if (p.ok())
      id = read_build_id(*p, links_for(opts.host_root), why);
    else
      why = p.error().message;
    h.build_id = id.empty() ? fact("", "unreadable or absent: " + why)
                            : fact(id, p->string());
  }
  return h;
}

} // namespace btfpack
