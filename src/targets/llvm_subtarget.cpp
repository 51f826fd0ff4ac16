// Target validation against LLVM's own tables: triples, CPU names and features.
// The only file in targets/ that includes LLVM headers.
#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include "base/check.h"
#include "base/strings.h"
#include "targets/suggest.h"
#include "targets/target_parts.h"

namespace kiln::targets {

namespace {

void initialize_llvm_targets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargetMCs();
  });
}

// Subtarget info for `triple` with `cpu` and `features`; null if LLVM has no such target.
std::unique_ptr<llvm::MCSubtargetInfo> make_subtarget_info(const std::string& triple, const std::string& cpu,
                                                           const std::string& features) {
  initialize_llvm_targets();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (target == nullptr) return nullptr;
  return std::unique_ptr<llvm::MCSubtargetInfo>(target->createMCSubtargetInfo(triple, cpu, features));
}

// One "+name" / "-name" entry of a feature string.
struct FeatureFlag {
  bool enable;
  std::string name;
};

// Parses -mattr ("+avx2,-fma,neon") and checks each name against LLVM's feature table.
Expected<std::vector<FeatureFlag>> parse_mattr(const std::string& mattr, const std::string& arch_name,
                                               const std::vector<std::string>& known) {
  std::vector<FeatureFlag> flags;
  if (mattr.empty()) return flags;
  for (const std::string& item : split(mattr, ',')) {
    if (item.empty() || item == "+" || item == "-") {
      return Status::invalid("empty feature in -mattr='" + mattr + "' (write -mattr=+feature,-feature)");
    }
    FeatureFlag flag{item[0] != '-', (item[0] == '+' || item[0] == '-') ? item.substr(1) : item};
    if (std::find(known.begin(), known.end(), flag.name) == known.end()) {
      return Status::invalid("unknown feature '" + flag.name + "' in -mattr for " + arch_name +
                             suggestion_suffix(flag.name, known));
    }
    flags.push_back(std::move(flag));
  }
  return flags;
}

}  // namespace

std::string host_triple() { return llvm::Triple::normalize(llvm::sys::getDefaultTargetTriple()); }

std::string host_cpu_name() { return llvm::sys::getHostCPUName().str(); }

Expected<TripleInfo> normalize_triple(const std::string& triple) {
  const std::string supported = " (kiln targets x86_64-unknown-linux-gnu and aarch64-unknown-linux-gnu)";
  llvm::Triple t(llvm::Triple::normalize(triple));
  TripleInfo info;
  switch (t.getArch()) {
    case llvm::Triple::x86_64: info.arch = Arch::kX86_64; break;
    case llvm::Triple::aarch64: info.arch = Arch::kAArch64; break;
    case llvm::Triple::UnknownArch: {
      std::string arch = t.getArchName().str();
      return Status::invalid("unknown -mtriple '" + triple + "': LLVM knows no architecture '" + arch + "'" +
                             suggestion_suffix(arch, {"x86_64", "aarch64", "arm64"}));
    }
    default:
      return Status::invalid("unsupported -mtriple '" + triple + "': architecture '" + t.getArchName().str() +
                             "' is not supported" + supported);
  }
  if (t.getOS() == llvm::Triple::UnknownOS) {
    llvm::StringRef os = t.getOSName();
    if (!os.empty() && os != "unknown" && os != "none") {
      return Status::invalid("unknown -mtriple '" + triple + "': LLVM knows no OS '" + os.str() + "'" +
                             suggestion_suffix(os.str(), {"linux", "linux-gnu"}));
    }
    // A bare architecture means Linux: kiln writes ELF shared objects for a Linux loader.
    t.setOS(llvm::Triple::Linux);
    if (t.getEnvironment() == llvm::Triple::UnknownEnvironment) t.setEnvironment(llvm::Triple::GNU);
  }
  if (!t.isOSBinFormatELF()) {
    return Status::invalid("unsupported -mtriple '" + triple + "': kiln writes ELF shared objects, use a linux triple" +
                           supported);
  }
  info.triple = t.normalize();
  info.is_host_arch = llvm::Triple(host_triple()).getArch() == t.getArch();
  return info;
}

Expected<Subtarget> resolve_subtarget(const std::string& triple, const std::string& arch_name,
                                      const std::string& cpu, const std::string& mattr, bool host_features) {
  // A subtarget with no CPU and no features only serves to read LLVM's tables.
  std::unique_ptr<llvm::MCSubtargetInfo> tables = make_subtarget_info(triple, "", "");
  KILN_CHECK(tables != nullptr) << "LLVM in this build has no target for " << triple;
  std::vector<std::string> cpus, features;
  for (const llvm::SubtargetSubTypeKV& kv : tables->getAllProcessorDescriptions()) cpus.push_back(kv.Key);
  for (const llvm::SubtargetFeatureKV& kv : tables->getAllProcessorFeatures()) features.push_back(kv.Key);

  if (!cpu.empty() && !tables->isCPUStringValid(cpu)) {
    return Status::invalid("unknown -mcpu '" + cpu + "' for " + arch_name + suggestion_suffix(cpu, cpus));
  }
  KILN_ASSIGN_OR_RETURN(std::vector<FeatureFlag> flags, parse_mattr(mattr, arch_name, features));

  std::vector<FeatureFlag> overrides;
  if (host_features) {
    // Only names LLVM's table knows: an unknown one would print a warning on stderr.
    for (const auto& entry : llvm::sys::getHostCPUFeatures()) {
      std::string name = entry.getKey().str();
      if (std::find(features.begin(), features.end(), name) != features.end()) {
        overrides.push_back({entry.getValue(), name});
      }
    }
    std::sort(overrides.begin(), overrides.end(), [](const FeatureFlag& a, const FeatureFlag& b) { return a.name < b.name; });
  }
  overrides.insert(overrides.end(), flags.begin(), flags.end());

  std::string override_string;
  for (const FeatureFlag& f : overrides) {
    if (!override_string.empty()) override_string += ",";
    override_string += (f.enable ? "+" : "-") + f.name;
  }
  std::unique_ptr<llvm::MCSubtargetInfo> sti = make_subtarget_info(triple, cpu, override_string);
  KILN_CHECK(sti != nullptr) << "no subtarget for " << triple << " " << cpu;

  Subtarget result;
  for (const llvm::SubtargetFeatureKV& kv : sti->getAllProcessorFeatures()) {
    if (!sti->getFeatureBits().test(kv.Value)) continue;
    result.enabled.insert(kv.Key);
    // Tools that rebuild the string through SubtargetFeatures lower-case it, and LLVM's
    // table lookup is case-sensitive ("CONTEXTIDREL2"): leave such names to the CPU,
    // which implies them anyway.
    if (std::any_of(kv.Key, kv.Key + std::strlen(kv.Key), [](char c) { return c >= 'A' && c <= 'Z'; })) continue;
    if (!result.features.empty()) result.features += ",";
    result.features += std::string("+") + kv.Key;
  }
  // Explicit disables stay in the string so that the CPU cannot re-imply them.
  std::set<std::string> disabled;
  for (const FeatureFlag& f : overrides) {
    if (f.enable || result.enabled.count(f.name) || !disabled.insert(f.name).second) continue;
    if (!result.features.empty()) result.features += ",";
    result.features += "-" + f.name;
  }
  return result;
}

}  // namespace kiln::targets
