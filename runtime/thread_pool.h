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

  // Splits [0, n) into min(n, num_threads) contiguous chunks, runs one on the
  // calling thread and the others on workers, and returns when all are done.
  // Not reentrant: one parallel_for at a time per pool.
  void parallel_for(kiln_task_fn fn, void* ctx, int64_t n);

  // The kiln_host_api::parallel_for entry: pool may be null (one thread).
  static void host_parallel_for(void* pool, kiln_task_fn fn, void* ctx, int64_t n);

 private:
  struct Job {
    kiln_task_fn fn = nullptr;
    void* ctx = nullptr;
    int64_t n = 0;
    int chunks = 0;
  };

  void worker_loop(int index);
  static void run_chunk(const Job& job, int index);

  const int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_cv_;
  std::condition_variable done_cv_;
  Job job_;                          // guarded by mu_
  int sleepers_ = 0;                 // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};      // chunks not yet finished by workers
};

}  // namespace kiln::rt
