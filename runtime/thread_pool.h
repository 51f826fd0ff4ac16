// A small persistent thread pool behind kiln_host_api::parallel_for: each loaded
// model owns one, so two models run independently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "kiln/model_abi.h"

namespace kiln::rt {

class ThreadPool {
 public:
  // Starts num_threads - 1 workers; the thread calling parallel_for is the last one.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Splits [0, n) into up to kChunksPerThread * num_threads contiguous chunks
  // that the calling thread and the workers claim one at a time, so a thread
  // the OS deschedules delays only the chunk it holds; returns when all are
  // done. Not reentrant: one parallel_for at a time per pool.
  void parallel_for(kiln_task_fn fn, void* ctx, int64_t n);

  // The kiln_host_api::parallel_for entry: pool may be null (one thread).
  static void host_parallel_for(void* pool, kiln_task_fn fn, void* ctx, int64_t n);

 private:
  static constexpr int64_t kChunksPerThread = 4;

  // One parallel_for call; lives on the caller's stack until every chunk is
  // done and no worker still holds a pointer to it.
  struct Job {
    kiln_task_fn fn = nullptr;
    void* ctx = nullptr;
    int64_t n = 0;
    int64_t chunks = 0;
    std::atomic<int64_t> next{0};  // next chunk to claim
    std::atomic<int64_t> done{0};  // chunks finished
    std::atomic<int> users{0};     // workers holding this job
  };

  void worker_loop();
  // Claims and runs chunks until none is left; returns true if this call
  // finished the job's last chunk.
  static bool run_chunks(Job& job);

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_cv_;
  std::condition_variable done_cv_;
  Job* job_ = nullptr;               // guarded by mu_; the call in flight
  int sleepers_ = 0;                 // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  std::atomic<uint64_t> generation_{0};
};

}  // namespace kiln::rt
