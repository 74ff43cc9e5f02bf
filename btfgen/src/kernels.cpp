// SPDX-License-Identifier: Apache-2.0
//
// Where the work comes from besides the archive index: custom kernels
// (vendor builds btfhub does not carry) and the shard selection.
#include <algorithm>
#include <cstring>

#include "btfpack/btfgen.h"

namespace btfpack::btfgen {

namespace {

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

bool valid_component(std::string_view c) {
  return !c.empty() && c != "." && c != ".." && c.front() != '.' &&
         c.find('/') == std::string_view::npos;
}

} // namespace

Result<std::vector<Kernel>> scan_custom_dir(const fs::path &dir) {
  std::vector<Kernel> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return make_error(Errc::not_found,
                      "custom kernels " + dir.string() +
                          ": not a directory (expected "
                          "DIR/<distro>/<version>/<arch>/<release>.btf)");
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec)
    return make_error(Errc::io, "read " + dir.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec)
      return make_error(Errc::io, "read " + dir.string() + ": " + ec.message());
    if (!it->is_regular_file(ec))
      continue;
    fs::path rel = fs::relative(it->path(), dir, ec);
    std::vector<std::string> parts;
    for (const auto &p : rel)
      parts.push_back(p.string());
    if (parts.size() != 4)
      continue;
    const std::string &file = parts[3];
    Kernel k;
    if (ends_with(file, ".btf.tar.xz")) {
      k.key.release = file.substr(0, file.size() - 11);
      k.packed = true;
    } else if (ends_with(file, ".btf")) {
      k.key.release = file.substr(0, file.size() - 4);
      k.packed = false;
    } else if (file.rfind("vmlinux-", 0) == 0) {
      k.key.release = file.substr(8);
      k.packed = false;
    } else {
      continue;
    }
    k.key.distro = parts[0];
    k.key.version = parts[1];
    k.key.arch = parts[2];
    if (!valid_component(k.key.distro) || !valid_component(k.key.version) ||
        !valid_component(k.key.arch) || !valid_component(k.key.release))
      continue;
    k.path = "custom:" + k.key.distro + "/" + k.key.version + "/" + k.key.arch +
             "/" + k.key.release;
    k.file = fs::absolute(it->path());
    k.size = it->file_size(ec);
    k.source = "custom";
    out.push_back(std::move(k));
  }
  return out;
}

Result<Kernel> parse_extra_kernel(std::string_view spec) {
  auto eq = spec.find('=');
  auto bad = [&](const std::string &why) {
    return make_error(Errc::invalid_argument,
                      "--extra '" + std::string(spec) + "': " + why +
                          " (expected DISTRO/VERSION/ARCH/RELEASE=FILE, e.g. "
                          "debian/12/x86_64/6.1.0-47-amd64=/sys/kernel/btf/"
                          "vmlinux)");
  };
  if (eq == std::string_view::npos)
    return bad("no '='");
  std::string key(spec.substr(0, eq));
  std::string file(spec.substr(eq + 1));
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (;;) {
    auto s = key.find('/', pos);
    parts.push_back(key.substr(pos, s == std::string::npos ? s : s - pos));
    if (s == std::string::npos)
      break;
    pos = s + 1;
  }
  if (parts.size() != 4)
    return bad("the kernel needs four parts");
  for (const auto &p : parts)
    if (!valid_component(p))
      return bad("empty or hidden part '" + p + "'");
  if (file.empty())
    return bad("no file");
  Kernel k;
  k.key = {parts[0], parts[1], parts[2], parts[3]};
  k.path = "custom:" + key;
  k.file = fs::absolute(file);
  k.packed = ends_with(file, ".tar.xz");
  k.source = "custom";
  std::error_code ec;
  k.size = fs::file_size(k.file, ec);
  if (ec)
    return make_error(Errc::not_found, "--extra " + file + ": " + ec.message());
  return k;
}

Result<Shard> Shard::parse(std::string_view text) {
  auto slash = text.find('/');
  auto bad = make_error(Errc::invalid_argument,
                        "--shard '" + std::string(text) +
                            "': expected K/N with 1 <= K <= N, e.g. 2/4");
  if (slash == std::string_view::npos)
    return bad;
  Shard s;
  try {
    std::size_t used = 0;
    std::string k(text.substr(0, slash)), n(text.substr(slash + 1));
    s.k = static_cast<unsigned>(std::stoul(k, &used));
    if (used != k.size())
      return bad;
    s.n = static_cast<unsigned>(std::stoul(n, &used));
    if (used != n.size())
      return bad;
  } catch (const std::exception &) {
    return bad;
  }
  if (s.n == 0 || s.k == 0 || s.k > s.n || s.n > 100000)
    return bad;
  return s;
}

bool Shard::contains(const KernelKey &key) const {
  if (n <= 1)
    return true;
  Sha256 d = sha256(key.distro + "/" + key.version + "/" + key.arch + "/" +
                    key.release);
  std::uint64_t h = 0;
  for (int i = 0; i < 8; i++)
    h = (h << 8) | d[static_cast<std::size_t>(i)];
  return h % n == k - 1;
}

} // namespace btfpack::btfgen
