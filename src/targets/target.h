// A resolved compilation target: parsed from `--target`, validated against
// LLVM's tables. No LLVM type appears here.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace kiln {

enum class Arch : uint8_t { kX86_64, kAArch64, kCuda };

struct Target {
  Arch arch = Arch::kX86_64;
  std::string spec;                 // as the user wrote it ("llvm -mcpu=skylake")
  std::string triple;               // normalized LLVM triple ("x86_64-unknown-linux-gnu")
  std::string cpu;                  // resolved CPU ("znver3"; host CPU when not given)
  std::string features;             // LLVM feature string ("+avx2,+fma,-avx512f")
  std::string device;               // -device= hint ("arm_cpu") or ""
  std::string model;                // -model= hint or ""
  int vector_bits = 128;            // widest float vector register: 128 / 256 / 512
  bool has_fma = false;
  // Features the generated code relies on, in runtime-check names
  // ("avx2", "fma", "avx512f", "neon", "dotprod"): the loader refuses a host without them.
  std::vector<std::string> required_features;

  // "x86_64" / "aarch64" (the name in model_abi.h descriptors).
  const char* arch_name() const;
  // f32 lanes in one vector register.
  int f32_lanes() const { return vector_bits / 32; }
};

// Parses a target string: "llvm [-mcpu=CPU] [-mtriple=T] [-mattr=+a,-b]
// [-device=D] [-model=M]" (words may arrive split or as one quoted string).
// An unknown CPU, triple or feature is an invalid-input error listing close
// valid names.
Expected<Target> parse_target(const std::string& spec);
// The target for the machine kiln runs on.
Expected<Target> host_target();

}  // namespace kiln
