// x86-64 specifics of a target: the cross-compiling default CPU, vector width,
// and which LLVM features map to the runtime's CPU-feature checks.
#include "targets/target_parts.h"

namespace kiln::targets {

namespace {

// Runtime-check name -> LLVM feature name. The loader refuses a host that lacks
// any of these that the code was compiled with (runtime/cpu_features.cpp checks them).
// LLVM uses BMI/POPCNT in scalar code too, so they are listed, not only the vector sets.
constexpr FeatureName kX86Features[] = {
    {"sse3", "sse3"},         {"ssse3", "ssse3"},         {"sse4.1", "sse4.1"},
    {"sse4.2", "sse4.2"},     {"popcnt", "popcnt"},       {"avx", "avx"},
    {"avx2", "avx2"},         {"fma", "fma"},             {"f16c", "f16c"},
    {"bmi", "bmi"},           {"bmi2", "bmi2"},           {"avx512f", "avx512f"},
    {"avx512bw", "avx512bw"}, {"avx512dq", "avx512dq"},   {"avx512vl", "avx512vl"},
    {"avx512cd", "avx512cd"}, {"avx512vnni", "avx512vnni"}, {"avx512bf16", "avx512bf16"},
    {"avx512fp16", "avx512fp16"}, {"avxvnni", "avxvnni"},
};

}  // namespace

// "x86-64" is the baseline every x86-64 CPU runs (SSE2 only): a cross-compiled
// object without -mcpu must load anywhere. Name a CPU (-mcpu=x86-64-v3, skylake, znver3)
// to get AVX2 code.
const char* x86_default_cpu() { return "x86-64"; }

void fill_x86(const Subtarget& subtarget, Target* target) {
  const auto& on = subtarget.enabled;
  target->vector_bits = on.count("avx512f") ? 512 : on.count("avx") ? 256 : 128;
  target->has_fma = on.count("fma") > 0;
  target->required_features.clear();
  for (const auto& [runtime_name, llvm_name] : kX86Features) {
    if (on.count(llvm_name)) target->required_features.push_back(runtime_name);
  }
}

}  // namespace kiln::targets
