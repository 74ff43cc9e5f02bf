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

// in_root maps an absolute host path into host_root, following symlinks
// inside the root: /etc/os-release is usually a symlink to
// ../usr/lib/os-release, and an absolute target must not escape into the
// container's own files.
fs::path in_root(const fs::path &root, const fs::path &abs) {
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
    if (!ec && fs::is_symlink(st) && ++hops <= 32) {
      fs::path target = fs::read_symlink(root / next, ec);
      if (ec)
        return root / next;
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

Fact fact(std::string value, std::string source) {
  return Fact{std::move(value), std::move(source)};
}

// read_build_id finds the GNU build-id note (NT_GNU_BUILD_ID, 3) in the
// kernel's notes (a sequence of Elf_Nhdr records, 4-byte aligned).
std::string read_build_id(const fs::path &notes) {
  auto data = read_file(notes, 64 * 1024);
  if (!data.ok())
    return {};
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
  std::string src_prefix;
  if (opts.os_release_file) {
    chosen = *opts.os_release_file;
    src_prefix = "--os-release ";
  } else {
    for (const char *p : {"/etc/os-release", "/usr/lib/os-release"}) {
      fs::path full = in_root(opts.host_root, p);
      tried.push_back(full);
      std::error_code ec;
      if (fs::exists(full, ec)) {
        chosen = full;
        break;
      }
    }
  }
  Result<OsRelease> os = make_error(Errc::not_found, "");
  if (chosen) {
    os = read_os_release(*chosen);
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
    fs::path p = in_root(opts.host_root, "/sys/kernel/btf/vmlinux");
    std::error_code ec;
    // A host root without /sys mounted: the kernel is shared, so the
    // container's own /sys tells the truth.
    if (rooted(opts.host_root) &&
        !fs::exists(in_root(opts.host_root, "/sys/kernel"), ec))
      p = "/sys/kernel/btf/vmlinux";
    bool yes = fs::exists(p, ec);
    h.native_btf = fact(yes ? "yes" : "no", p.string());
  }

  if (simulated) {
    h.proc_version = fact("", "not read: simulated kernel (--kernel-release)");
    h.build_id = fact("", "not read: simulated kernel (--kernel-release)");
    return h;
  }
  for (const char *pv : {"/proc/version"}) {
    fs::path p = in_root(opts.host_root, pv);
    std::error_code ec;
    if (rooted(opts.host_root) && !fs::exists(p, ec))
      p = pv;
    auto t = read_text_file(p, 4096);
    if (t.ok()) {
      std::string s = *t;
      while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
      h.proc_version = fact(s, p.string());
    } else {
      h.proc_version = fact("", "unreadable: " + t.error().message);
    }
  }
  {
    fs::path p = in_root(opts.host_root, "/sys/kernel/notes");
    std::error_code ec;
    if (rooted(opts.host_root) && !fs::exists(p, ec))
      p = "/sys/kernel/notes";
    std::string id = read_build_id(p);
    h.build_id = id.empty() ? fact("", "unreadable or absent: " + p.string())
                            : fact(id, p.string());
  }
  return h;
}

} // namespace btfpack
