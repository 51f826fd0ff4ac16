// The loaded-model object behind the opaque kiln_model handle.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/model_abi.h"
#include "kiln/runtime.h"
#include "thread_pool.h"

namespace kiln::rt {

// Per-kernel wall time while profiling is on (kiln_model_set_profiling).
struct Profile {
  std::vector<double> seconds;  // per kernel, summed over `runs`
  uint64_t runs = 0;
  std::chrono::steady_clock::time_point last;  // when the previous kernel finished

  void start_run() { last = std::chrono::steady_clock::now(); }
  // kiln_host_api::kernel_done: the time since the previous kernel (or the run's start).
  static void kernel_done(void* profile, int32_t kernel);
};

}  // namespace kiln::rt

struct kiln_model {
  std::string path;                     // the model.so that was loaded
  void* handle = nullptr;               // from dlopen
  const kiln_model_desc* desc = nullptr;
  void* arena = nullptr;                // desc->arena_bytes, 64-byte aligned
  std::vector<void*> inputs;            // bound input buffers (nullptr = unbound)
  std::vector<void*> outputs;           // bound output buffers
  std::unique_ptr<kiln::rt::ThreadPool> pool;  // null with one thread
  kiln_host_api host{};
  kiln::rt::Profile profile;            // host.profiler points here
};

namespace kiln::rt {

// Resolves `path` (a folder holding model.so, or the .so itself), checks it and
// loads it. On failure returns the status and sets the last error.
kiln_status load_model(const char* path, kiln_model** out);

// Validates a descriptor read from a loaded object; returns "" or a message.
std::string check_descriptor(const kiln_model_desc& desc, kiln_status* status);

}  // namespace kiln::rt
