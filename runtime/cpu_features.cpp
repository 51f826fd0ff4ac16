// CPU feature detection: cpuid + xgetbv on x86-64, getauxval(AT_HWCAP) on AArch64.
#include "cpu_features.h"

#include <algorithm>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace kiln::rt {
namespace {

#if defined(__x86_64__)
const std::vector<std::string> kKnown = {
    "sse2",     "sse3",     "ssse3",    "sse4.1",   "sse4.2",     "popcnt",  "avx",
    "avx2",     "fma",      "f16c",     "bmi",      "bmi2",       "avx512f", "avx512bw",
    "avx512dq", "avx512vl", "avx512cd", "avx512vnni", "avx512bf16", "avx512fp16", "avxvnni"};

uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

std::vector<std::string> detect() {
  std::vector<std::string> out;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return out;
  const unsigned ecx1 = c, edx1 = d;
  const bool osxsave = ecx1 & (1u << 27);
  const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool avx_os = (xcr0 & 0x6) == 0x6;            // XMM and YMM state
  const bool avx512_os = avx_os && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  auto add = [&](bool has, const char* name) { if (has) out.push_back(name); };
  add(edx1 & (1u << 26), "sse2");
  add(ecx1 & (1u << 0), "sse3");
  add(ecx1 & (1u << 9), "ssse3");
  add(ecx1 & (1u << 19), "sse4.1");
  add(ecx1 & (1u << 20), "sse4.2");
  add(ecx1 & (1u << 23), "popcnt");
  add(avx_os && (ecx1 & (1u << 28)), "avx");
  add(avx_os && (ecx1 & (1u << 12)), "fma");
  add(avx_os && (ecx1 & (1u << 29)), "f16c");
  unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    b7 = b;
    c7 = c;
    d7 = d;
    if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) a71 = a;
  }
  add(avx_os && (b7 & (1u << 5)), "avx2");
  add(b7 & (1u << 3), "bmi");
  add(b7 & (1u << 8), "bmi2");
  add(avx512_os && (b7 & (1u << 16)), "avx512f");
  add(avx512_os && (b7 & (1u << 30)), "avx512bw");
  add(avx512_os && (b7 & (1u << 17)), "avx512dq");
  add(avx512_os && (b7 & (1u << 31)), "avx512vl");
  add(avx512_os && (b7 & (1u << 28)), "avx512cd");
  add(avx512_os && (c7 & (1u << 11)), "avx512vnni");
  add(avx512_os && (a71 & (1u << 5)), "avx512bf16");
  add(avx512_os && (d7 & (1u << 23)), "avx512fp16");
  add(avx_os && (a71 & (1u << 4)), "avxvnni");
  return out;
}
#elif defined(__aarch64__)
const std::vector<std::string> kKnown = {"neon", "fp16", "dotprod", "i8mm", "bf16", "sve"};

std::vector<std::string> detect() {
  // Bits from the Linux uapi hwcap.h; spelled out so old headers still build.
  constexpr unsigned long kHwcapAsimd = 1ul << 1, kHwcapFphp = 1ul << 9, kHwcapAsimdhp = 1ul << 10,
                          kHwcapAsimddp = 1ul << 20, kHwcapSve = 1ul << 22;
  constexpr unsigned long kHwcap2I8mm = 1ul << 13, kHwcap2Bf16 = 1ul << 14;
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  std::vector<std::string> out;
  auto add = [&](bool has, const char* name) { if (has) out.push_back(name); };
  add(hw & kHwcapAsimd, "neon");
  add((hw & kHwcapFphp) && (hw & kHwcapAsimdhp), "fp16");
  add(hw & kHwcapAsimddp, "dotprod");
  add(hw2 & kHwcap2I8mm, "i8mm");
  add(hw2 & kHwcap2Bf16, "bf16");
  add(hw & kHwcapSve, "sve");
  return out;
}
#endif

std::string canonical(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return char(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch); });
  if (name == "asimd") return "neon";
  if (name == "asimddp") return "dotprod";
  if (name == "fullfp16") return "fp16";
  if (name == "sse4_1") return "sse4.1";
  if (name == "sse4_2") return "sse4.2";
  return name;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

const std::vector<std::string>& known_cpu_features() { return kKnown; }

const std::vector<std::string>& host_cpu_features() {
  static const std::vector<std::string> features = detect();
  return features;
}

FeatureCheck check_cpu_features(const std::string& list, const std::vector<std::string>& host) {
  FeatureCheck result;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    std::string name = list.substr(pos, end - pos);
    pos = end + 1;
    const size_t b = name.find_first_not_of(" \t+");
    const size_t e = name.find_last_not_of(" \t");
    if (b == std::string::npos) continue;
    name = canonical(name.substr(b, e - b + 1));
    const auto& known = known_cpu_features();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      result.unknown.push_back(name);
    } else if (std::find(host.begin(), host.end(), name) == host.end()) {
      result.missing.push_back(name);
    }
  }
  return result;
}

std::string cpu_feature_error(const std::string& list) {
  const FeatureCheck check = check_cpu_features(list, host_cpu_features());
  if (!check.unknown.empty())
    return "model needs CPU features this runtime does not know: " + join(check.unknown) +
           " (update the kiln runtime)";
  if (!check.missing.empty())
    return "model needs CPU features " + join(check.missing) + ", but this CPU lacks them";
  return "";
}

}  // namespace kiln::rt
