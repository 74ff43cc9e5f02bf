// SPDX-License-Identifier: Apache-2.0
//
// btfpack fetch against real servers on 127.0.0.1: Debian's nginx serving
// the corpus, and FaultServer for the faults nginx cannot produce. Every
// fault case ends with a complete verified mirror or a clear error, and
// never with a bad file in the mirror.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "btfpack/archive_index.h"
#include "btfpack/sha256.h"
#include "fault_server.h"
#include "nginx_fixture.h"
#include "test_util.h"

namespace btfpack::test {
namespace {

using json = nlohmann::json;

struct CorpusFile {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;
};

// sample_index is the same truth for the committed sample archive, from
// coreutils' sha256sum (an independent implementation).
std::map<std::string, CorpusFile> sample_index() {
  std::map<std::string, CorpusFile> m;
  for (auto &e : fs::recursive_directory_iterator(sample_archive())) {
    if (!e.is_regular_file())
      continue;
    auto rel = fs::relative(e.path(), sample_archive()).string();
    auto r = run({"sha256sum", e.path().string()});
    EXPECT_EQ(r.status, 0) << r.err;
    m[rel] = {rel, e.file_size(), r.out.substr(0, 64)};
  }
  return m;
}

// corpus reads INDEX.tsv: the independent truth about every corpus file;
// without ../shared, about the files of the committed sample.
const std::map<std::string, CorpusFile> &corpus() {
  static const std::map<std::string, CorpusFile> files = [] {
    if (!has_corpus())
      return sample_index();
    std::map<std::string, CorpusFile> m;
    std::ifstream in(corpus_dir() / "INDEX.tsv");
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
      std::vector<std::string> col;
      std::istringstream ls(line);
      for (std::string c; std::getline(ls, c, '\t');)
        col.push_back(c);
      if (col.size() < 8)
        continue;
      m[col[0]] = {col[0], std::stoull(col[5]), col[7]};
    }
    return m;
  }();
  return files;
}

std::vector<std::string> all_paths() {
  std::vector<std::string> v;
  for (auto &[p, f] : corpus())
    v.push_back(p);
  return v;
}

// subset picks n files spread over the corpus (every k-th), for speed.
std::vector<std::string> subset(std::size_t n) {
  auto all = all_paths();
  std::vector<std::string> v;
  std::size_t step = std::max<std::size_t>(1, all.size() / n);
  for (std::size_t i = 0; i < all.size() && v.size() < n; i += step)
    v.push_back(all[i]);
  return v;
}

// make_root builds a served tree of symlinks to the corpus files.
fs::path make_root(const fs::path &root,
                   const std::vector<std::string> &paths) {
  for (auto &p : paths) {
    fs::create_directories((root / p).parent_path());
    fs::create_symlink(test_archive() / p, root / p);
  }
  return root;
}

// tree_listing writes a GitHub-shaped recursive git tree listing of `paths`
// with blob ids from `git hash-object` (an independent implementation).
fs::path write_listing(const fs::path &file,
                       const std::vector<std::string> &paths) {
  std::string list;
  for (auto &p : paths)
    list += (test_archive() / p).string() + "\n";
  auto r = run({"git", "hash-object", "--stdin-paths"}, list);
  EXPECT_EQ(r.status, 0) << r.err;
  std::istringstream ids(r.out);
  json tree = json::array();
  std::map<std::string, bool> dirs;
  for (auto &p : paths) {
    std::string id;
    ids >> id;
    for (auto slash = p.find('/'); slash != std::string::npos;
         slash = p.find('/', slash + 1))
      dirs[p.substr(0, slash)] = true;
    tree.push_back({{"path", p},
                    {"mode", "100644"},
                    {"type", "blob"},
                    {"size", corpus().at(p).size},
                    {"sha", id}});
  }
  for (auto &[d, _] : dirs)
    tree.push_back({{"path", d},
                    {"mode", "040000"},
                    {"type", "tree"},
                    {"sha", std::string(40, '0')}});
  json doc = {{"sha", std::string(40, 'a')},
              {"url", "test"},
              {"tree", tree},
              {"truncated", false}};
  std::ofstream(file) << doc.dump(1);
  return file;
}

CmdResult fetch(const std::vector<std::string> &args) {
  std::vector<std::string> argv = {cli_path().string(), "fetch"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

json summary(const CmdResult &r) {
  auto j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out << r.err;
  return j.is_discarded() ? json::object() : j;
}

// partial_of is where the fetcher keeps a path's partial download.
fs::path partial_of(const fs::path &mirror, const std::string &rel) {
  std::string name;
  for (char c : rel)
    name += c == '/' ? std::string("%2F") : std::string(1, c);
  return mirror / ".partial" / (name + ".part");
}

std::string sha_of(const fs::path &p) {
  auto d = sha256_file(p);
  return d ? to_hex(*d) : std::string("unreadable");
}

// visible_files lists the regular files of the mirror a reader would see.
std::vector<std::string> visible_files(const fs::path &dir) {
  std::vector<std::string> v;
  if (!fs::exists(dir))
    return v;
  for (auto it = fs::recursive_directory_iterator(dir);
       it != fs::recursive_directory_iterator(); ++it) {
    auto rel = fs::relative(it->path(), dir).string();
    if (rel == ".partial") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && rel != "index.json" && rel != ".fetch.lock")
      v.push_back(rel);
  }
  return v;
}

// expect_no_bad_file: everything visible in the mirror is a corpus file
// with exactly the corpus content.
void expect_no_bad_file(const fs::path &dir) {
  for (auto &rel : visible_files(dir)) {
    auto it = corpus().find(rel);
    ASSERT_NE(it, corpus().end()) << "unexpected file in mirror: " << rel;
    EXPECT_EQ(sha_of(dir / rel), it->second.sha256) << "bad file: " << rel;
  }
}

void expect_mirror(const fs::path &dir, const std::vector<std::string> &paths) {
  expect_no_bad_file(dir);
  auto vis = visible_files(dir);
  EXPECT_EQ(vis.size(), paths.size());
  for (auto &p : paths)
    EXPECT_TRUE(fs::exists(dir / p)) << "missing " << p;
}

struct Fixture {
  TempDir tmp;
  fs::path root() const { return tmp.path() / "root"; }
  fs::path mirror() const { return tmp.path() / "mirror"; }
  fs::path listing() const { return tmp.path() / "listing.json"; }
};

TEST(Fetch, MirrorsCorpusFromNginxThenNoOpRerun) {
  SKIP_UNLESS_CORPUS();
  SKIP_UNLESS_NGINX();
  Fixture f;
  auto paths = all_paths();
  ASSERT_GE(paths.size(), 100u);
  make_root(f.root(), paths);
  // The recorded git tree of the corpus (archive-index's test data: a
  // second, independent source of blob ids), served by nginx like GitHub's.
  fs::path recorded = data_dir() / "listing" / "corpus-tree.json";
  if (fs::exists(recorded))
    fs::copy_file(recorded, f.root() / "listing.json");
  else
    write_listing(f.root() / "listing.json", paths);
  std::string err;
  auto ng = NginxServer::start({f.root(), ""}, &err);
  ASSERT_TRUE(ng) << err;

  auto r = fetch({"--from", ng->url(), "--listing", ng->url() + "/listing.json",
                  "--to", f.mirror().string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto j = summary(r);
  EXPECT_EQ(j["fetched"], paths.size());
  EXPECT_EQ(j["skipped"], 0);
  EXPECT_TRUE(j["failed"].empty());
  EXPECT_TRUE(j["index_written"].get<bool>());
  expect_mirror(f.mirror(), paths);
  EXPECT_FALSE(fs::exists(f.mirror() / ".partial"));

  // The index the fetch wrote agrees with INDEX.tsv.
  auto idx = Index::read_file(f.mirror() / "index.json");
  ASSERT_TRUE(idx) << idx.error().message;
  ASSERT_EQ(idx->entries.size(), paths.size());
  for (auto &e : idx->entries) {
    EXPECT_EQ(e.sha256, corpus().at(e.path).sha256) << e.path;
    EXPECT_EQ(e.size, corpus().at(e.path).size) << e.path;
  }

  // A second run fetches nothing, asks the server for nothing but the
  // listing, and is fast.
  int before = ng->requests(".btf.tar.xz");
  auto r2 =
      fetch({"--from", ng->url(), "--listing", ng->url() + "/listing.json",
             "--to", f.mirror().string(), "--json"});
  ASSERT_EQ(r2.status, 0) << r2.out << r2.err;
  auto j2 = summary(r2);
  EXPECT_EQ(j2["fetched"], 0);
  EXPECT_EQ(j2["skipped"], paths.size());
  EXPECT_LT(j2["seconds"].get<double>(), 1.0);
  EXPECT_EQ(ng->requests(".btf.tar.xz"), before);
}

TEST(Fetch, DryRunAndFilters) {
  SKIP_UNLESS_CORPUS();
  SKIP_UNLESS_NGINX();
  Fixture f;
  auto paths = all_paths();
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  std::string err;
  auto ng = NginxServer::start({f.root(), ""}, &err);
  ASSERT_TRUE(ng) << err;

  std::vector<std::string> arm, arm61;
  std::uint64_t arm_bytes = 0;
  for (auto &p : paths) {
    if (p.rfind("debian/12/arm64/", 0) != 0)
      continue;
    arm.push_back(p);
    arm_bytes += corpus().at(p).size;
    if (p.rfind("debian/12/arm64/6.1.0-5", 0) == 0)
      arm61.push_back(p);
  }
  ASSERT_FALSE(arm.empty());
  ASSERT_FALSE(arm61.empty());

  auto r = fetch({"--from", ng->url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--distro", "debian",
                  "--version", "12", "--arch", "arm64", "--dry-run", "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto j = summary(r);
  EXPECT_EQ(j["to_fetch"].size(), arm.size());
  EXPECT_EQ(j["bytes"], arm_bytes);
  EXPECT_TRUE(visible_files(f.mirror()).empty());
  EXPECT_EQ(ng->requests(".btf.tar.xz"), 0);

  r = fetch({"--from", ng->url(), "--listing", f.listing().string(), "--to",
             f.mirror().string(), "--distro", "debian", "--version", "12",
             "--arch", "arm64", "--release", "6.1.0-5*", "-j", "3", "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["fetched"], arm61.size());
  expect_mirror(f.mirror(), arm61);

  // Text mode dry run names the files and the total.
  r = fetch({"--from", ng->url(), "--listing", f.listing().string(), "--to",
             f.mirror().string(), "--distro", "debian", "--version", "12",
             "--arch", "arm64", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(
      r.out.find("would fetch " + std::to_string(arm.size() - arm61.size())),
      std::string::npos)
      << r.out;
}

TEST(Fetch, LocalDirectoryAndFileUrlSources) {
  SKIP_UNLESS_CORPUS();
  Fixture f;
  std::vector<std::string> amzn;
  for (auto &p : all_paths())
    if (p.rfind("amzn/", 0) == 0)
      amzn.push_back(p);
  ASSERT_FALSE(amzn.empty());
  // A local directory lists itself (a scan, sha256 digests).
  auto r = fetch({"--from", test_archive().string(), "--to",
                  f.mirror().string(), "--distro", "amzn", "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["fetched"], amzn.size());
  expect_mirror(f.mirror(), amzn);

  // file:// with a git tree listing (git blob ids).
  auto some = subset(5);
  write_listing(f.listing(), some);
  TempDir m2;
  r = fetch({"--from", "file://" + test_archive().string(), "--listing",
             f.listing().string(), "--to", m2.path().string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["fetched"], some.size());
  expect_mirror(m2.path(), some);

  // A btfpack index (sha256 digests) is a listing too: the first mirror's.
  TempDir m3;
  r = fetch({"--from", f.mirror().string(), "--listing",
             (f.mirror() / "index.json").string(), "--to", m3.path().string(),
             "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["fetched"], amzn.size());
  expect_mirror(m3.path(), amzn);

  // Blob ids of a SHA-256 git repository (64 digits) verify too.
  TempDir repo, m4;
  ASSERT_EQ(
      run({"git", "init", "-q", "--object-format=sha256", repo.path().string()})
          .status,
      0);
  json tree = json::array();
  for (auto &p : some) {
    auto h = run({"git", "-C", repo.path().string(), "hash-object",
                  (test_archive() / p).string()});
    ASSERT_EQ(h.status, 0) << h.err;
    tree.push_back({{"path", p},
                    {"mode", "100644"},
                    {"type", "blob"},
                    {"size", corpus().at(p).size},
                    {"sha", h.out.substr(0, 64)}});
  }
  std::ofstream(f.listing()) << json{
      {"sha", std::string(64, 'b')},
      {"tree", tree},
      {"truncated", false}}.dump();
  r = fetch({"--from", "file://" + test_archive().string(), "--listing",
             f.listing().string(), "--to", m4.path().string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  expect_mirror(m4.path(), some);
}

TEST(Fetch, ConnectionResetMidBodyIsResumed) {
  Fixture f;
  auto paths = subset(6);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  // The first two requests of two files are cut after 100 kB with a RST.
  FaultServer srv(f.root(), {{paths[0], Fault::Kind::reset, 2, 0, -1, 100000},
                             {paths[3], Fault::Kind::reset, 2, 0, -1, 100000}});
  ASSERT_TRUE(srv.running());
  auto r = fetch({"--from", srv.url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--json", "--retries", "3"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto j = summary(r);
  EXPECT_EQ(j["fetched"], paths.size());
  EXPECT_GE(j["resumed"].get<int>(), 2);
  EXPECT_GE(j["retries"].get<int>(), 4);
  expect_mirror(f.mirror(), paths);
  // Resumed with Range requests, not fetched again from byte 0.
  EXPECT_EQ(srv.requests(paths[0]), 3);
  EXPECT_EQ(srv.ranged(paths[0]), 2);
  EXPECT_EQ(srv.ranged(paths[3]), 2);
}

TEST(Fetch, ServerErrorsAreRetriedWithBackoffAndRetryAfter) {
  Fixture f;
  auto paths = subset(5);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  FaultServer srv(f.root(), {{paths[0], Fault::Kind::status, 2, 503, 1, 0},
                             {paths[1], Fault::Kind::status, 1, 500, -1, 0},
                             {paths[2], Fault::Kind::status, 1, 429, 1, 0}});
  ASSERT_TRUE(srv.running());
  auto t0 = std::chrono::steady_clock::now();
  auto r = fetch({"--from", srv.url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--json", "--retries", "3"});
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["retries"], 4);
  expect_mirror(f.mirror(), paths);
  EXPECT_EQ(srv.requests(paths[0]), 3);
  EXPECT_EQ(srv.requests(paths[1]), 2);
  EXPECT_EQ(srv.requests(paths[2]), 2);
  EXPECT_GE(secs, 2.0); // two Retry-After: 1 waits in a row for paths[0]
}

TEST(Fetch, PersistentServerErrorIsReportedAndNothingBadKept) {
  Fixture f;
  auto paths = subset(3);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  FaultServer srv(f.root(), {{paths[1], Fault::Kind::status, 100, 503, -1, 0}});
  ASSERT_TRUE(srv.running());
  auto r = fetch({"--from", srv.url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--json", "--retries", "2"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  auto j = summary(r);
  ASSERT_EQ(j["failed"].size(), 1u) << r.out;
  EXPECT_EQ(j["failed"][0]["path"], paths[1]);
  EXPECT_NE(j["failed"][0]["reason"].get<std::string>().find("HTTP 503"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(srv.requests(paths[1]), 3);
  EXPECT_FALSE(fs::exists(f.mirror() / paths[1]));
  expect_no_bad_file(f.mirror());
  EXPECT_EQ(visible_files(f.mirror()).size(), 2u);

  // Text mode says what failed and exits 1.
  r = fetch({"--from", srv.url(), "--listing", f.listing().string(), "--to",
             f.mirror().string(), "--retries", "0"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(paths[1]), std::string::npos) << r.err;
}

TEST(Fetch, NotFoundIsAPermanentError) {
  Fixture f;
  auto paths = subset(2);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  fs::remove(f.root() / paths[1]);
  FaultServer srv(f.root(), {});
  auto r = fetch({"--from", srv.url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--json"});
  EXPECT_EQ(r.status, 1);
  auto j = summary(r);
  ASSERT_EQ(j["failed"].size(), 1u);
  EXPECT_NE(j["failed"][0]["reason"].get<std::string>().find("HTTP 404"),
            std::string::npos);
  EXPECT_EQ(srv.requests(paths[1]), 1); // not retried
  expect_mirror(f.mirror(), {paths[0]});
}

TEST(Fetch, ContentDifferingFromListingIsRefused) {
  SKIP_UNLESS_NGINX();
  Fixture f;
  auto paths = subset(5);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  // paths[1]: same size, one byte flipped; paths[2]: longer than listed.
  for (int i : {1, 2}) {
    fs::remove(f.root() / paths[i]);
    fs::copy_file(test_archive() / paths[i], f.root() / paths[i]);
  }
  {
    std::fstream io(f.root() / paths[1],
                    std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(1000);
    char c = 0;
    io.read(&c, 1);
    io.seekp(1000);
    c = static_cast<char>(c ^ 0x01);
    io.write(&c, 1);
    std::ofstream(f.root() / paths[2], std::ios::app | std::ios::binary)
        << "trailing junk";
  }
  std::string err;
  auto ng = NginxServer::start({f.root(), ""}, &err);
  ASSERT_TRUE(ng) << err;
  auto r = fetch({"--from", ng->url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--json"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  auto j = summary(r);
  ASSERT_EQ(j["failed"].size(), 2u) << r.out;
  std::map<std::string, std::string> why;
  for (auto &x : j["failed"])
    why[x["path"]] = x["reason"];
  EXPECT_NE(why[paths[1]].find("differs from the listing"), std::string::npos)
      << why[paths[1]];
  EXPECT_NE(why[paths[2]].find("more than the listing"), std::string::npos)
      << why[paths[2]];
  // paths[1] is retried once, then refused; paths[2] is refused on its
  // Content-Length, unwritten and not retried. Neither the file nor a
  // partial is kept.
  EXPECT_EQ(ng->requests(paths[1]), 2);
  EXPECT_EQ(ng->requests(paths[2]), 1);
  for (int i : {1, 2}) {
    EXPECT_FALSE(fs::exists(f.mirror() / paths[i]));
    EXPECT_FALSE(fs::exists(partial_of(f.mirror(), paths[i])));
  }
  expect_no_bad_file(f.mirror());
  EXPECT_EQ(visible_files(f.mirror()).size(), paths.size() - 2);
}

// The listing is served by FaultServer from the served root.
// `pad` bytes in its "url" field make it long enough to trickle.
std::string served_listing(const Fixture &f, const FaultServer &srv,
                           const std::vector<std::string> &paths,
                           std::size_t pad = 0) {
  fs::path file = f.root() / "listing.json";
  write_listing(file, paths);
  if (pad > 0) {
    std::ifstream in(file);
    json doc = json::parse(in);
    doc["url"] = std::string(pad, 'x');
    std::ofstream(file) << doc.dump(1);
  }
  return srv.url() + "/listing.json";
}

TEST(Fetch, ListingTrickledAboveTheStallLimitHitsTheDeadline) {
  Fixture f;
  auto paths = subset(40);
  make_root(f.root(), paths);
  // 3000 bytes/s: well above the 1 KiB/s stall limit, so only a deadline
  // for the whole download ends it (the listing takes several seconds).
  FaultServer srv(
      f.root(), {{"listing.json", Fault::Kind::trickle, 100, 0, -1, 0, 3000}});
  ASSERT_TRUE(srv.running());
  std::string url = served_listing(f, srv, paths, 20000);
  ASSERT_GT(fs::file_size(f.root() / "listing.json"), 6u * 3000);
  auto t0 = std::chrono::steady_clock::now();
  auto r =
      fetch({"--from", srv.url(), "--listing", url, "--to", f.mirror().string(),
             "--timeout", "1", "--listing-timeout", "2", "--retries", "0"});
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_NE(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.err.find(url), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not done within 2 s (--listing-timeout)"),
            std::string::npos)
      << r.err;
  EXPECT_LT(secs, 5.0) << "the listing deadline did not fire";
  EXPECT_EQ(srv.requests("listing.json"), 1); // the deadline is not retried
  EXPECT_TRUE(visible_files(f.mirror()).empty());
}

TEST(Fetch, ListingLongerThanItsContentLengthIsRefused) {
  Fixture f;
  auto paths = subset(3);
  make_root(f.root(), paths);
  // Blanks past the Content-Length: still valid JSON if it were kept.
  FaultServer srv(f.root(),
                  {{"listing.json", Fault::Kind::overlong, 100, 0, -1, 4096}});
  ASSERT_TRUE(srv.running());
  std::string url = served_listing(f, srv, paths);
  auto r = fetch(
      {"--from", srv.url(), "--listing", url, "--to", f.mirror().string()});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(
      r.err.find("listing " + url + " sent more than its Content-Length of " +
                 std::to_string(fs::file_size(f.root() / "listing.json")) +
                 " bytes: refused"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--listing FILE"), std::string::npos) << r.err;
  EXPECT_EQ(srv.requests("listing.json"), 1);
  EXPECT_TRUE(visible_files(f.mirror()).empty());
}

TEST(Fetch, FileLongerThanListedIsRefusedBeforeWriting) {
  Fixture f;
  auto paths = subset(3);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  // The server's paths[1] is 1 MiB longer than the listing says.
  fs::remove(f.root() / paths[1]);
  fs::copy_file(test_archive() / paths[1], f.root() / paths[1]);
  std::ofstream(f.root() / paths[1], std::ios::app | std::ios::binary)
      << std::string(1 << 20, 'x');
  const std::uint64_t listed = corpus().at(paths[1]).size;
  FaultServer srv(f.root(), {});
  ASSERT_TRUE(srv.running());
  auto r = fetch({"--from", srv.url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--json"});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  auto j = summary(r);
  ASSERT_EQ(j["failed"].size(), 1u) << r.out;
  EXPECT_EQ(j["failed"][0]["path"], paths[1]);
  std::string why = j["failed"][0]["reason"];
  EXPECT_NE(why.find("announced " + std::to_string(listed + (1 << 20)) +
                     " bytes (Content-Length), more than the listing's " +
                     std::to_string(listed) + " bytes"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("nothing was written"), std::string::npos) << why;
  EXPECT_NE(why.find("fetch a current listing"), std::string::npos) << why;
  // Refused on the headers: not a byte of paths[1] was written (the two
  // good files are all the bytes received), and it is not asked again.
  EXPECT_EQ(j["bytes"].get<std::uint64_t>(),
            corpus().at(paths[0]).size + corpus().at(paths[2]).size);
  EXPECT_EQ(srv.requests(paths[1]), 1);
  EXPECT_FALSE(fs::exists(f.mirror() / paths[1]));
  EXPECT_FALSE(fs::exists(partial_of(f.mirror(), paths[1])));
  expect_mirror(f.mirror(), {paths[0], paths[2]});
  // Text mode names the file and what to do.
  r = fetch({"--from", srv.url(), "--listing", f.listing().string(), "--to",
             f.mirror().string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(paths[1]), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--listing FILE"), std::string::npos) << r.err;
}

TEST(Fetch, StalledServerTimesOutThenResumes) {
  SKIP_UNLESS_NGINX();
  Fixture f;
  auto paths = subset(2);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  std::string err;
  {
    // 300 bytes/s is below the 1 KiB/s stall threshold.
    auto slow = NginxServer::start({f.root(), "limit_rate 300;"}, &err);
    ASSERT_TRUE(slow) << err;
    auto t0 = std::chrono::steady_clock::now();
    auto r = fetch({"--from", slow->url(), "--listing", f.listing().string(),
                    "--to", f.mirror().string(), "--json", "--timeout", "2",
                    "--retries", "0"});
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    auto j = summary(r);
    ASSERT_EQ(j["failed"].size(), 2u) << r.out;
    EXPECT_NE(j["failed"][0]["reason"].get<std::string>().find("timeout"),
              std::string::npos)
        << r.out;
    EXPECT_LT(secs, 10.0) << "the stall timeout did not fire";
    EXPECT_TRUE(visible_files(f.mirror()).empty());
  }
  // What arrived is kept as a resumable partial, not as a mirror file.
  std::uint64_t partial = 0;
  for (auto &p : paths) {
    auto part = partial_of(f.mirror(), p);
    ASSERT_TRUE(fs::exists(part)) << part;
    partial += fs::file_size(part);
  }
  EXPECT_GT(partial, 0u);

  auto ng = NginxServer::start({f.root(), ""}, &err);
  ASSERT_TRUE(ng) << err;
  auto r = fetch({"--from", ng->url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["resumed"], 2);
  EXPECT_EQ(summary(r)["bytes"].get<std::uint64_t>() + partial,
            corpus().at(paths[0]).size + corpus().at(paths[1]).size);
  expect_mirror(f.mirror(), paths);
  EXPECT_NE(ng->access_log().find("bytes="), std::string::npos);
}

TEST(Fetch, KilledMidRunThenRestartedResumes) {
  SKIP_UNLESS_CORPUS();
  SKIP_UNLESS_NGINX();
  Fixture f;
  auto paths = subset(16);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  std::string err;
  // A small socket buffer keeps loopback from absorbing whole files before
  // limit_rate applies, so the run is still going when it is killed.
  auto ng =
      NginxServer::start({f.root(), "limit_rate 1m;", "sndbuf=64k"}, &err);
  ASSERT_TRUE(ng) << err;
  std::vector<std::string> args = {cli_path().string(),
                                   "fetch",
                                   "--from",
                                   ng->url(),
                                   "--listing",
                                   f.listing().string(),
                                   "--to",
                                   f.mirror().string(),
                                   "-j",
                                   "4",
                                   "--json"};
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char *> argv;
    for (auto &a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // Kill it once some files are done and others are part-way (the machine
  // may be slow: wait for that state rather than for a fixed time).
  auto part_way = [&] {
    bool partial = false;
    for (auto &p : paths) {
      std::error_code ec;
      // file_size(path, ec) is (uintmax_t)-1 for a missing file: check ec.
      auto n = fs::file_size(partial_of(f.mirror(), p), ec);
      partial = partial || (!ec && n > 0);
    }
    return partial && !visible_files(f.mirror()).empty();
  };
  // Freeze the fetch (SIGSTOP) and look again before killing it: a file
  // seen part-way may otherwise finish between the look and the kill.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool frozen_part_way = false;
  while (!frozen_part_way && std::chrono::steady_clock::now() < deadline &&
         ::waitpid(pid, nullptr, WNOHANG) == 0) {
    if (part_way()) {
      int stst = 0;
      ::kill(pid, SIGSTOP);
      ::waitpid(pid, &stst, WUNTRACED);
      if (!WIFSTOPPED(stst))
        break; // it exited meanwhile; the assertion below reports it
      frozen_part_way = part_way();
      if (!frozen_part_way)
        ::kill(pid, SIGCONT);
    }
    if (!frozen_part_way)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st)) << "fetch finished before it was killed";

  // Only complete, verified files are visible; the rest are partials.
  expect_no_bad_file(f.mirror());
  auto done = visible_files(f.mirror());
  std::map<std::string, std::pair<ino_t, std::int64_t>> ident;
  for (auto &p : done) {
    struct stat s {};
    ::stat((f.mirror() / p).c_str(), &s);
    ident[p] = {s.st_ino, s.st_mtim.tv_nsec + s.st_mtim.tv_sec * 1000000000LL};
  }
  int partials = 0;
  for (auto &p : paths)
    if (fs::exists(partial_of(f.mirror(), p)) &&
        fs::file_size(partial_of(f.mirror(), p)) > 0)
      partials++;
  EXPECT_LT(done.size(), paths.size());
  EXPECT_GT(partials, 0);

  auto r = fetch({"--from", ng->url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "-j", "8", "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto j = summary(r);
  EXPECT_EQ(j["skipped"], done.size());
  EXPECT_EQ(j["fetched"], paths.size() - done.size());
  EXPECT_EQ(j["resumed"], partials);
  expect_mirror(f.mirror(), paths);
  // Files finished before the kill were not fetched again nor rewritten.
  for (auto &[p, id] : ident) {
    struct stat s {};
    ::stat((f.mirror() / p).c_str(), &s);
    EXPECT_EQ(s.st_ino, id.first) << p;
    EXPECT_EQ(s.st_mtim.tv_nsec + s.st_mtim.tv_sec * 1000000000LL, id.second)
        << p;
    EXPECT_EQ(ng->requests(p), 1) << p;
  }
}

// GitHubTrees writes what GitHub's git tree API would answer for `paths`,
// as files a test server serves: REF?recursive=1 and SHA?recursive=1
// (truncated down to `truncated_depth`, as GitHub does for big trees), and
// the one-level listings REF and SHA.
struct GitHubTrees {
  fs::path api; // .../git/trees/
  std::map<std::string, std::string> blob;
  int truncated_depth = 0;

  static std::string tree_sha(const std::string &dir) {
    return to_hex(sha256(dir)).substr(0, 40);
  }
  std::string sha_of_dir(const std::string &dir) const {
    return dir.empty() ? "main" : tree_sha(dir);
  }
  // children of dir (a prefix ending in '/', or "" for the root).
  void write(const std::string &dir, int depth,
             const std::vector<std::string> &paths) {
    std::map<std::string, bool> subdirs;
    json flat = json::array(), rec = json::array();
    for (auto &p : paths) {
      if (p.rfind(dir, 0) != 0)
        continue;
      std::string rel = p.substr(dir.size());
      for (auto slash = rel.find('/'); slash != std::string::npos;
           slash = rel.find('/', slash + 1)) {
        std::string d = rel.substr(0, slash);
        if (!subdirs.count(dir + d))
          rec.push_back({{"path", d},
                         {"mode", "040000"},
                         {"type", "tree"},
                         {"sha", tree_sha(dir + d)}});
        subdirs[dir + d] = d.find('/') == std::string::npos;
      }
      json blob_entry = {{"path", rel},
                         {"mode", "100644"},
                         {"type", "blob"},
                         {"size", corpus().at(p).size},
                         {"sha", blob.at(p)}};
      rec.push_back(blob_entry);
      if (rel.find('/') == std::string::npos)
        flat.push_back(blob_entry);
    }
    for (auto &[d, top] : subdirs)
      if (top)
        flat.push_back({{"path", d.substr(dir.size())},
                        {"mode", "040000"},
                        {"type", "tree"},
                        {"sha", tree_sha(d)}});
    bool truncated = depth < truncated_depth;
    if (truncated)
      rec = json::array({rec[0]});
    std::string sha =
        sha_of_dir(dir.empty() ? "" : dir.substr(0, dir.size() - 1));
    std::ofstream(api / (sha + "?recursive=1"))
        << json{{"sha", sha}, {"tree", rec}, {"truncated", truncated}}.dump();
    std::ofstream(api / sha)
        << json{{"sha", sha}, {"tree", flat}, {"truncated", false}}.dump();
    for (auto &[d, top] : subdirs)
      if (top)
        write(d + "/", depth + 1, paths);
  }
};

TEST(Fetch, TruncatedGitHubTreeIsListedBySubtrees) {
  Fixture f;
  auto paths = subset(6);
  make_root(f.root(), paths);
  GitHubTrees gh;
  gh.api = f.root() / "repos" / "o" / "r" / "git" / "trees";
  fs::create_directories(gh.api);
  std::string list;
  for (auto &p : paths)
    list += (test_archive() / p).string() + "\n";
  auto ids = run({"git", "hash-object", "--stdin-paths"}, list);
  ASSERT_EQ(ids.status, 0);
  std::istringstream in(ids.out);
  for (auto &p : paths)
    in >> gh.blob[p];
  gh.truncated_depth = 2; // the root and every distro are too big
  gh.write("", 0, paths);
  FaultServer srv(f.root(), {});
  ASSERT_TRUE(srv.running());
  auto r = fetch({"--from", srv.url(), "--listing",
                  srv.url() + "/repos/o/r/git/trees/main?recursive=1", "--to",
                  f.mirror().string(), "--json"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(summary(r)["fetched"], paths.size());
  expect_mirror(f.mirror(), paths);
  EXPECT_GE(srv.requests("/git/trees/"), 4);
}

TEST(Fetch, ListingWithUnsafePathsIsRefused) {
  Fixture f;
  fs::create_directories(f.mirror());
  for (std::string bad : {"../escape/1/x86_64/5.4.0.btf.tar.xz",
                          "ubuntu/../../escape/x86_64/5.4.0.btf.tar.xz",
                          "/tmp/btfpack-escape/1/x86_64/5.4.0.btf.tar.xz"}) {
    json doc = {{"sha", "x"},
                {"tree",
                 {{{"path", "ubuntu/20.04/x86_64/5.4.0-1.btf.tar.xz"},
                   {"mode", "100644"},
                   {"type", "blob"},
                   {"size", 4},
                   {"sha", std::string(40, '1')}},
                  {{"path", bad},
                   {"mode", "100644"},
                   {"type", "blob"},
                   {"size", 4},
                   {"sha", std::string(40, '2')}}}},
                {"truncated", false}};
    std::ofstream(f.listing()) << doc.dump();
    auto r = fetch({"--from", "file://" + f.root().string(), "--listing",
                    f.listing().string(), "--to", f.mirror().string()});
    EXPECT_EQ(r.status, 1) << bad;
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
    r = fetch({"--from", "file://" + f.root().string(), "--listing",
               f.listing().string(), "--to", f.mirror().string(), "--json"});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(summary(r).contains("error")) << r.out;
  }
  EXPECT_FALSE(fs::exists(f.tmp.path() / "escape"));
  EXPECT_FALSE(fs::exists("/tmp/btfpack-escape"));
  EXPECT_TRUE(visible_files(f.mirror()).empty());

  // A truncated git tree would make a silently partial mirror: refused.
  json trunc = {{"sha", "x"}, {"tree", json::array()}, {"truncated", true}};
  std::ofstream(f.listing()) << trunc.dump();
  auto r = fetch({"--from", "file://" + f.root().string(), "--listing",
                  f.listing().string(), "--to", f.mirror().string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST(Fetch, TlsIsVerifiedAndCaFileAddsTrust) {
  SKIP_UNLESS_NGINX();
  Fixture f;
  auto paths = subset(3);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  std::string err;
  NginxOptions o{f.root(), ""};
  o.tls = true;
  auto ng = NginxServer::start(o, &err);
  ASSERT_TRUE(ng) << err;
  // A self-signed server is refused: no switch turns verification off.
  auto r = fetch({"--from", ng->url(), "--listing", f.listing().string(),
                  "--to", f.mirror().string(), "--json", "--retries", "0"});
  EXPECT_EQ(r.status, 1);
  auto j = summary(r);
  ASSERT_EQ(j["failed"].size(), paths.size()) << r.out;
  EXPECT_NE(j["failed"][0]["reason"].get<std::string>().find("certificate"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(visible_files(f.mirror()).empty());
  EXPECT_NE(run({cli_path().string(), "fetch", "--help"}).out.find("--ca-file"),
            std::string::npos);

  r = fetch({"--from", ng->url(), "--listing", f.listing().string(), "--to",
             f.mirror().string(), "--json", "--ca-file",
             ng->ca_file().string()});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  expect_mirror(f.mirror(), paths);
  // HTTP/2 was negotiated, and the transfers shared it.
  EXPECT_NE(ng->access_log().find("HTTP/2.0"), std::string::npos)
      << ng->access_log();
}

TEST(Fetch, ProxyFromEnvironmentIsUsed) {
  Fixture f;
  auto paths = subset(2);
  make_root(f.root(), paths);
  write_listing(f.listing(), paths);
  FaultServer proxy(f.root(), {});
  ASSERT_TRUE(proxy.running());
  // The origin does not exist: only the proxy (from http_proxy, as curl
  // reads it) can answer.
  auto r = sh("http_proxy=" + proxy.url() + " " + cli_path().string() +
              " fetch --from http://btfhub-origin.invalid --listing " +
              f.listing().string() + " --to " + f.mirror().string() +
              " --json --retries 0");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  expect_mirror(f.mirror(), paths);
  EXPECT_EQ(proxy.requests(paths[0]), 1);
}

} // namespace
} // namespace btfpack::test
