// The runtime's C API (include/kiln/runtime.h) over kiln_model: info,
// binding, threads, run, profiling. No exception crosses this boundary.
#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include "error.h"
#include "model.h"

void kiln::rt::Profile::kernel_done(void* profile, int32_t kernel) {
  auto* p = static_cast<Profile*>(profile);
  const auto now = std::chrono::steady_clock::now();
  if (kernel >= 0 && static_cast<size_t>(kernel) < p->seconds.size())
    p->seconds[kernel] += std::chrono::duration<double>(now - p->last).count();
  p->last = now;
}

using kiln::rt::clear_error;
using kiln::rt::set_error;

namespace {

// Buffers handed to the model must be at least this aligned (model_abi.h).
constexpr uintptr_t kBufferAlignment = 16;
// More threads than this is a caller's mistake, not a machine.
constexpr int kMaxThreads = 1024;

std::string shape_string(const kiln_tensor_desc& t) {
  std::string s = "[";
  for (int i = 0; i < t.rank; ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + "]";
}

std::string describe(const kiln_tensor_desc& t) {
  return std::string(kiln_dtype_name(t.dtype)) + " " + shape_string(t);
}

void fill_info(const kiln_tensor_desc& t, kiln_tensor_info* out) {
  out->name = t.name;
  out->dtype = t.dtype;
  out->rank = t.rank;
  out->shape = t.shape;
  out->num_bytes = t.num_bytes;
}

kiln_status tensor_info(const kiln_model* m, int index, kiln_tensor_info* out, bool input) {
  clear_error();
  if (m == nullptr || out == nullptr)
    return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_info: null model or output pointer");
  const int count = input ? m->desc->num_inputs : m->desc->num_outputs;
  if (index < 0 || index >= count)
    return set_error(KILN_ERROR_INVALID_ARGUMENT,
                     std::string(input ? "input" : "output") + " index " + std::to_string(index) +
                         " is out of range (model has " + std::to_string(count) + ")");
  fill_info(input ? m->desc->inputs[index] : m->desc->outputs[index], out);
  return KILN_OK;
}

kiln_status bind(kiln_model* m, int index, void* data, size_t num_bytes, bool input) {
  clear_error();
  const char* kind = input ? "input" : "output";
  if (m == nullptr) return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_bind: model is null");
  const int count = input ? m->desc->num_inputs : m->desc->num_outputs;
  if (index < 0 || index >= count)
    return set_error(KILN_ERROR_INVALID_ARGUMENT, std::string(kind) + " index " + std::to_string(index) +
                                                      " is out of range (model has " +
                                                      std::to_string(count) + ")");
  const kiln_tensor_desc& t = input ? m->desc->inputs[index] : m->desc->outputs[index];
  const std::string what = std::string(kind) + " '" + t.name + "'";
  if (data == nullptr && t.num_bytes > 0)
    return set_error(KILN_ERROR_INVALID_ARGUMENT, what + ": buffer is null");
  if (num_bytes != static_cast<size_t>(t.num_bytes))
    return set_error(KILN_ERROR_INVALID_ARGUMENT,
                     what + " expects " + std::to_string(t.num_bytes) + " bytes (" + describe(t) +
                         "), got " + std::to_string(num_bytes) + " bytes");
  if (reinterpret_cast<uintptr_t>(data) % kBufferAlignment != 0)
    return set_error(KILN_ERROR_INVALID_ARGUMENT,
                     what + ": buffer must be 16-byte aligned (copy it into an aligned buffer)");
  (input ? m->inputs : m->outputs)[index] = data;
  return KILN_OK;
}

int find_index(const kiln_tensor_desc* tensors, int count, const char* name) {
  if (name == nullptr) return -1;
  for (int i = 0; i < count; ++i)
    if (std::strcmp(tensors[i].name, name) == 0) return i;
  return -1;
}

}  // namespace

extern "C" {

kiln_status kiln_model_load(const char* path, kiln_model** out) {
  clear_error();
  try {
    return kiln::rt::load_model(path, out);
  } catch (const std::bad_alloc&) {
    return set_error(KILN_ERROR_INTERNAL, "out of memory while loading a model");
  } catch (...) {
    return set_error(KILN_ERROR_INTERNAL, "unexpected error while loading a model");
  }
}

void kiln_model_free(kiln_model* m) {
  if (m == nullptr) return;
  m->pool.reset();
  std::free(m->arena);
  if (m->handle) dlclose(m->handle);
  delete m;
}

kiln_status kiln_model_set_num_threads(kiln_model* m, int n) {
  clear_error();
  if (m == nullptr) return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_set_num_threads: model is null");
  if (n < 0 || n > kMaxThreads)
    return set_error(KILN_ERROR_INVALID_ARGUMENT, "thread count must be between 0 (all cores) and " +
                                                      std::to_string(kMaxThreads) + ", got " +
                                                      std::to_string(n));
  if (n == 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n < 1) n = 1;
  const int current = m->pool ? m->pool->num_threads() : 1;
  if (n == current) return KILN_OK;
  try {
    m->pool.reset();
    if (n > 1) m->pool = std::make_unique<kiln::rt::ThreadPool>(n);
  } catch (...) {
    m->pool.reset();
    m->host.num_threads = 1;
    m->host.pool = nullptr;
    return set_error(KILN_ERROR_INTERNAL, "cannot start " + std::to_string(n) + " threads");
  }
  m->host.num_threads = static_cast<uint32_t>(n);
  m->host.pool = m->pool.get();
  return KILN_OK;
}

int kiln_model_num_inputs(const kiln_model* m) { return m ? m->desc->num_inputs : 0; }
int kiln_model_num_outputs(const kiln_model* m) { return m ? m->desc->num_outputs : 0; }

kiln_status kiln_model_input_info(const kiln_model* m, int index, kiln_tensor_info* out) {
  return tensor_info(m, index, out, true);
}

kiln_status kiln_model_output_info(const kiln_model* m, int index, kiln_tensor_info* out) {
  return tensor_info(m, index, out, false);
}

int kiln_model_input_index(const kiln_model* m, const char* name) {
  return m ? find_index(m->desc->inputs, m->desc->num_inputs, name) : -1;
}

int kiln_model_output_index(const kiln_model* m, const char* name) {
  return m ? find_index(m->desc->outputs, m->desc->num_outputs, name) : -1;
}

kiln_status kiln_model_bind_input(kiln_model* m, int index, const void* data, size_t num_bytes) {
  return bind(m, index, const_cast<void*>(data), num_bytes, true);
}

kiln_status kiln_model_bind_output(kiln_model* m, int index, void* data, size_t num_bytes) {
  return bind(m, index, data, num_bytes, false);
}

kiln_status kiln_model_run(kiln_model* m) {
  clear_error();
  if (m == nullptr) return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_run: model is null");
  std::string unbound;
  const kiln_model_desc& d = *m->desc;
  for (int i = 0; i < d.num_inputs; ++i)
    if (m->inputs[i] == nullptr && d.inputs[i].num_bytes > 0)
      unbound += std::string(unbound.empty() ? "" : ", ") + "input '" + d.inputs[i].name + "'";
  for (int i = 0; i < d.num_outputs; ++i)
    if (m->outputs[i] == nullptr && d.outputs[i].num_bytes > 0)
      unbound += std::string(unbound.empty() ? "" : ", ") + "output '" + d.outputs[i].name + "'";
  if (!unbound.empty())
    return set_error(KILN_ERROR_INVALID_ARGUMENT, "cannot run: not bound: " + unbound);
  if (m->host.kernel_done != nullptr) m->profile.start_run();
  const int32_t code = d.run(&m->host, m->inputs.data(), m->outputs.data(), m->arena);
  if (m->host.kernel_done != nullptr && code == 0) ++m->profile.runs;
  if (code != 0)
    return set_error(KILN_ERROR_INTERNAL, "model " + m->path + " failed while running (code " +
                                              std::to_string(code) + ")");
  return KILN_OK;
}

kiln_status kiln_model_set_profiling(kiln_model* m, int on) {
  clear_error();
  if (m == nullptr) return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_set_profiling: model is null");
  if (on) {
    std::fill(m->profile.seconds.begin(), m->profile.seconds.end(), 0.0);
    m->profile.runs = 0;
  }
  m->host.kernel_done = on ? &kiln::rt::Profile::kernel_done : nullptr;
  return KILN_OK;
}

int kiln_model_num_kernels(const kiln_model* m) { return m ? m->desc->num_kernels : 0; }

kiln_status kiln_model_kernel_profile(const kiln_model* m, int index, kiln_kernel_profile* out) {
  clear_error();
  if (m == nullptr || out == nullptr)
    return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_kernel_profile: null model or output pointer");
  if (index < 0 || index >= m->desc->num_kernels)
    return set_error(KILN_ERROR_INVALID_ARGUMENT, "kernel index " + std::to_string(index) +
                                                      " is out of range (model has " +
                                                      std::to_string(m->desc->num_kernels) + ")");
  out->name = m->desc->kernel_names[index];
  out->runs = m->profile.runs;
  out->total_seconds = m->profile.seconds[index];
  return KILN_OK;
}

kiln_status kiln_model_properties(const kiln_model* m, kiln_model_props* out) {
  clear_error();
  if (m == nullptr || out == nullptr)
    return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_properties: null model or output pointer");
  const kiln_model_desc& d = *m->desc;
  out->path = m->path.c_str();
  out->arch = d.arch ? d.arch : "";
  out->cpu_features = d.cpu_features ? d.cpu_features : "";
  out->kiln_version = d.kiln_version ? d.kiln_version : "";
  out->abi_version = d.abi_version;
  out->num_threads = static_cast<int32_t>(m->host.num_threads);
  out->arena_bytes = d.arena_bytes;
  out->weights_bytes = d.weights_bytes;
  return KILN_OK;
}

const char* kiln_runtime_version(void) { return KILN_VERSION; }

const char* kiln_model_metadata(const kiln_model* m) {
  return m && m->desc->metadata_json ? m->desc->metadata_json : "";
}

const char* kiln_dtype_name(int32_t dtype) {
  switch (dtype) {
    case KILN_F32: return "float32";
    case KILN_U8: return "uint8";
    case KILN_I8: return "int8";
    case KILN_I32: return "int32";
    case KILN_I64: return "int64";
    case KILN_BOOL: return "bool";
    case KILN_F16: return "float16";
    case KILN_F64: return "float64";
    case KILN_U16: return "uint16";
    case KILN_I16: return "int16";
    case KILN_U32: return "uint32";
    case KILN_U64: return "uint64";
    case KILN_BF16: return "bfloat16";
    case KILN_F8E4M3FN: return "float8e4m3fn";
    case KILN_F8E4M3FNUZ: return "float8e4m3fnuz";
    case KILN_F8E5M2: return "float8e5m2";
    case KILN_F8E5M2FNUZ: return "float8e5m2fnuz";
    case KILN_F8E8M0: return "float8e8m0";
    case KILN_F4E2M1: return "float4e2m1";
    case KILN_U4: return "uint4";
    case KILN_I4: return "int4";
    case KILN_U2: return "uint2";
    case KILN_I2: return "int2";
    default: return "?";
  }
}

}  // extern "C"
