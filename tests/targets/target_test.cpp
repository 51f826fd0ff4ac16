// Tests for parse_target: defaults from the host, CPU/triple/feature validation
// with suggestions, AArch64 cross targets and CUDA model names.
#include "targets/target.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "targets/suggest.h"

namespace kiln {
namespace {

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }
bool has_feature(const std::string& features, const std::string& f) {
  return ("," + features + ",").find("," + f + ",") != std::string::npos;
}

Target parse_ok(const std::string& spec) {
  Expected<Target> t = parse_target(spec);
  EXPECT_TRUE(t.has_value()) << spec << ": " << t.status().message();
  return t.has_value() ? *t : Target{};
}

std::string parse_error(const std::string& spec) {
  Expected<Target> t = parse_target(spec);
  EXPECT_FALSE(t.has_value()) << spec << " unexpectedly parsed";
  EXPECT_EQ(t.status().exit_code(), 2) << spec;
  return t.has_value() ? "" : t.status().message();
}

TEST(TargetTest, HostDefaultUsesHostCpuAndFeatures) {
  Target t = parse_ok("llvm");
  Expected<Target> host = host_target();
  ASSERT_TRUE(host.has_value());
  EXPECT_EQ(t.triple, host->triple);
  EXPECT_EQ(t.cpu, host->cpu);
  EXPECT_FALSE(t.cpu.empty());
  EXPECT_FALSE(t.features.empty());
#if defined(__x86_64__)
  EXPECT_EQ(t.arch, Arch::kX86_64);
  EXPECT_STREQ(t.arch_name(), "x86_64");
  EXPECT_EQ(t.triple.rfind("x86_64-", 0), 0u) << t.triple;
  // What LLVM says about the host must agree with what the CPU says about itself.
  EXPECT_EQ(has(t.required_features, "avx2"), static_cast<bool>(__builtin_cpu_supports("avx2")));
  EXPECT_EQ(has(t.required_features, "fma"), static_cast<bool>(__builtin_cpu_supports("fma")));
  EXPECT_EQ(t.has_fma, static_cast<bool>(__builtin_cpu_supports("fma")));
  EXPECT_EQ(has(t.required_features, "avx512f"), static_cast<bool>(__builtin_cpu_supports("avx512f")));
  int expected_bits = __builtin_cpu_supports("avx512f") ? 512 : __builtin_cpu_supports("avx") ? 256 : 128;
  EXPECT_EQ(t.vector_bits, expected_bits);
#elif defined(__aarch64__)
  EXPECT_EQ(t.arch, Arch::kAArch64);
  EXPECT_TRUE(has(t.required_features, "neon"));
#endif
}

#if defined(__x86_64__)
TEST(TargetTest, SkylakeImpliesAvx2FmaNotAvx512) {
  Target t = parse_ok("llvm -mcpu=skylake");
  EXPECT_EQ(t.cpu, "skylake");
  EXPECT_EQ(t.vector_bits, 256);
  EXPECT_TRUE(t.has_fma);
  for (const char* f : {"sse4.1", "sse4.2", "avx", "avx2", "fma", "f16c"}) EXPECT_TRUE(has(t.required_features, f)) << f;
  EXPECT_FALSE(has(t.required_features, "avx512f"));
  EXPECT_TRUE(has_feature(t.features, "+avx2")) << t.features;
  EXPECT_FALSE(has_feature(t.features, "+avx512f")) << t.features;
  // A named CPU does not pick up the host's features.
  EXPECT_EQ(t.features, parse_ok("llvm -mcpu=skylake").features);
}

TEST(TargetTest, SkylakeAvx512And512BitVectors) {
  Target t = parse_ok("llvm -mcpu=skylake-avx512");
  EXPECT_EQ(t.vector_bits, 512);
  for (const char* f : {"avx512f", "avx512bw", "avx512dq", "avx512vl"}) EXPECT_TRUE(has(t.required_features, f)) << f;
  EXPECT_FALSE(has(t.required_features, "avx512vnni"));
  EXPECT_TRUE(has(parse_ok("llvm -mcpu=cascadelake").required_features, "avx512vnni"));
}

TEST(TargetTest, MattrAddsAndRemovesFeatures) {
  Target t = parse_ok("llvm -mcpu=skylake -mattr=-avx2");
  EXPECT_FALSE(has(t.required_features, "avx2"));
  EXPECT_TRUE(has(t.required_features, "fma"));
  EXPECT_EQ(t.vector_bits, 256);
  EXPECT_TRUE(has_feature(t.features, "-avx2")) << t.features;
  EXPECT_FALSE(has_feature(t.features, "+avx2")) << t.features;

  Target wide = parse_ok("llvm -mcpu=skylake -mattr=+avx512f,avx512bw");
  EXPECT_TRUE(has(wide.required_features, "avx512f"));
  EXPECT_TRUE(has(wide.required_features, "avx512bw"));
  EXPECT_EQ(wide.vector_bits, 512);

  Target no_avx = parse_ok("llvm -mcpu=haswell -mattr=-avx");
  EXPECT_EQ(no_avx.vector_bits, 128);
  // Disabling AVX disables what depends on it.
  EXPECT_FALSE(has(no_avx.required_features, "avx2"));
  EXPECT_FALSE(has(no_avx.required_features, "fma"));
}

TEST(TargetTest, QuotedAndSplitFormsAgree) {
  Target a = parse_ok("llvm -mcpu=skylake -mattr=+avx512f");
  Target b = parse_ok("  llvm   -mcpu=skylake\t-mattr=+avx512f ");
  EXPECT_EQ(a.cpu, b.cpu);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.triple, b.triple);
  EXPECT_EQ(a.spec, "llvm -mcpu=skylake -mattr=+avx512f");
}

TEST(TargetTest, CrossX86WithoutCpuIsBaseline) {
  // x86_64 triple on an x86_64 host means the host CPU; the baseline is for other hosts.
  Target t = parse_ok("llvm -mtriple=x86_64-linux-gnu");
  EXPECT_EQ(t.triple, "x86_64-unknown-linux-gnu");
  EXPECT_EQ(t.cpu, parse_ok("llvm").cpu);
}
#endif

TEST(TargetTest, Aarch64TripleIsNormalized) {
  Target t = parse_ok("llvm -device=arm_cpu -model=bcm2837 -mtriple=aarch64-linux-gnu -mattr=+neon -mcpu=cortex-a72");
  EXPECT_EQ(t.arch, Arch::kAArch64);
  EXPECT_STREQ(t.arch_name(), "aarch64");
  EXPECT_EQ(t.triple, "aarch64-unknown-linux-gnu");
  EXPECT_EQ(t.cpu, "cortex-a72");
  EXPECT_EQ(t.device, "arm_cpu");
  EXPECT_EQ(t.model, "bcm2837");
  EXPECT_EQ(t.vector_bits, 128);
  EXPECT_TRUE(t.has_fma);
  EXPECT_TRUE(has(t.required_features, "neon"));
  EXPECT_FALSE(has(t.required_features, "dotprod"));  // ARMv8.0
  EXPECT_TRUE(has_feature(t.features, "+neon")) << t.features;
  EXPECT_FALSE(has_feature(t.features, "+avx2"));
}

TEST(TargetTest, DeviceArmCpuImpliesAarch64) {
  Target t = parse_ok("llvm -device=arm_cpu");
  EXPECT_EQ(t.arch, Arch::kAArch64);
  EXPECT_EQ(t.triple, "aarch64-unknown-linux-gnu");
#if defined(__x86_64__)
  EXPECT_EQ(t.cpu, "generic");
#endif
  EXPECT_TRUE(has(t.required_features, "neon"));
}

TEST(TargetTest, Aarch64DotprodAndFp16FromCpu) {
  Target t = parse_ok("llvm -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1");
  EXPECT_TRUE(has(t.required_features, "dotprod"));
  EXPECT_TRUE(has(t.required_features, "fp16"));
  // Every name in the feature string survives lower-casing (SubtargetFeatures does that).
  EXPECT_FALSE(std::any_of(t.features.begin(), t.features.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      << t.features;
  Target plus = parse_ok("llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a72 -mattr=+dotprod,+i8mm");
  EXPECT_TRUE(has(plus.required_features, "dotprod"));
  EXPECT_TRUE(has(plus.required_features, "i8mm"));
  // A bare arch gets a Linux triple.
  EXPECT_EQ(parse_ok("llvm -mtriple=aarch64").triple, "aarch64-unknown-linux-gnu");
}

TEST(TargetTest, UnknownCpuSuggestsClosest) {
  std::string msg = parse_error("llvm -mcpu=skylkae -mtriple=x86_64-linux-gnu");
  EXPECT_NE(msg.find("unknown -mcpu 'skylkae' for x86_64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean: skylake, skylake-avx512?"), std::string::npos) << msg;

  std::string arm = parse_error("llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a27");
  EXPECT_NE(arm.find("for aarch64"), std::string::npos) << arm;
  EXPECT_NE(arm.find("cortex-a72"), std::string::npos) << arm;
}

TEST(TargetTest, UnknownFeatureSuggestsClosest) {
  std::string msg = parse_error("llvm -mtriple=x86_64-linux-gnu -mcpu=skylake -mattr=+avx2,+avx512ff");
  EXPECT_NE(msg.find("unknown feature 'avx512ff' in -mattr for x86_64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("avx512f"), std::string::npos) << msg;
  std::string arm = parse_error("llvm -mtriple=aarch64-linux-gnu -mattr=+neonn");
  EXPECT_NE(arm.find("did you mean: neon"), std::string::npos) << arm;
  EXPECT_NE(parse_error("llvm -mattr=+avx2,,+fma").find("empty feature"), std::string::npos);
}

TEST(TargetTest, UnknownOrUnsupportedTriple) {
  std::string msg = parse_error("llvm -mtriple=x86_46-linux-gnu");
  EXPECT_NE(msg.find("unknown -mtriple 'x86_46-linux-gnu'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("x86_64"), std::string::npos) << msg;
  EXPECT_NE(parse_error("llvm -mtriple=riscv64-linux-gnu").find("not supported"), std::string::npos);
  EXPECT_NE(parse_error("llvm -mtriple=x86_64-apple-darwin").find("ELF"), std::string::npos);
  EXPECT_NE(parse_error("llvm -mtriple=x86_64-pc-foobar").find("OS 'foobar'"), std::string::npos);
  EXPECT_NE(parse_error("llvm -device=arm_cpu -mtriple=x86_64-linux-gnu").find("contradicts"), std::string::npos);
}

TEST(TargetTest, MalformedSpecsNameTheWord) {
  EXPECT_NE(parse_error("tvm -mcpu=skylake").find("unknown target 'tvm'"), std::string::npos);
  EXPECT_NE(parse_error("llvm --mcpu=skylake").find("unknown target flag '--mcpu=skylake'"), std::string::npos);
  EXPECT_NE(parse_error("llvm -mcpu skylake").find("'-mcpu'"), std::string::npos);
  EXPECT_NE(parse_error("llvm -mcpu=").find("-mcpu= has no value"), std::string::npos);
  EXPECT_NE(parse_error("llvm -mcpu=skylake -mcpu=znver3").find("given twice"), std::string::npos);
  EXPECT_NE(parse_error("llvm -device=gpu").find("unknown -device 'gpu'"), std::string::npos);
  EXPECT_NE(parse_error("llvm -mcpu=help").find("unknown -mcpu 'help'"), std::string::npos);
}

TEST(TargetTest, CudaModelsMapToComputeCapability) {
  Target t4 = parse_ok("cuda:t4");
  EXPECT_EQ(t4.arch, Arch::kCuda);
  EXPECT_EQ(t4.cpu, "sm_75");
  EXPECT_EQ(t4.triple, "nvptx64-nvidia-cuda");
  EXPECT_EQ(t4.model, "t4");
  EXPECT_TRUE(t4.required_features.empty());
  EXPECT_EQ(parse_ok("cuda:h100").cpu, "sm_90");
  EXPECT_EQ(parse_ok("cuda:A100").cpu, "sm_80");
  EXPECT_EQ(parse_ok("cuda:2080ti").cpu, "sm_75");
  EXPECT_EQ(parse_ok("cuda:4090").cpu, "sm_89");
  EXPECT_EQ(parse_ok("cuda:orin").cpu, "sm_87");
  EXPECT_EQ(parse_ok("cuda:sm_86").cpu, "sm_86");
  Target portable = parse_ok("cuda");
  EXPECT_EQ(portable.cpu, "sm_75");  // portable PTX baseline
  EXPECT_TRUE(portable.model.empty());
}

TEST(TargetTest, CudaErrorsListKnownModels) {
  std::string msg = parse_error("cuda:t5");
  EXPECT_NE(msg.find("unknown CUDA model 't5'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("t4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("h100"), std::string::npos) << msg;
  EXPECT_NE(parse_error("cuda:v100").find("older than sm_75"), std::string::npos);
  EXPECT_NE(parse_error("cuda:sm_70").find("older than sm_75"), std::string::npos);
  EXPECT_NE(parse_error("cuda:sm_100").find("NVPTX"), std::string::npos);
  EXPECT_NE(parse_error("cuda -mcpu=sm_80").find("cuda:MODEL"), std::string::npos);
  EXPECT_NE(parse_error("cuda:").find("no GPU model"), std::string::npos);
}

TEST(SuggestTest, EditDistanceCountsTranspositions) {
  EXPECT_EQ(targets::edit_distance("skylkae", "skylake"), 1);
  EXPECT_EQ(targets::edit_distance("abc", "abc"), 0);
  EXPECT_EQ(targets::edit_distance("", "abc"), 3);
  EXPECT_EQ(targets::edit_distance("Znver3", "znver3"), 0);
  std::vector<std::string> names = {"alpha", "beta", "alphabet", "gamma", "alpha_bet"};
  EXPECT_EQ(targets::closest_names("alpah", names, 2), (std::vector<std::string>{"alpha", "alphabet"}));
  EXPECT_EQ(targets::suggestion_suffix("zzzzzzzz", {"a", "b"}), "; valid names include: a, b");
}

}  // namespace
}  // namespace kiln
