// kiln_model_load: every check a model must pass before anything runs
// (file, ELF machine, kiln symbol, magic, ABI, checksum, CPU features).
#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cpu_features.h"
#include "elf_check.h"
#include "error.h"
#include "model.h"

namespace kiln::rt {
namespace {

constexpr size_t kArenaAlignment = 64;

std::string resolve_path(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return path + (path.empty() || path.back() == '/' ? "" : "/") + "model.so";
  return path;
}

std::string to_hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool valid_tensor(const kiln_tensor_desc& t) {
  if (t.name == nullptr || t.rank < 0 || (t.rank > 0 && t.shape == nullptr)) return false;
  return t.num_bytes >= 0 && kiln_dtype_name(t.dtype)[0] != '?';
}

}  // namespace

std::string check_descriptor(const kiln_model_desc& desc, kiln_status* status) {
  *status = KILN_ERROR_INCOMPATIBLE;
  if (desc.magic != KILN_MODEL_MAGIC) return "bad magic number " + to_hex(desc.magic) + " in kiln model descriptor";
  if (desc.abi_version != KILN_MODEL_ABI_VERSION)
    return "model uses kiln model ABI version " + std::to_string(desc.abi_version) +
           ", but this runtime supports version " + std::to_string(KILN_MODEL_ABI_VERSION) +
           (desc.abi_version > KILN_MODEL_ABI_VERSION ? " (update the kiln runtime)"
                                                     : " (recompile the model)");
  if (desc.arch != nullptr && std::strcmp(desc.arch, host_arch_name()) != 0)
    return std::string("model was compiled for ") + desc.arch + ", but this machine is " + host_arch_name();
  *status = KILN_ERROR_INVALID_ARGUMENT;
  if (desc.weights_bytes > 0 && desc.weights == nullptr) return "model is corrupt: weights are missing";
  const uint64_t sum = desc.weights_bytes ? kiln_checksum64(desc.weights, desc.weights_bytes)
                                          : kiln_checksum64(nullptr, 0);
  if (sum != desc.weights_checksum)
    return "model is corrupt: weights checksum " + to_hex(sum) + " does not match the recorded " +
           to_hex(desc.weights_checksum);
  if (desc.run == nullptr || desc.num_inputs < 0 || desc.num_outputs < 0 ||
      (desc.num_inputs > 0 && desc.inputs == nullptr) || (desc.num_outputs > 0 && desc.outputs == nullptr) ||
      desc.num_kernels < 0 || (desc.num_kernels > 0 && desc.kernel_names == nullptr))
    return "model is corrupt: malformed descriptor";
  for (int i = 0; i < desc.num_kernels; ++i)
    if (desc.kernel_names[i] == nullptr) return "model is corrupt: kernel " + std::to_string(i) + " has no name";
  for (int i = 0; i < desc.num_inputs; ++i)
    if (!valid_tensor(desc.inputs[i])) return "model is corrupt: malformed input " + std::to_string(i);
  for (int i = 0; i < desc.num_outputs; ++i)
    if (!valid_tensor(desc.outputs[i])) return "model is corrupt: malformed output " + std::to_string(i);
  *status = KILN_ERROR_INCOMPATIBLE;
  return cpu_feature_error(desc.cpu_features ? desc.cpu_features : "");
}

kiln_status load_model(const char* path_arg, kiln_model** out) {
  if (out == nullptr) return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_load: out is null");
  *out = nullptr;
  if (path_arg == nullptr || *path_arg == '\0')
    return set_error(KILN_ERROR_INVALID_ARGUMENT, "kiln_model_load: empty path");
  const std::string path = resolve_path(path_arg);
  bool missing = false;
  std::string err = check_elf_file(path, &missing);
  if (missing) return set_error(KILN_ERROR_INVALID_ARGUMENT, "no compiled model at " + path + " (file not found)");
  if (!err.empty()) {
    const bool foreign = err.find("was compiled for") != std::string::npos;
    return set_error(foreign ? KILN_ERROR_INCOMPATIBLE : KILN_ERROR_INVALID_ARGUMENT, err);
  }
  // dlopen a relative path would search the library path: anchor it.
  const std::string open_path = path.find('/') == std::string::npos ? "./" + path : path;
  void* handle = dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return set_error(KILN_ERROR_INVALID_ARGUMENT, "cannot load " + path + ": " + (why ? why : "dlopen failed"));
  }
  auto* desc = static_cast<const kiln_model_desc*>(dlsym(handle, KILN_MODEL_SYMBOL));
  if (desc == nullptr) {
    dlclose(handle);
    return set_error(KILN_ERROR_INVALID_ARGUMENT,
                     path + " is not a kiln model (no " KILN_MODEL_SYMBOL " symbol)");
  }
  kiln_status status = KILN_OK;
  err = check_descriptor(*desc, &status);
  if (!err.empty()) {
    dlclose(handle);
    return set_error(status, path + ": " + err);
  }
  auto model = std::make_unique<kiln_model>();
  model->path = path;
  model->handle = handle;
  model->desc = desc;
  const size_t arena = (desc->arena_bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  model->arena = std::aligned_alloc(kArenaAlignment, arena ? arena : kArenaAlignment);
  if (model->arena == nullptr) {
    dlclose(handle);
    return set_error(KILN_ERROR_INTERNAL, "cannot allocate a " + std::to_string(arena) +
                                              "-byte arena for " + path);
  }
  model->inputs.assign(desc->num_inputs, nullptr);
  model->outputs.assign(desc->num_outputs, nullptr);
  model->host.abi_version = KILN_MODEL_ABI_VERSION;
  model->host.num_threads = 1;
  model->host.pool = nullptr;
  model->host.parallel_for = &ThreadPool::host_parallel_for;
  model->host.kernel_done = nullptr;
  model->host.profiler = &model->profile;
  model->profile.seconds.assign(desc->num_kernels, 0.0);
  *out = model.release();
  return KILN_OK;
}

}  // namespace kiln::rt
