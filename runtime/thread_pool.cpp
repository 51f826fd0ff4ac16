// Thread pool: workers spin briefly on a generation counter for back-to-back
// parallel_for calls (one per layer), then sleep on a condition variable.
#include "thread_pool.h"

#include <chrono>

namespace kiln::rt {
namespace {

// Polling before a worker or the caller sleeps: a few microseconds of pause
// instructions, then sched_yield so an oversubscribed core still runs the
// thread that holds the work.
constexpr int kSpinIterations = 2000;
constexpr int kPauseIterations = 64;
// How long an idle worker keeps polling for the next parallel_for before it
// sleeps. Layers of one run are often separated by short serial kernels; a
// worker asleep there costs a wake-up per layer, which on a virtual machine
// (an idle vCPU halts) is tens of microseconds or more.
constexpr auto kWorkerSpin = std::chrono::microseconds(1000);

inline void cpu_relax(int iteration) {
  if (iteration >= kPauseIterations) {
    std::this_thread::yield();
    return;
  }
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

}  // namespace

ThreadPool::ThreadPool(int num_threads)
    : num_threads_(num_threads < 1 ? 1 : num_threads), cursors_(new Cursor[num_threads_]) {
  workers_.reserve(num_threads_ - 1);
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::run_chunks(Job& job, int self) {
  int64_t finished = 0;
  for (int k = 0; k < num_threads_; ++k) {
    const int owner = (self + k) % num_threads_;
    const int64_t last = owned_begin(job, owner + 1);
    if (cursors_[owner].next.load(std::memory_order_relaxed) >= last) continue;
    for (;;) {
      const int64_t c = cursors_[owner].next.fetch_add(1, std::memory_order_relaxed);
      if (c >= last) break;
      const int64_t begin = job.n * c / job.chunks;
      const int64_t end = job.n * (c + 1) / job.chunks;
      if (begin < end) job.fn(job.ctx, begin, end);
      ++finished;
    }
  }
  if (finished == 0) return false;
  return job.done.fetch_add(finished, std::memory_order_acq_rel) + finished == job.chunks;
}

void ThreadPool::parallel_for(kiln_task_fn fn, void* ctx, int64_t n) {
  if (n <= 0) return;
  if (num_threads_ == 1 || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  Job job;
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.chunks = n < kChunksPerThread * num_threads_ ? n : kChunksPerThread * num_threads_;
  for (int t = 0; t < num_threads_; ++t) cursors_[t].next.store(owned_begin(job, t), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    generation_.fetch_add(1, std::memory_order_release);
    if (sleepers_ > 0) wake_cv_.notify_all();
  }
  run_chunks(job, 0);
  auto all_done = [&] { return job.done.load(std::memory_order_acquire) == job.chunks; };
  for (int i = 0; i < kSpinIterations && !all_done(); ++i) cpu_relax(i);
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, all_done);
  job_ = nullptr;  // no worker picks the job up from now on
  lock.unlock();
  // Workers that hold it are past their last chunk; wait until they let go.
  for (int i = 0; job.users.load(std::memory_order_acquire) != 0; ++i) cpu_relax(i);
}

void ThreadPool::worker_loop(int self) {
  uint64_t seen = 0;
  for (;;) {
    bool changed = false;
    const auto spin_until = std::chrono::steady_clock::now() + kWorkerSpin;
    for (int i = 0; !changed; ++i) {
      changed = generation_.load(std::memory_order_acquire) != seen;
      if (changed || std::chrono::steady_clock::now() > spin_until) break;
      cpu_relax(i);
    }
    Job* job = nullptr;
    {
      // Take the job under the lock so it cannot end (and leave the caller's
      // stack) between reading the pointer and registering as its user.
      std::unique_lock<std::mutex> lock(mu_);
      if (!changed) {
        ++sleepers_;
        wake_cv_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
        --sleepers_;
      }
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      job = job_;
      if (job) job->users.fetch_add(1, std::memory_order_relaxed);
    }
    if (!job) continue;
    if (run_chunks(*job, self)) {
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_one();
    }
    job->users.fetch_sub(1, std::memory_order_release);
  }
}

void ThreadPool::host_parallel_for(void* pool, kiln_task_fn fn, void* ctx, int64_t n) {
  if (pool == nullptr) {
    if (n > 0) fn(ctx, 0, n);
    return;
  }
  static_cast<ThreadPool*>(pool)->parallel_for(fn, ctx, n);
}

}  // namespace kiln::rt
