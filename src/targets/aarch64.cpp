// AArch64 specifics of a target: the cross-compiling default CPU, vector width,
// and which LLVM features map to the runtime's CPU-feature checks.
#include "targets/target_parts.h"

namespace kiln::targets {

namespace {

// Runtime-check name -> LLVM feature name ("fp16" is LLVM's "fullfp16": FP16 arithmetic).
constexpr FeatureName kAArch64Features[] = {
    {"neon", "neon"},
    {"dotprod", "dotprod"},
    {"fp16", "fullfp16"},
    {"i8mm", "i8mm"},
    {"bf16", "bf16"},
    {"sve", "sve"},
};

}  // namespace

// LLVM's "generic" AArch64 CPU is ARMv8-A with NEON: runs on every 64-bit Arm core.
const char* aarch64_default_cpu() { return "generic"; }

void fill_aarch64(const Subtarget& subtarget, Target* target) {
  const auto& on = subtarget.enabled;
  // SVE's length is unknown at compile time; kiln's kernels use 128-bit NEON.
  target->vector_bits = 128;
  // NEON always has fused multiply-add (FMLA).
  target->has_fma = on.count("neon") > 0;
  target->required_features.clear();
  for (const auto& [runtime_name, llvm_name] : kAArch64Features) {
    if (on.count(llvm_name)) target->required_features.push_back(runtime_name);
  }
}

}  // namespace kiln::targets
