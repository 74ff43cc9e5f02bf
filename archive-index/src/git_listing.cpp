// SPDX-License-Identifier: Apache-2.0
//
// Remote listings: the archive is a GitHub repository, and its recursive git
// tree (GET /repos/O/R/git/trees/BRANCH?recursive=1) is the cheapest complete
// listing. It gives paths, sizes and git blob ids, not sha256.
#include <nlohmann/json.hpp>

#include "btfpack/archive_index.h"
#include "btfpack/json_parse.h"

namespace btfpack {

namespace {

bool is_lower_hex(const std::string &s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return !s.empty();
}

bool escapes_tree(std::string_view p) {
  if (!p.empty() && p.front() == '/')
    return true;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= p.size(); i++) {
    if (i == p.size() || p[i] == '/') {
      if (p.substr(start, i - start) == "..")
        return true;
      start = i + 1;
    }
  }
  return false;
}

} // namespace

Result<Index> parse_git_tree_listing(std::string_view text,
                                     std::string_view name,
                                     std::vector<std::string> *skipped) {
  using json = nlohmann::json;
  const std::string nm(name);
  auto corrupt = [&](const std::string &why) {
    return make_error(Errc::corrupt, "listing " + nm + ": " + why);
  };
  auto doc_r = detail::parse_json(text, nm);
  if (!doc_r)
    return make_error(Errc::corrupt, "listing " + doc_r.error().message);
  const json &doc = doc_r.value();
  if (!doc.is_object())
    return corrupt("expected a git tree object {\"sha\", \"tree\": [...]}");
  if (auto t = doc.find("truncated");
      t != doc.end() && t->is_boolean() && t->get<bool>())
    return corrupt("the listing is truncated (GitHub returns at most 100000 "
                   "entries): list the distro subtrees separately");
  auto tree = doc.find("tree");
  if (tree == doc.end() || !tree->is_array())
    return corrupt("no \"tree\" array: not a git tree listing");
  Index idx;
  idx.source = nm;
  idx.entries.reserve(tree->size());
  for (std::size_t i = 0; i < tree->size(); i++) {
    const json &t = (*tree)[i];
    auto where = "tree entry " + std::to_string(i);
    if (!t.is_object())
      return corrupt(where + " is not an object");
    auto p = t.find("path");
    if (p == t.end() || !p->is_string())
      return corrupt(where + " has no \"path\" string");
    const auto &path = p->get_ref<const std::string &>();
    if (escapes_tree(path))
      return corrupt(where + " path '" + path +
                     "' escapes the archive (absolute or '..'): refusing "
                     "the listing");
    auto ty = t.find("type");
    if (ty == t.end() || !ty->is_string())
      return corrupt(where + " ('" + path + "') has no \"type\"");
    if (ty->get_ref<const std::string &>() != "blob")
      continue; // trees and submodules
    std::string mode;
    if (auto m = t.find("mode"); m != t.end() && m->is_string())
      mode = m->get<std::string>();
    if (mode == "120000" || mode == "160000") {
      if (skipped)
        skipped->push_back("archive path '" + path + "': symlink, skipped");
      continue;
    }
    auto parsed = parse_archive_path(path);
    if (!parsed) {
      if (skipped)
        skipped->push_back(parsed.error().message + ", skipped");
      continue;
    }
    IndexEntry e = std::move(parsed).value();
    auto sz = t.find("size");
    if (sz == t.end() || !sz->is_number_unsigned())
      return corrupt(where + " ('" + path + "') has no valid \"size\"");
    e.size = sz->get<std::uint64_t>();
    auto sha = t.find("sha");
    if (sha == t.end() || !sha->is_string() ||
        !is_lower_hex(sha->get_ref<const std::string &>()) ||
        (sha->get_ref<const std::string &>().size() != 40 &&
         sha->get_ref<const std::string &>().size() != 64))
      return corrupt(where + " ('" + path + "') has no valid \"sha\"");
    e.git_blob = sha->get<std::string>();
    idx.entries.push_back(std::move(e));
  }
  idx.sort();
  for (std::size_t i = 1; i < idx.entries.size(); i++)
    if (idx.entries[i].path == idx.entries[i - 1].path)
      return corrupt("duplicate path '" + idx.entries[i].path + "'");
  return idx;
}

} // namespace btfpack
