// SPDX-License-Identifier: Apache-2.0
//
// Helpers shared by every test binary: where the test data is, a temporary
// directory that cleans up, running a command, and the one precondition
// check that privileged tests call to skip with a reason.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#ifndef BTFPACK_TEST_DATA_DIR
#error "BTFPACK_TEST_DATA_DIR must be defined by the build"
#endif

namespace btfpack::test {

namespace fs = std::filesystem;

inline fs::path data_dir() {
  return BTFPACK_TEST_DATA_DIR;
}
inline fs::path source_dir() {
  return BTFPACK_SOURCE_DIR;
}
inline fs::path bpf_obj_dir() {
  return BTFPACK_BPF_OBJ_DIR;
}
inline fs::path cli_path() {
  return BTFPACK_CLI;
}
inline fs::path bpftool_path() {
  return BTFPACK_BPFTOOL;
}

// corpus_dir is ../shared/corpus; has_corpus() tells whether it is there
// (and BTFPACK_TEST_NO_CORPUS is unset).
inline fs::path corpus_dir() {
  return BTFPACK_CORPUS_DIR;
}
inline fs::path corpus_archive() {
  return corpus_dir() / "archive";
}
bool has_corpus();
// sample_archive is the committed Debian sample (tests/data/archive).
inline fs::path sample_archive() {
  return data_dir() / "archive";
}
// test_archive is the corpus archive when ../shared is there, else the
// committed sample: tests that need only a few real files run on either
// (BTFPACK_TEST_NO_CORPUS=1 makes has_corpus() false, to try the latter).
inline fs::path test_archive() {
  return has_corpus() ? corpus_archive() : sample_archive();
}

// TempDir makes a fresh directory under $TMPDIR and removes it at scope end.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const fs::path &path() const { return path_; }
  fs::path operator/(const std::string &s) const { return path_ / s; }

private:
  fs::path path_;
};

struct CmdResult {
  int status = -1; // exit status, or 128+signal
  std::string out; // stdout
  std::string err; // stderr
};
// run executes argv (no shell) and captures its output.
CmdResult run(const std::vector<std::string> &argv,
              const std::string &stdin_data = "");
// sh runs a shell command line (for pipelines in interop tests).
CmdResult sh(const std::string &command);

// privileged_skip_reason returns why BPF loading cannot be tested here
// (no CAP_BPF+CAP_PERFMON nor CAP_SYS_ADMIN, no /sys/kernel/btf/vmlinux,
// tracefs not mountable), or an empty string when it can. Mounts tracefs
// when it is missing.
std::string privileged_skip_reason();

} // namespace btfpack::test

// SKIP_UNLESS_PRIVILEGED(): the one way a privileged test skips.
#define SKIP_UNLESS_PRIVILEGED()                                               \
  do {                                                                         \
    auto _why = ::btfpack::test::privileged_skip_reason();                     \
    if (!_why.empty())                                                         \
      GTEST_SKIP() << _why;                                                    \
  } while (0)

#define SKIP_UNLESS_CORPUS()                                                   \
  do {                                                                         \
    if (!::btfpack::test::has_corpus())                                        \
      GTEST_SKIP() << "../shared/corpus not found at "                         \
                   << ::btfpack::test::corpus_dir();                           \
  } while (0)
