// A small persistent thread pool behind kiln_host_api::parallel_for: each loaded
// model owns one, so two models run independently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
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

  // Splits [0, n) into up to kChunksPerThread * num_threads contiguous chunks,
  // a run of them owned by each thread (the caller owns the first): a thread
  // claims its own chunks first, in order, then takes those others have not
  // claimed yet, so a thread the OS deschedules delays only the chunk it
  // holds, and otherwise each thread handles the same part of the iteration
  // space in every call (the rows whose outputs it wrote in the layer before
  // are still in its cache). Returns when all are done. Not reentrant: one
  // parallel_for at a time per pool.
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
    std::atomic<int64_t> done{0};  // chunks finished
    std::atomic<int> users{0};     // workers holding this job
  };

  // Thread t's next chunk to claim, on its own cache line; its chunks end
  // where thread t + 1's begin.
  struct alignas(64) Cursor {
    std::atomic<int64_t> next{0};
  };

  void worker_loop(int self);
  // First chunk owned by thread t.
  int64_t owned_begin(const Job& job, int t) const { return job.chunks * t / num_threads_; }
  // Claims and runs chunks, thread `self`'s own first, until none is left;
  // returns true if this call finished the job's last chunk.
  bool run_chunks(Job& job, int self);

  const int num_threads_;
  std::unique_ptr<Cursor[]> cursors_;  // one per thread, reset by each parallel_for
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
