// SPDX-License-Identifier: Apache-2.0
#include "btfpack/trust.h"

#include <algorithm>
#include <cerrno>
#include <sys/stat.h>

#include "btfpack/file_util.h"
#include "btfpack/paths.h"

namespace btfpack {

namespace fs = std::filesystem;

Result<void> check_bundle_name(std::string_view name, std::string_view what) {
  std::string why;
  if (name.empty())
    why = "it is empty";
  else if (name == "." || name == "..")
    why = "it is '" + std::string(name) + "'";
  else if (name.size() > 128)
    why = "it is " + std::to_string(name.size()) + " bytes long (at most 128)";
  else if (name.front() == '.')
    why = "it starts with '.'";
  for (char c : name) {
    if (!why.empty())
      break;
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\')
      why = std::string("it holds the path character '") + c + "'";
    else if (u < 0x20 || u == 0x7f)
      why = "it holds a control character";
    else if (c == ' ')
      why = "it holds a space";
  }
  if (why.empty())
    return ok();
  std::string shown;
  for (char c : name.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    shown += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return make_error(Errc::invalid_argument,
                    std::string(what) + " '" + shown +
                        "' is not a usable bundle name: " + why +
                        "; a name is letters, digits and . _ + - (as "
                        "`btfpack gen --name` writes it)");
}

namespace {

// read_dir lists `dir`'s entries, sorted; an unreadable or missing
// directory is an error naming it.
Result<std::vector<fs::directory_entry>> read_dir(const fs::path &dir) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec))
    out.push_back(*it);
  if (ec) {
    bool missing = ec == std::errc::no_such_file_or_directory;
    return make_error(
        missing ? Errc::not_found : Errc::io,
        missing ? "no trusted keys: " + dir.string() +
                      " does not exist; pass --key PUB or install a key there"
                : "trust policy: cannot read key directory " + dir.string() +
                      ": " + ec.message() +
                      "; make it readable (root-owned, mode 0755) or pass "
                      "--key PUB");
  }
  std::sort(out.begin(), out.end(),
            [](const auto &a, const auto &b) { return a.path() < b.path(); });
  return out;
}

bool is_key_file(const fs::directory_entry &e) {
  std::error_code ec;
  return e.path().extension() == paths::KEY_SUFFIX && !e.is_directory(ec);
}

Result<TrustedKey> read_key(const fs::path &p, std::string name) {
  auto k = PublicKey::read_file(p);
  if (!k)
    return with_context(std::move(k).error(),
                        "trust policy: key " + p.string());
  return TrustedKey{p, std::move(k.value()), std::move(name)};
}

// read_policy_dir reads dir/*.pub (unbound) and dir/<name>/*.pub (bound).
Result<void> read_policy_dir(const fs::path &dir,
                             std::vector<TrustedKey> &out) {
  BTFPACK_TRY(entries, read_dir(dir));
  for (const auto &e : entries) {
    std::error_code ec;
    if (is_key_file(e)) {
      BTFPACK_TRY(k, read_key(e.path(), ""));
      out.push_back(std::move(k));
      continue;
    }
    if (!e.is_directory(ec))
      continue;
    auto name = e.path().filename().string();
    if (auto c = check_bundle_name(name, "trust policy " + dir.string() +
                                             ": key directory");
        !c)
      return std::move(c).error();
    BTFPACK_TRY(sub, read_dir(e.path()));
    for (const auto &s : sub) {
      if (!is_key_file(s))
        continue;
      BTFPACK_TRY(k, read_key(s.path(), name));
      out.push_back(std::move(k));
    }
  }
  return ok();
}

} // namespace

const TrustedKey *TrustPolicy::find(const KeyId &id) const {
  for (const auto &e : entries_)
    if (e.key.id() == id)
      return &e;
  return nullptr;
}

Error TrustPolicy::about(Error e) const {
  if (e.code == Errc::bad_signature &&
      e.message.find(location_) == std::string::npos)
    e.message += " (trust policy: " + location_ + ")";
  return e;
}

Result<void> TrustPolicy::check_signer(std::string_view name,
                                       const KeyId &id) const {
  std::string bound;
  for (const auto &e : entries_) {
    if (e.key.id() != id)
      continue;
    if (e.name.empty() || e.name == name)
      return ok();
    bound +=
        (bound.empty() ? "" : ", ") + e.name + " (" + e.file.string() + ")";
  }
  std::string head = "bundle '" + std::string(name) + "' is signed by key " +
                     key_id_hex(id) + ", which the trust policy (" + location_ +
                     ") ";
  if (bound.empty())
    return make_error(Errc::bad_signature,
                      head + "does not hold; install the vendor's key");
  return make_error(Errc::bad_signature,
                    head + "trusts only for " + bound +
                        ": a key bound to one name cannot sign another; to "
                        "trust it for this bundle, put it in <keys dir>/" +
                        std::string(name) + "/");
}

Result<void> TrustPolicy::add_text(std::string_view text,
                                   const std::string &what) {
  BTFPACK_TRY(k, PublicKey::parse(text, what));
  keys_.push_back(k);
  entries_.push_back({what, std::move(k), ""});
  location_ += (location_.empty() ? "" : ", ") + what;
  return ok();
}

Result<TrustPolicy> load_trust_policy(const std::vector<fs::path> &files,
                                      const fs::path &dir) {
  TrustPolicy p;
  auto add_location = [&](const fs::path &where) {
    p.location_ += (p.location_.empty() ? "" : ", ") + where.string();
  };
  if (files.empty()) {
    BTFPACK_CHECK(read_policy_dir(dir, p.entries_));
    add_location(dir);
  }
  for (const auto &f : files) {
    std::error_code ec;
    if (fs::is_directory(f, ec)) {
      BTFPACK_CHECK(read_policy_dir(f, p.entries_));
    } else {
      BTFPACK_TRY(k, read_key(f, ""));
      p.entries_.push_back(std::move(k));
    }
    add_location(f);
  }
  if (p.entries_.empty())
    return make_error(Errc::not_found,
                      "no trusted keys: no *.pub in " + p.location_ +
                          " (nor in its <name>/ directories); pass --key PUB "
                          "or install a key there");
  for (const auto &e : p.entries_)
    p.keys_.push_back(e.key);
  return p;
}

} // namespace btfpack
