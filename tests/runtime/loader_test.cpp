// kiln_model_load refuses what it cannot run, with messages that name the
// problem: missing file, non-ELF, foreign architecture, no kiln symbol, bad
// checksum, ABI mismatch, CPU features the host lacks or does not know.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "kiln/model_abi.h"
#include "kiln/runtime.h"
#include "runtime/cpu_features.h"
#include "runtime/elf_check.h"
#include "tests/runtime/fake_model_path.h"

namespace {

using kiln::test::fake_model_dir;
using ::testing::HasSubstr;

struct LoadResult {
  kiln_status status;
  std::string error;
};

LoadResult try_load(const std::string& path) {
  kiln_model* m = reinterpret_cast<kiln_model*>(0x1);
  const kiln_status s = kiln_model_load(path.c_str(), &m);
  if (s == KILN_OK) kiln_model_free(m);
  else EXPECT_EQ(m, nullptr);
  return {s, kiln_last_error()};
}

std::string temp_file(const std::string& name, const void* data, size_t size) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

TEST(Loader, MissingPathIsNamed) {
  const LoadResult r = try_load("/nonexistent/kiln/model_dir");
  EXPECT_EQ(r.status, KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(r.error, HasSubstr("/nonexistent/kiln/model_dir"));
  EXPECT_THAT(r.error, HasSubstr("not found"));
}

TEST(Loader, MissingModelSoInFolder) {
  const LoadResult r = try_load(::testing::TempDir());
  EXPECT_EQ(r.status, KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(r.error, HasSubstr("model.so"));
}

TEST(Loader, NonElfFileIsNotASharedObject) {
  const char text[] = "this is not a model, just text\n";
  const std::string path = temp_file("not_elf.so", text, sizeof(text));
  const LoadResult r = try_load(path);
  EXPECT_EQ(r.status, KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(r.error, path + " is not a shared object (no ELF header)");
}

// A 64-byte ELF64 little-endian header of a shared object for `machine`.
std::string elf_header(uint16_t machine, uint16_t type = 3) {
  unsigned char h[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  h[16] = type & 0xff;
  h[18] = machine & 0xff;
  h[19] = machine >> 8;
  return std::string(reinterpret_cast<char*>(h), sizeof(h));
}

TEST(Loader, ForeignArchitectureIsRefusedBeforeDlopen) {
#if defined(__x86_64__)
  const uint16_t foreign = 183;  // EM_AARCH64
  const char* foreign_name = "aarch64";
  const char* host = "x86_64";
#else
  const uint16_t foreign = 62;  // EM_X86_64
  const char* foreign_name = "x86_64";
  const char* host = "aarch64";
#endif
  const std::string h = elf_header(foreign);
  const std::string path = temp_file("foreign.so", h.data(), h.size());
  const LoadResult r = try_load(path);
  EXPECT_EQ(r.status, KILN_ERROR_INCOMPATIBLE);
  EXPECT_EQ(r.error, path + " was compiled for " + foreign_name + ", but this machine is " + host);
}

TEST(Loader, ElfHeaderChecks) {
  using kiln::rt::check_elf_header;
  const std::string arm = elf_header(183);
  const std::string x86 = elf_header(62);
  const std::string& host = std::string(kiln::rt::host_arch_name()) == "x86_64" ? x86 : arm;
  auto check = [](const std::string& h) {
    return check_elf_header("m.so", reinterpret_cast<const unsigned char*>(h.data()), h.size());
  };
  EXPECT_EQ(check(host), "");
  EXPECT_EQ(check(elf_header(62, 2)).empty(), std::string(kiln::rt::host_arch_name()) != "x86_64");
  EXPECT_THAT(check(elf_header(243)), HasSubstr("was compiled for riscv64"));
  std::string exec = host;
  exec[16] = 2;  // ET_EXEC
  EXPECT_EQ(check(exec), "m.so is not a shared object (ELF type 2)");
  EXPECT_THAT(check(host.substr(0, 30)), HasSubstr("truncated"));
}

TEST(Loader, SharedLibraryWithoutSymbolIsNotAKilnModel) {
  const LoadResult r = try_load(fake_model_dir("no_symbol"));
  EXPECT_EQ(r.status, KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(r.error, HasSubstr("is not a kiln model"));
  EXPECT_THAT(r.error, HasSubstr("no_symbol/model.so"));
}

TEST(Loader, BadChecksumIsCorrupt) {
  const LoadResult r = try_load(fake_model_dir("bad_checksum"));
  EXPECT_EQ(r.status, KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(r.error, HasSubstr("corrupt"));
  EXPECT_THAT(r.error, HasSubstr("checksum"));
}

TEST(Loader, AbiMismatchNamesBothVersions) {
  const LoadResult r = try_load(fake_model_dir("bad_abi"));
  EXPECT_EQ(r.status, KILN_ERROR_INCOMPATIBLE);
  EXPECT_THAT(r.error, HasSubstr("ABI version 99"));
  EXPECT_THAT(r.error, HasSubstr("supports version " + std::to_string(KILN_MODEL_ABI_VERSION)));
}

TEST(Loader, UnknownCpuFeatureIsRefused) {
  const LoadResult r = try_load(fake_model_dir("unknown_feature"));
  EXPECT_EQ(r.status, KILN_ERROR_INCOMPATIBLE);
  EXPECT_THAT(r.error, HasSubstr("does not know: warp-drive"));
}

TEST(Loader, MissingCpuFeatureIsNamed) {
#if defined(__x86_64__)
  const std::string needed = "avx512f,avx512bw,avx512vnni,avxvnni,avx512fp16";
#else
  const std::string needed = "neon,i8mm,sve,bf16";
#endif
  const auto check = kiln::rt::check_cpu_features(needed, kiln::rt::host_cpu_features());
  if (check.missing.empty()) GTEST_SKIP() << "this CPU has every feature the variant asks for";
  const LoadResult r = try_load(fake_model_dir("needs_feature"));
  EXPECT_EQ(r.status, KILN_ERROR_INCOMPATIBLE);
  EXPECT_THAT(r.error, HasSubstr("model needs CPU features " + check.missing[0]));
  EXPECT_THAT(r.error, HasSubstr("but this CPU lacks them"));
}

TEST(CpuFeatures, CheckAgainstAGivenHost) {
  using kiln::rt::check_cpu_features;
#if defined(__x86_64__)
  const std::vector<std::string> avx2_host = {"sse4.1", "sse4.2", "avx", "avx2", "fma", "f16c"};
  auto c = check_cpu_features("avx2, +fma,avx512f,avx512bw", avx2_host);
  EXPECT_EQ(c.missing, (std::vector<std::string>{"avx512f", "avx512bw"}));
  EXPECT_TRUE(c.unknown.empty());
  c = check_cpu_features("AVX2,sse4_1,,", avx2_host);
  EXPECT_TRUE(c.missing.empty());
  EXPECT_TRUE(c.unknown.empty());
  c = check_cpu_features("avx2,dotprod", avx2_host);
  EXPECT_EQ(c.unknown, std::vector<std::string>{"dotprod"});
#else
  const std::vector<std::string> a72 = {"neon"};
  auto c = check_cpu_features("asimd,asimddp,i8mm", a72);
  EXPECT_EQ(c.missing, (std::vector<std::string>{"dotprod", "i8mm"}));
  c = check_cpu_features("neon,avx2", a72);
  EXPECT_EQ(c.unknown, std::vector<std::string>{"avx2"});
#endif
  EXPECT_TRUE(check_cpu_features("", {}).missing.empty());
}

TEST(CpuFeatures, HostFeaturesAreKnownNames) {
  const auto& known = kiln::rt::known_cpu_features();
  for (const auto& f : kiln::rt::host_cpu_features())
    EXPECT_NE(std::find(known.begin(), known.end(), f), known.end()) << f;
#if defined(__x86_64__)
  const auto& host = kiln::rt::host_cpu_features();
  EXPECT_NE(std::find(host.begin(), host.end(), "sse2"), host.end());  // baseline x86-64
#endif
}

}  // namespace
