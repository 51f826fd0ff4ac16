// parse_target / host_target: splits a `--target` string into its flags, resolves
// defaults (host triple, CPU and features) and hands each architecture its part.
#include "targets/target.h"

#include <sstream>

#include "base/check.h"
#include "targets/target_parts.h"

namespace kiln {

const char* Target::arch_name() const {
  switch (arch) {
    case Arch::kX86_64: return "x86_64";
    case Arch::kAArch64: return "aarch64";
    case Arch::kCuda: return "cuda";
  }
  KILN_UNREACHABLE("bad Arch " << static_cast<int>(arch));
}

namespace targets {
namespace {

constexpr const char* kSyntax = "llvm [-mcpu=CPU] [-mtriple=TRIPLE] [-mattr=+f,-g] [-device=arm_cpu] [-model=NAME] or cuda[:MODEL]";
// -device values and the triple each implies when -mtriple is absent.
constexpr const char* kArmDevice = "arm_cpu";
constexpr const char* kArmDeviceTriple = "aarch64-unknown-linux-gnu";

// Splits the spec into words and sorts out the flags; checks form only.
Expected<TargetSpec> split_spec(const std::string& spec) {
  std::istringstream in(spec);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  TargetSpec out;
  if (words.empty()) words.push_back("llvm");

  const std::string& family = words[0];
  if (family == "llvm") {
    out.family = "llvm";
  } else if (family == "cuda" || family.rfind("cuda:", 0) == 0) {
    out.family = "cuda";
    if (family.size() > 4) {
      out.family_model = family.substr(5);
      if (out.family_model.empty()) return Status::invalid("target 'cuda:' names no GPU model (write cuda:t4, cuda:a100, ...)");
    }
  } else {
    return Status::invalid("unknown target '" + family + "': a target starts with 'llvm' or 'cuda[:MODEL]' (" + kSyntax + ")");
  }

  struct Flag {
    const char* prefix;
    std::string* value;
  };
  const Flag flags[] = {{"-mcpu=", &out.mcpu},     {"-mtriple=", &out.mtriple}, {"-mattr=", &out.mattr},
                        {"-device=", &out.device}, {"-model=", &out.model}};
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    const Flag* match = nullptr;
    for (const Flag& f : flags) {
      if (w.rfind(f.prefix, 0) == 0) match = &f;
    }
    if (match == nullptr) {
      return Status::invalid("unknown target flag '" + w + "' (the target is " + kSyntax + ")");
    }
    std::string name(match->prefix, std::string(match->prefix).size() - 1);
    std::string value = w.substr(name.size() + 1);
    if (value.empty()) return Status::invalid("target flag " + name + "= has no value");
    if (!match->value->empty()) return Status::invalid("target flag " + name + " given twice");
    *match->value = value;
  }
  return out;
}

}  // namespace
}  // namespace targets

Expected<Target> parse_target(const std::string& spec) {
  using namespace targets;
  KILN_ASSIGN_OR_RETURN(TargetSpec parts, split_spec(spec));
  if (parts.family == "cuda") {
    KILN_ASSIGN_OR_RETURN(Target cuda, resolve_cuda_target(parts));
    cuda.spec = spec;
    return cuda;
  }

  if (!parts.device.empty() && parts.device != kArmDevice) {
    return Status::invalid("unknown -device '" + parts.device + "' (valid: " + kArmDevice + ")");
  }
  std::string triple = parts.mtriple;
  if (triple.empty()) triple = parts.device == kArmDevice ? kArmDeviceTriple : host_triple();
  KILN_ASSIGN_OR_RETURN(TripleInfo info, normalize_triple(triple));
  if (parts.device == kArmDevice && info.arch != Arch::kAArch64) {
    return Status::invalid("-device=arm_cpu contradicts -mtriple=" + parts.mtriple + " (an " + kArmDevice +
                           " target needs an aarch64 triple)");
  }

  Target target;
  target.arch = info.arch;
  target.spec = spec;
  target.triple = info.triple;
  target.device = parts.device;
  target.model = parts.model;
  const char* arch_name = target.arch_name();

  // The host's CPU and features when compiling for this machine's architecture
  // without naming a CPU (or with -mcpu=native); an architecture baseline otherwise.
  bool host_features = false;
  if (parts.mcpu == "native") {
    if (!info.is_host_arch) {
      return Status::invalid(std::string("-mcpu=native needs a target of the host's architecture, not ") + arch_name);
    }
    target.cpu = host_cpu_name();
    host_features = true;
  } else if (!parts.mcpu.empty()) {
    target.cpu = parts.mcpu;
  } else if (info.is_host_arch) {
    target.cpu = host_cpu_name();
    host_features = true;
  } else {
    target.cpu = target.arch == Arch::kX86_64 ? x86_default_cpu() : aarch64_default_cpu();
  }

  KILN_ASSIGN_OR_RETURN(Subtarget subtarget,
                        resolve_subtarget(target.triple, arch_name, target.cpu, parts.mattr, host_features));
  target.features = subtarget.features;
  if (target.arch == Arch::kX86_64) {
    fill_x86(subtarget, &target);
  } else {
    fill_aarch64(subtarget, &target);
  }
  return target;
}

Expected<Target> host_target() { return parse_target("llvm"); }

}  // namespace kiln
