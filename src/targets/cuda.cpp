// CUDA targets: "cuda" (portable PTX for sm_75, CUDA 13's oldest architecture) and
// "cuda:MODEL", a GPU name mapped to its compute capability.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "targets/suggest.h"
#include "targets/target_parts.h"

namespace kiln::targets {

namespace {

struct GpuModel {
  const char* name;
  const char* sm;
};

// GPUs cuda:MODEL accepts. Lower-case names; matching ignores case.
constexpr GpuModel kGpuModels[] = {
    {"2080ti", "sm_75"}, {"2080", "sm_75"},  {"t4", "sm_75"},    {"a100", "sm_80"},  {"a30", "sm_80"},
    {"a10", "sm_86"},    {"a40", "sm_86"},   {"a6000", "sm_86"}, {"3080", "sm_86"},  {"3090", "sm_86"},
    {"orin", "sm_87"},   {"4090", "sm_89"},  {"l4", "sm_89"},    {"l40", "sm_89"},   {"h100", "sm_90"},
    {"h200", "sm_90"},
};

// Real GPUs CUDA 13 can no longer compile for: a clear error instead of "unknown".
constexpr GpuModel kRetiredGpuModels[] = {
    {"p100", "sm_60"}, {"1080ti", "sm_61"}, {"v100", "sm_70"}, {"xavier", "sm_72"},
};

// The portable baseline: PTX for the oldest architecture CUDA 13's ptxas accepts.
constexpr const char* kBaselineSm = "sm_75";
constexpr int kOldestSm = 75;
// PTX ISA 8.0 (CUDA 12.0) covers sm_75..sm_90 and is what LLVM 19 emits reliably.
constexpr const char* kPtxFeature = "+ptx80";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The compute capability for a model name or a literal "sm_XX", or an error.
Expected<std::string> model_to_sm(const std::string& model) {
  const std::string key = lower(model);
  for (const GpuModel& m : kGpuModels) {
    if (key == m.name) return std::string(m.sm);
  }
  for (const GpuModel& m : kRetiredGpuModels) {
    if (key == m.name) {
      return Status::invalid("cuda:" + model + " (" + m.sm + ") is older than " + kBaselineSm +
                             ", the oldest architecture CUDA 13 compiles for");
    }
  }
  if (key.rfind("sm_", 0) == 0 && key.size() > 3 &&
      std::all_of(key.begin() + 3, key.end(), [](unsigned char c) { return std::isdigit(c) || c == 'a'; })) {
    if (std::atoi(key.c_str() + 3) < kOldestSm) {
      return Status::invalid("cuda:" + model + " is older than " + kBaselineSm +
                             ", the oldest architecture CUDA 13 compiles for");
    }
    return key;
  }
  std::vector<std::string> names = known_cuda_models();
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  std::string hint = suggestion_suffix(key, names, 3);
  if (hint.rfind("; did you mean", 0) != 0) hint.clear();
  return Status::invalid("unknown CUDA model '" + model + "' in cuda:" + model + hint + " (known models: " + known +
                         "; or cuda:sm_XX)");
}

}  // namespace

std::vector<std::string> known_cuda_models() {
  std::vector<std::string> names;
  for (const GpuModel& m : kGpuModels) names.push_back(m.name);
  return names;
}

Expected<Target> resolve_cuda_target(const TargetSpec& spec) {
  if (!spec.mcpu.empty() || !spec.mtriple.empty() || !spec.mattr.empty() || !spec.device.empty() ||
      !spec.model.empty()) {
    return Status::invalid("cuda targets take no -mcpu/-mtriple/-mattr/-device/-model flags; name the GPU as cuda:MODEL");
  }
  std::string sm = kBaselineSm;
  if (!spec.family_model.empty()) {
    KILN_ASSIGN_OR_RETURN(sm, model_to_sm(spec.family_model));
  }
  Target target;
  target.arch = Arch::kCuda;
  target.triple = "nvptx64-nvidia-cuda";
  // Validate against LLVM's NVPTX processor table (e.g. cuda:sm_100 is beyond LLVM 19).
  Expected<Subtarget> subtarget = resolve_subtarget(target.triple, "cuda", sm, kPtxFeature, false);
  if (!subtarget) {
    return Status::invalid("cuda:" + spec.family_model + ": " + sm + " is not an architecture LLVM 19's NVPTX backend knows");
  }
  target.cpu = sm;
  target.features = kPtxFeature;
  target.model = spec.family_model;
  target.vector_bits = 128;
  target.has_fma = true;
  return target;
}

}  // namespace kiln::targets
