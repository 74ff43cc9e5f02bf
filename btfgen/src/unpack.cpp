// SPDX-License-Identifier: Apache-2.0
//
// Unpacking one `.btf.tar.xz` with libarchive (no tar subprocess). An
// archive mirror is untrusted input: only one regular `.btf` member is
// written, under a name we choose, and its size is counted as it streams
// (the header's size is not trusted).
#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btfpack/btfgen.h"
#include "btfpack/c_free.h"
#include "btfpack/file_util.h"
#include "btfpack/unique_fd.h"

namespace btfpack::btfgen {

namespace {

using ArchivePtr = CHandle<struct archive, archive_read_free>;

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

// member_problem says why a member name is refused, or "" when it is fine.
std::string member_problem(std::string_view name) {
  if (name.empty())
    return "empty member name";
  if (name.front() == '/')
    return "absolute member name";
  std::size_t pos = 0;
  while (pos <= name.size()) {
    auto next = name.find('/', pos);
    auto part =
        name.substr(pos, next == std::string_view::npos ? std::string_view::npos
                                                        : next - pos);
    if (part == "..")
      return "member name with '..'";
    if (next == std::string_view::npos)
      break;
    pos = next + 1;
  }
  return {};
}

ArchivePtr new_reader() {
  ArchivePtr a(archive_read_new());
  if (a) {
    archive_read_support_filter_xz(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
  }
  return a;
}

// Sink receives the BTF member's bytes.
struct Sink {
  virtual ~Sink() = default;
  virtual Result<void> write(const void *buf, std::size_t len) = 0;
};

struct FileSink : Sink {
  UniqueFd fd;
  fs::path path;
  Result<void> write(const void *buf, std::size_t len) override {
    return write_fully(fd.get(),
                       std::span<const std::uint8_t>(
                           static_cast<const std::uint8_t *>(buf), len),
                       path.string());
  }
};

struct MemorySink : Sink {
  std::vector<std::uint8_t> data;
  Result<void> write(const void *buf, std::size_t len) override {
    const auto *p = static_cast<const std::uint8_t *>(buf);
    data.insert(data.end(), p, p + len);
    return ok();
  }
};

// extract walks the members; `open_sink` is called once for the BTF member.
Result<void> extract(struct archive *a, const std::string &where,
                     const UnpackLimits &limits,
                     const std::function<Result<Sink *>()> &open_sink) {
  std::size_t members = 0;
  std::uint64_t skipped = 0;
  bool have_btf = false;
  const auto deadline = std::chrono::steady_clock::now() + limits.time_limit;
  auto too_slow = [&]() -> Result<void> {
    if (std::chrono::steady_clock::now() <= deadline)
      return ok();
    return make_error(
        Errc::corrupt,
        where + ": unpacking took longer than " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                               limits.time_limit)
                               .count()) +
            " s (the limit for one archive entry); refused");
  };
  for (;;) {
    BTFPACK_CHECK(too_slow());
    struct archive_entry *ent = nullptr;
    int rc = archive_read_next_header(a, &ent);
    if (rc == ARCHIVE_EOF)
      break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      return make_error(Errc::corrupt, where +
                                           ": corrupt or truncated archive: " +
                                           (archive_error_string(a)
                                                ? archive_error_string(a)
                                                : "unknown libarchive error"));
    if (++members > limits.max_members)
      return make_error(Errc::corrupt, where + ": more than " +
                                           std::to_string(limits.max_members) +
                                           " members (expected one .btf)");
    const char *pn = archive_entry_pathname(ent);
    std::string name = pn ? pn : "";
    if (auto why = member_problem(name); !why.empty())
      return make_error(Errc::corrupt,
                        where + ": refused member '" + name + "': " + why);
    auto type = archive_entry_filetype(ent);
    if (archive_entry_hardlink(ent) || archive_entry_symlink(ent) ||
        type == AE_IFLNK)
      return make_error(Errc::corrupt, where + ": refused member '" + name +
                                           "': links are not allowed");
    // Whatever is not the .btf is decompressed to be skipped (at the next
    // header): bounded by what the headers declare, before that work.
    if (type == AE_IFDIR || !ends_with(name, ".btf")) {
      if (archive_entry_size_is_set(ent) && archive_entry_size(ent) > 0)
        skipped += static_cast<std::uint64_t>(archive_entry_size(ent));
      if (skipped > limits.max_skipped_bytes)
        return make_error(
            Errc::corrupt,
            where + ": refused member '" + name + "': other members than the " +
                ".btf hold more than " +
                std::to_string(limits.max_skipped_bytes) +
                " bytes, which would be decompressed only to be skipped");
    }
    if (type == AE_IFDIR)
      continue;
    if (type != AE_IFREG)
      return make_error(Errc::corrupt,
                        where + ": refused member '" + name +
                            "': not a regular file (device, fifo or socket)");
    if (!ends_with(name, ".btf"))
      continue; // e.g. a README: not read, not written
    if (have_btf)
      return make_error(Errc::corrupt,
                        where + ": more than one .btf member (second: '" +
                            name + "')");
    have_btf = true;
    if (archive_entry_size_is_set(ent) &&
        static_cast<std::uint64_t>(archive_entry_size(ent)) >
            limits.max_btf_bytes)
      return make_error(Errc::corrupt,
                        where + ": member '" + name + "' declares " +
                            std::to_string(archive_entry_size(ent)) +
                            " bytes, over the limit of " +
                            std::to_string(limits.max_btf_bytes));
    BTFPACK_TRY(sink, open_sink());
    std::uint64_t total = 0;
    const void *buf;
    std::size_t len;
    la_int64_t off;
    for (;;) {
      rc = archive_read_data_block(a, &buf, &len, &off);
      if (rc == ARCHIVE_EOF)
        break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        return make_error(
            Errc::corrupt,
            where + ": corrupt or truncated data in '" + name + "': " +
                (archive_error_string(a) ? archive_error_string(a)
                                         : "unknown libarchive error"));
      // Sparse members: holes are not written, offsets must be monotonic.
      if (off < 0 || static_cast<std::uint64_t>(off) != total)
        return make_error(Errc::corrupt, where + ": refused member '" + name +
                                             "': sparse or out-of-order data");
      total += len;
      if (total > limits.max_btf_bytes)
        return make_error(Errc::corrupt,
                          where + ": member '" + name +
                              "' is over the limit of " +
                              std::to_string(limits.max_btf_bytes) + " bytes");
      BTFPACK_CHECK(sink->write(buf, len));
      BTFPACK_CHECK(too_slow());
    }
    if (total == 0)
      return make_error(Errc::corrupt,
                        where + ": member '" + name + "' is empty");
  }
  if (!have_btf)
    return make_error(Errc::corrupt,
                      where + ": no .btf member in the archive (expected "
                              "<release>.btf)");
  return ok();
}

} // namespace

Result<fs::path> unpack_btf_tar_xz(const fs::path &archive,
                                   const fs::path &dest_dir,
                                   const UnpackLimits &limits) {
  const std::string where = "unpack " + archive.string();
  ArchivePtr a = new_reader();
  if (!a)
    return make_error(Errc::internal, where + ": archive_read_new failed");
  auto opened = open_regular_file(archive);
  if (!opened.ok())
    return make_error(opened.error().code, "unpack: " + opened.error().message);
  UniqueFd in = std::move(*opened);
  if (archive_read_open_fd(a.get(), in.get(), 1 << 16) != ARCHIVE_OK)
    return make_error(Errc::corrupt, where + ": not an xz-compressed tar: " +
                                         (archive_error_string(a.get())
                                              ? archive_error_string(a.get())
                                              : "unknown format"));
  FileSink sink;
  sink.path = dest_dir / "input.btf";
  auto rc = extract(a.get(), where, limits, [&]() -> Result<Sink *> {
    sink.fd = UniqueFd(
        ::open(sink.path.c_str(),
               O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!sink.fd)
      return make_error(Errc::io, "create " + sink.path.string() + ": " +
                                      errno_message(errno));
    return static_cast<Sink *>(&sink);
  });
  if (!rc.ok()) {
    sink.fd.reset();
    std::error_code ec;
    fs::remove(sink.path, ec);
    return std::move(rc).error();
  }
  return sink.path;
}

Result<std::vector<std::uint8_t>>
unpack_btf_tar_xz_memory(std::span<const std::uint8_t> data,
                         const UnpackLimits &limits) {
  const std::string where = "unpack <memory>";
  ArchivePtr a = new_reader();
  if (!a)
    return make_error(Errc::internal, where + ": archive_read_new failed");
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK)
    return make_error(Errc::corrupt, where + ": not an xz-compressed tar: " +
                                         (archive_error_string(a.get())
                                              ? archive_error_string(a.get())
                                              : "unknown format"));
  MemorySink sink;
  BTFPACK_CHECK(extract(a.get(), where, limits,
                        [&]() -> Result<Sink *> { return &sink; }));
  return std::move(sink.data);
}

} // namespace btfpack::btfgen
