// SPDX-License-Identifier: Apache-2.0
//
// The worker pool: every item once, each worker in its own directory, and a
// work directory that cannot be created is an error returned before any
// thread starts (it used to leave joinable threads: std::terminate).
#include <atomic>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <set>

#include "btfpack/worker_pool.h"
#include "test_util.h"

using namespace btfpack;
namespace fs = std::filesystem;

TEST(WorkerPool, EveryItemOnceEachWorkerInItsOwnDirectory) {
  test::TempDir t;
  std::vector<int> seen(1000, 0);
  std::mutex mu;
  std::set<fs::path> dirs;
  auto r = run_worker_pool(t.path(), 4, seen.size(),
                           [&](std::size_t i, const fs::path &work) {
                             seen[i]++;
                             EXPECT_TRUE(fs::is_directory(work));
                             std::lock_guard<std::mutex> l(mu);
                             dirs.insert(work);
                           });
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (int n : seen)
    EXPECT_EQ(n, 1);
  EXPECT_LE(dirs.size(), 4u);
  EXPECT_TRUE(fs::is_directory(t / "w3"));
}

TEST(WorkerPool, UncreatableWorkDirIsAnErrorNotATerminate) {
  test::TempDir t;
  // w0 can be made, w1 cannot (a file has its name): the old loop had
  // already started w0's thread when it returned.
  std::ofstream(t / "w1") << "in the way";
  std::atomic<int> calls{0};
  auto r = run_worker_pool(t.path(), 3, 50,
                           [&](std::size_t, const fs::path &) { calls++; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find((t / "w1").string()), std::string::npos)
      << r.error().message;
  EXPECT_EQ(calls.load(), 0);
  // Under a path that is not a directory at all.
  auto r2 = run_worker_pool(t / "w1", 2, 5,
                            [&](std::size_t, const fs::path &) { calls++; });
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(calls.load(), 0);
}

TEST(WorkerPool, NoItemsStillOneWorkerAndNoCalls) {
  test::TempDir t;
  std::atomic<int> calls{0};
  ASSERT_TRUE(
      run_worker_pool(t.path(), 8, 0, [&](std::size_t, const fs::path &) {
        calls++;
      }).ok());
  EXPECT_EQ(calls.load(), 0);
  EXPECT_TRUE(fs::is_directory(t / "w0"));
  EXPECT_FALSE(fs::exists(t / "w1"));
}
