// Internal pieces of target parsing shared by target.cpp, llvm_subtarget.cpp and
// the per-architecture files (x86.cpp, aarch64.cpp, cuda.cpp). No LLVM type appears here.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "targets/target.h"

namespace kiln::targets {

// The words of a target string, split and checked for form but not yet against LLVM.
struct TargetSpec {
  std::string family;        // "llvm" or "cuda"
  std::string family_model;  // MODEL of "cuda:MODEL", else ""
  std::string mcpu;          // -mcpu=
  std::string mtriple;       // -mtriple=
  std::string mattr;         // -mattr= ("+a,-b")
  std::string device;        // -device=
  std::string model;         // -model=
};

// A normalized, supported CPU triple (llvm_subtarget.cpp).
struct TripleInfo {
  std::string triple;        // "aarch64-unknown-linux-gnu"
  Arch arch = Arch::kX86_64;
  bool is_host_arch = false; // same architecture as the machine kiln runs on
};

// A CPU + feature string resolved by LLVM's subtarget tables.
struct Subtarget {
  std::string features;           // full string for createTargetMachine: "+avx,+avx2,...,-avx512f"
  std::set<std::string> enabled;  // every LLVM feature name that ends up enabled
};

// The normalized LLVM triple of the machine kiln runs on.
std::string host_triple();
// LLVM's name for the host CPU ("znver3").
std::string host_cpu_name();
// Normalizes `triple` (fills vendor/OS: "aarch64-linux-gnu" -> "aarch64-unknown-linux-gnu",
// a bare arch gets "-unknown-linux-gnu") and checks kiln can target it (x86_64/aarch64, ELF).
Expected<TripleInfo> normalize_triple(const std::string& triple);
// Validates `cpu` and `mattr` ("+a,-b", bare names mean "+") against LLVM's tables for
// `triple`, then resolves every enabled feature. With `host_features`, the host's
// feature map (llvm::sys::getHostCPUFeatures) is applied before `mattr`.
// `arch_name` only appears in messages.
Expected<Subtarget> resolve_subtarget(const std::string& triple, const std::string& arch_name,
                                      const std::string& cpu, const std::string& mattr, bool host_features);

// One runtime-check feature name and the LLVM feature that enables it.
using FeatureName = std::pair<const char*, const char*>;

// x86.cpp: the CPU used when cross-compiling to x86-64 without -mcpu.
const char* x86_default_cpu();
// x86.cpp: fills vector_bits, has_fma and required_features from the resolved features.
void fill_x86(const Subtarget& subtarget, Target* target);

// aarch64.cpp: the CPU used when cross-compiling to AArch64 without -mcpu.
const char* aarch64_default_cpu();
// aarch64.cpp: fills vector_bits, has_fma and required_features from the resolved features.
void fill_aarch64(const Subtarget& subtarget, Target* target);

// cuda.cpp: resolves "cuda" / "cuda:MODEL" (spec.family_model) to an sm_XX target.
Expected<Target> resolve_cuda_target(const TargetSpec& spec);
// cuda.cpp: the GPU model names cuda:MODEL accepts, in table order.
std::vector<std::string> known_cuda_models();

}  // namespace kiln::targets
