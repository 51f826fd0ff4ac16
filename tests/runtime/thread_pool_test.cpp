// Thread pool: chunking covers [0, n) exactly once at 1..4 threads, survives
// many back-to-back calls, and two pools run independently.
#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace kiln::rt {
namespace {

struct SumTask {
  std::atomic<int64_t> sum{0};
  std::atomic<int> calls{0};
  std::vector<std::atomic<int>>* hits = nullptr;
};

void sum_range(void* ctx, int64_t begin, int64_t end) {
  auto* t = static_cast<SumTask*>(ctx);
  int64_t local = 0;
  for (int64_t i = begin; i < end; ++i) {
    local += i;
    if (t->hits) (*t->hits)[i].fetch_add(1);
  }
  t->sum.fetch_add(local);
  t->calls.fetch_add(1);
}

TEST(ThreadPool, SumsEveryIndexOnceAtOneToFourThreads) {
  for (int threads = 1; threads <= 4; ++threads) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {1, 2, 3, 4, 5, 7, 100, 1001}) {
      std::vector<std::atomic<int>> hits(n);
      SumTask task;
      task.hits = &hits;
      pool.parallel_for(sum_range, &task, n);
      EXPECT_EQ(task.sum.load(), n * (n - 1) / 2) << "threads=" << threads << " n=" << n;
      // One call per chunk: up to 4 chunks per thread.
      const int64_t chunks = threads == 1 ? 1 : std::min<int64_t>(n, 4 * threads);
      EXPECT_EQ(task.calls.load(), chunks) << "threads=" << threads << " n=" << n;
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i;
    }
  }
}

// Each thread owns a run of chunks (the caller the first) and claims it before
// taking others': a worker can reach the caller's chunks only after its own,
// and its first one here waits until the caller's are done, so the caller must
// have run all of them itself.
TEST(ThreadPool, CallerRunsTheChunksItOwns) {
  ThreadPool pool(2);
  struct Ctx {
    std::thread::id caller = std::this_thread::get_id();
    std::atomic<int> caller_done{0};
    std::vector<std::thread::id> ran = std::vector<std::thread::id>(8);
  } ctx;
  for (int iter = 0; iter < 50; ++iter) {
    ctx.caller_done = 0;
    pool.parallel_for(
        [](void* p, int64_t b, int64_t e) {
          auto* c = static_cast<Ctx*>(p);
          EXPECT_EQ(e, b + 1);  // 8 items at 2 threads: one per chunk (EXPECT: returning early would hang)
          if (b >= 4)
            while (c->caller_done.load() < 4) std::this_thread::yield();
          c->ran[b] = std::this_thread::get_id();
          if (b < 4) c->caller_done.fetch_add(1);
        },
        &ctx, 8);
    for (int i = 0; i < 4; ++i) ASSERT_EQ(ctx.ran[i], ctx.caller) << "chunk " << i << ", call " << iter;
  }
}

TEST(ThreadPool, ZeroItemsCallsNothing) {
  ThreadPool pool(3);
  SumTask task;
  pool.parallel_for(sum_range, &task, 0);
  EXPECT_EQ(task.calls.load(), 0);
}

TEST(ThreadPool, OneThreadRunsOnCallerInOneCall) {
  ThreadPool pool(1);
  struct Ctx {
    std::thread::id id;
    int calls = 0;
    int64_t begin = -1, end = -1;
  } ctx;
  pool.parallel_for(
      [](void* p, int64_t b, int64_t e) {
        auto* c = static_cast<Ctx*>(p);
        c->id = std::this_thread::get_id();
        ++c->calls;
        c->begin = b;
        c->end = e;
      },
      &ctx, 50);
  EXPECT_EQ(ctx.id, std::this_thread::get_id());
  EXPECT_EQ(ctx.calls, 1);
  EXPECT_EQ(ctx.begin, 0);
  EXPECT_EQ(ctx.end, 50);
}

TEST(ThreadPool, HostEntryWithNullPoolCallsDirectly) {
  SumTask task;
  ThreadPool::host_parallel_for(nullptr, sum_range, &task, 10);
  EXPECT_EQ(task.sum.load(), 45);
  EXPECT_EQ(task.calls.load(), 1);
}

TEST(ThreadPool, ManyRepeatedCallsWithVaryingSizes) {
  ThreadPool pool(4);
  int64_t expected = 0;
  SumTask task;
  for (int iter = 0; iter < 20000; ++iter) {
    const int64_t n = 1 + iter % 9;
    pool.parallel_for(sum_range, &task, n);
    expected += n * (n - 1) / 2;
  }
  EXPECT_EQ(task.sum.load(), expected);
}

TEST(ThreadPool, RepeatedCallsAfterWorkersFallAsleep) {
  ThreadPool pool(3);
  SumTask task;
  for (int iter = 0; iter < 5; ++iter) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers go to sleep
    pool.parallel_for(sum_range, &task, 30);
  }
  EXPECT_EQ(task.sum.load(), 5 * 435);
}

TEST(ThreadPool, TwoPoolsRunIndependentlyAtTheSameTime) {
  ThreadPool a(2), b(3);
  SumTask ta, tb;
  std::thread other([&] {
    for (int i = 0; i < 3000; ++i) b.parallel_for(sum_range, &tb, 64);
  });
  for (int i = 0; i < 3000; ++i) a.parallel_for(sum_range, &ta, 33);
  other.join();
  EXPECT_EQ(ta.sum.load(), 3000LL * (33 * 32 / 2));
  EXPECT_EQ(tb.sum.load(), 3000LL * (64 * 63 / 2));
}

}  // namespace
}  // namespace kiln::rt
