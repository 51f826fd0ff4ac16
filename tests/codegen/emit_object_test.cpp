// emit_object + link_shared_object: a two-kernel model for the host (dlopen,
// check every descriptor field, run it) and for AArch64 (ELF header).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "codegen/codegen.h"
#include "kernel/ir.h"
#include "kiln/model_abi.h"

namespace kiln::codegen {
namespace {

using namespace kiln::kir;  // NOLINT

constexpr int kN = 16;

// y = x * w0 + w1 through an arena temporary: kernel "mul" (vectorized) then
// kernel "add" (parallel over rows, vectorized inside).
ModelPlan make_plan() {
  ModelPlan plan;
  Buffer x = make_buffer("x", DType::kF32), w = make_buffer("w", DType::kF32), t = make_buffer("t", DType::kF32);
  Buffer b = make_buffer("b", DType::kF32), y = make_buffer("y", DType::kF32);
  Expr io = var("io"), ii = var("ii"), r = var("r"), c = var("c");
  Expr i = io * 8 + ii;
  plan.funcs.push_back(Func{"mul", {x, w, t},
                            for_loop(io, 0, kN / 8, ForKind::kSerial,
                                     for_loop(ii, 0, 8, ForKind::kVectorized, store(t, i, load(x, i) * load(w, i))))});
  plan.funcs.push_back(Func{"add", {t, b, y},
                            for_loop(r, 0, 2, ForKind::kParallel,
                                     for_loop(c, 0, 8, ForKind::kVectorized,
                                              store(y, r * 8 + c, load(t, r * 8 + c) + load(b, r * 8 + c))))});
  using K = KernelArg::Kind;
  plan.calls.push_back({"mul", {{K::kInput, 0}, {K::kWeights, 0}, {K::kArena, 0}}});
  plan.calls.push_back({"add", {{K::kArena, 0}, {K::kWeights, 64}, {K::kOutput, 0}}});
  std::vector<float> w_all(2 * kN);
  for (int k = 0; k < kN; ++k) {
    w_all[k] = 0.5f * k;
    w_all[kN + k] = 100.0f + k;
  }
  plan.weights.resize(w_all.size() * 4);
  std::memcpy(plan.weights.data(), w_all.data(), plan.weights.size());
  plan.arena_bytes = 64;
  plan.inputs.push_back({"x", DType::kF32, {2, 8}});
  plan.outputs.push_back({"y", DType::kF32, {2, 8}});
  plan.metadata_json = R"({"model":"test"})";
  return plan;
}

Target host_x86() {
  Target t;
  t.arch = Arch::kX86_64;
  t.triple = "x86_64-unknown-linux-gnu";
  t.cpu = "x86-64";
  t.features = "+sse2";
  t.required_features = {"sse2", "cx8"};
  return t;
}

int g_parallel_calls = 0;
void serial_for(void*, kiln_task_fn fn, void* ctx, int64_t n) {
  ++g_parallel_calls;
  fn(ctx, 0, n);
}

TEST(EmitObject, HostModelLoadsAndRuns) {
  ModelPlan plan = make_plan();
  Target target = host_x86();
  auto obj = emit_object(plan, target);
  ASSERT_TRUE(obj.has_value()) << obj.status().message();
  std::string so = testing::TempDir() + "/kiln_emit_test_host.so";
  Status s = link_shared_object(*obj, target, so);
  ASSERT_TRUE(s.is_ok()) << s.message();

  void* lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  EXPECT_EQ(dlsym(lib, "kiln_run"), nullptr);  // only the descriptor is exported
  EXPECT_EQ(dlsym(lib, "mul"), nullptr);
  auto* d = static_cast<const kiln_model_desc*>(dlsym(lib, KILN_MODEL_SYMBOL));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->magic, KILN_MODEL_MAGIC);
  EXPECT_EQ(d->abi_version, KILN_MODEL_ABI_VERSION);
  EXPECT_STREQ(d->arch, "x86_64");
  EXPECT_STREQ(d->cpu_features, "sse2,cx8");
  EXPECT_STREQ(d->kiln_version, KILN_VERSION);
  ASSERT_EQ(d->num_inputs, 1);
  ASSERT_EQ(d->num_outputs, 1);
  for (const kiln_tensor_desc* t : {d->inputs, d->outputs}) {
    EXPECT_EQ(t->dtype, KILN_F32);
    ASSERT_EQ(t->rank, 2);
    EXPECT_EQ(t->shape[0], 2);
    EXPECT_EQ(t->shape[1], 8);
    EXPECT_EQ(t->num_bytes, 64);
  }
  EXPECT_STREQ(d->inputs[0].name, "x");
  EXPECT_STREQ(d->outputs[0].name, "y");
  EXPECT_EQ(d->arena_bytes, 64u);
  ASSERT_EQ(d->weights_bytes, plan.weights.size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(d->weights) % 64, 0u);
  EXPECT_EQ(std::memcmp(d->weights, plan.weights.data(), plan.weights.size()), 0);
  EXPECT_EQ(d->weights_checksum, kiln_checksum64(d->weights, d->weights_bytes));
  EXPECT_EQ(d->weights_checksum, kiln_checksum64(plan.weights.data(), plan.weights.size()));
  EXPECT_STREQ(d->metadata_json, R"({"model":"test"})");
  ASSERT_NE(d->run, nullptr);
  ASSERT_EQ(d->num_kernels, 2);
  EXPECT_STREQ(d->kernel_names[0], "mul");
  EXPECT_STREQ(d->kernel_names[1], "add");

  std::vector<float> x(kN), y(kN, -1.0f);
  for (int k = 0; k < kN; ++k) x[k] = 1.0f + k;
  alignas(64) uint8_t arena[64];
  void* inputs[] = {x.data()};
  void* outputs[] = {y.data()};
  kiln_host_api host{KILN_MODEL_ABI_VERSION, 1, nullptr, serial_for, nullptr, nullptr};
  g_parallel_calls = 0;
  ASSERT_EQ(d->run(&host, inputs, outputs, arena), 0);
  EXPECT_EQ(g_parallel_calls, 1);
  for (int k = 0; k < kN; ++k) EXPECT_EQ(y[k], x[k] * (0.5f * k) + (100.0f + k)) << k;

  // Profiling: kernel_done(profiler, i) after each kernel, in order; y is already
  // complete when the last one reports.
  struct Log {
    std::vector<int32_t> kernels;
    const float* y;
    float y_last_at_done = 0;
  } log{{}, y.data()};
  host.profiler = &log;
  host.kernel_done = [](void* p, int32_t kernel) {
    auto* l = static_cast<Log*>(p);
    l->kernels.push_back(kernel);
    l->y_last_at_done = l->y[kN - 1];
  };
  std::fill(y.begin(), y.end(), -1.0f);
  ASSERT_EQ(d->run(&host, inputs, outputs, arena), 0);
  EXPECT_EQ(log.kernels, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(log.y_last_at_done, y[kN - 1]);
  dlclose(lib);
}

TEST(EmitObject, AArch64ModelLinks) {
  Target target;
  target.arch = Arch::kAArch64;
  target.triple = "aarch64-unknown-linux-gnu";
  target.cpu = "cortex-a72";
  target.features = "+neon";
  target.vector_bits = 128;
  target.required_features = {"neon"};
  auto obj = emit_object(make_plan(), target);
  ASSERT_TRUE(obj.has_value()) << obj.status().message();
  std::string so = testing::TempDir() + "/kiln_emit_test_aarch64.so";
  Status s = link_shared_object(*obj, target, so);
  ASSERT_TRUE(s.is_ok()) << s.message();
  std::ifstream f(so, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 64u);
  EXPECT_EQ(bytes.substr(0, 4), "\x7f" "ELF");
  EXPECT_EQ(bytes[4], 2);  // ELFCLASS64
  uint16_t type, machine;
  std::memcpy(&type, bytes.data() + 16, 2);
  std::memcpy(&machine, bytes.data() + 18, 2);
  EXPECT_EQ(type, 3);      // ET_DYN
  EXPECT_EQ(machine, 183); // EM_AARCH64
  EXPECT_NE(bytes.find("kiln_model_v1"), std::string::npos);

  // Where the cross toolchain and qemu are installed, also load and run it.
  if (std::system("command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-gcc >/dev/null") != 0) {
    FAIL() << "qemu-aarch64 / aarch64-linux-gnu-gcc not installed (scripts/setup.sh installs them)";
  }
  std::string dir = testing::TempDir();
  std::string src = dir + "/kiln_aarch64_loader.c", exe = dir + "/kiln_aarch64_loader";
  std::ofstream(src) << R"(#include <dlfcn.h>
#include <stdio.h>
#include "kiln/model_abi.h"
static void pfor(void* pool, kiln_task_fn fn, void* ctx, int64_t n) { fn(ctx, 0, n); }
int main(int argc, char** argv) {
  void* lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { printf("dlopen failed: %s\n", dlerror()); return 1; }
  const kiln_model_desc* d = (const kiln_model_desc*)dlsym(lib, KILN_MODEL_SYMBOL);
  float x[16], y[16];
  static _Alignas(64) unsigned char arena[64];
  for (int i = 0; i < 16; ++i) x[i] = 1.0f + i;
  void* in[] = {x};
  void* out[] = {y};
  kiln_host_api h = {KILN_MODEL_ABI_VERSION, 1, 0, pfor, 0, 0};
  if (d->run(&h, in, out, arena) != 0) return 2;
  for (int i = 0; i < 16; ++i) printf("%.9g\n", y[i]);
  return 0;
}
)";
  const char* source_dir = std::getenv("KILN_SOURCE_DIR");
  std::string file = __FILE__;
  std::string include = (source_dir ? std::string(source_dir) : file.substr(0, file.rfind("/tests/"))) + "/include";
  ASSERT_EQ(std::system(("aarch64-linux-gnu-gcc -O1 -I" + include + " " + src + " -o " + exe + " -ldl").c_str()), 0);
  FILE* p = popen(("qemu-aarch64 -L /usr/aarch64-linux-gnu " + exe + " " + so).c_str(), "r");
  ASSERT_NE(p, nullptr);
  for (int k = 0; k < kN; ++k) {
    float v = 0.0f;
    ASSERT_EQ(fscanf(p, "%f", &v), 1) << "output line " << k;
    float x = 1.0f + k;
    // The back end may fuse x*w + b into one FMA (contraction is allowed).
    float fused = std::fma(x, 0.5f * k, 100.0f + k), unfused = x * (0.5f * k) + (100.0f + k);
    EXPECT_TRUE(v == fused || v == unfused) << k << ": " << v;
  }
  EXPECT_EQ(pclose(p), 0);
}

TEST(EmitObject, PlanErrorsNameTheKernel) {
  ModelPlan plan = make_plan();
  plan.calls.push_back({"missing", {}});
  auto obj = emit_object(plan, host_x86());
  ASSERT_FALSE(obj.has_value());
  EXPECT_EQ(obj.status().message(), "the plan calls kernel 'missing', which is not in plan.funcs");

  plan = make_plan();
  plan.calls[0].args.pop_back();
  obj = emit_object(plan, host_x86());
  ASSERT_FALSE(obj.has_value());
  EXPECT_EQ(obj.status().message(), "kernel call mul: 2 arguments for 3 parameters");

  plan = make_plan();
  plan.calls[1].args[1].value = 4096;
  obj = emit_object(plan, host_x86());
  ASSERT_FALSE(obj.has_value());
  EXPECT_EQ(obj.status().message(), "kernel call add: weights offset 4096 outside the weights (128 bytes)");
}

TEST(EmitObject, BadTripleAndOutputDirAreUserErrors) {
  Target t = host_x86();
  t.triple = "nonsense-unknown-none";
  auto obj = emit_object(make_plan(), t);
  ASSERT_FALSE(obj.has_value());
  EXPECT_EQ(obj.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(obj.status().message().find("nonsense-unknown-none"), std::string::npos);

  auto good = emit_object(make_plan(), host_x86());
  ASSERT_TRUE(good.has_value());
  Status s = link_shared_object(*good, host_x86(), "/nonexistent-dir/model.so");
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(s.message(), "cannot write /nonexistent-dir/model.so: directory /nonexistent-dir does not exist");
}

}  // namespace
}  // namespace kiln::codegen
