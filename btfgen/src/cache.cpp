// SPDX-License-Identifier: Apache-2.0
#include "cache.h"

#include <nlohmann/json.hpp>

#include "btfpack/file_util.h"
#include "btfpack/json_parse.h"
#include "json_codec.h"

namespace btfpack::btfgen {

namespace {
constexpr const char *CACHE_VERSION = "v1";
}

std::string Cache::key(const std::string &input_sha256,
                       const std::vector<const ObjectInfo *> &objects,
                       const Bpftool &bpftool) {
  // The checks are part of what a record asserts, so their version is too.
  // check2: an empty minimized BTF is a failure (check1 recorded it "ok").
  std::string k = std::string("btfpack-gen-") + CACHE_VERSION + "-check2\n" +
                  input_sha256 + "\n" + bpftool.version + "\n";
  for (const auto *o : objects)
    k += to_hex(o->digest) + "\n";
  return to_hex(sha256(k));
}

fs::path Cache::blob_path(const Sha256 &digest) const {
  std::string h = to_hex(digest);
  return dir_ / CACHE_VERSION / "blobs" / h.substr(0, 2) / (h + ".btf");
}

bool Cache::has_blob(const Sha256 &digest) const {
  std::error_code ec;
  return fs::is_regular_file(blob_path(digest), ec);
}

Result<void> Cache::put_blob(const Sha256 &digest,
                             std::span<const std::uint8_t> bytes) const {
  fs::path p = blob_path(digest);
  if (has_blob(digest)) {
    auto d = sha256_file(p);
    if (d.ok() && *d == digest)
      return ok();
  }
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec)
    return make_error(Errc::io, "create cache dir " + p.parent_path().string() +
                                    ": " + ec.message() + " (check --cache)");
  return write_file_atomic(p, bytes, Durability::none);
}

std::optional<EntryResult> Cache::get(const std::string &key) const {
  fs::path p =
      dir_ / CACHE_VERSION / "results" / key.substr(0, 2) / (key + ".json");
  std::error_code ec;
  if (!fs::is_regular_file(p, ec))
    return std::nullopt;
  auto text = read_text_file(p, 16u << 20);
  if (!text.ok())
    return std::nullopt;
  auto j = parse_json(*text, p.string());
  if (!j.ok())
    return std::nullopt;
  EntryResult r;
  if (!entry_outcome_from_json(*j, r))
    return std::nullopt;
  if (r.status == Status::ok) {
    // A blob that did not survive (crash, disk, hand edit) is a miss.
    auto d = r.blob ? sha256_file(blob_path(*r.blob)) : Result<Sha256>(Error{});
    if (!d.ok() || *d != *r.blob)
      return std::nullopt;
  }
  r.cached = true;
  return r;
}

Result<void> Cache::put(const std::string &key, const EntryResult &r) const {
  fs::path p =
      dir_ / CACHE_VERSION / "results" / key.substr(0, 2) / (key + ".json");
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec)
    return make_error(Errc::io, "create cache dir " + p.parent_path().string() +
                                    ": " + ec.message() + " (check --cache)");
  return write_file_atomic(p, entry_outcome_to_json(r).dump(),
                           Durability::none);
}

fs::path Cache::index_path(const fs::path &archive) const {
  std::string h =
      to_hex(sha256(fs::absolute(archive).lexically_normal().string()));
  return dir_ / CACHE_VERSION / "index" / (h + ".json");
}

} // namespace btfpack::btfgen
