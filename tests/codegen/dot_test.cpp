// kir dot (the int8 kernels' multiply-accumulate) against an exact int64
// reference, bit for bit, on every x86 code path the host can run: baseline
// SSE2, AVX2 (znver3, x86-64-v3: widening / vpmaddwd), AVX-VNNI at 256 bits
// (alderlake) and AVX-512 VNNI (sapphirerapids), for every pairing of signs,
// vector and broadcast operands and the 255 x -128 pattern that saturates a
// 16-bit pair sum (vpmaddubsw). The AArch64 paths (sdot/udot, widening) run
// under qemu in tests/e2e/test_quantized.py.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "kernel/passes/vectorize.h"
#include "targets/target.h"

namespace kiln::codegen {
namespace {

using kir::Expr;

struct DotCase {
  DType a, b;     // operand element types (kI16 for pairs)
  int a_form;     // a is 0: G*L elements, 1: one packed 32-bit group for every lane, 2: L packed groups
  int lanes;
};

int group_of(const DotCase& c) { return c.a == DType::kI16 ? 2 : 4; }

int64_t element(DType t, uint8_t lo, uint8_t hi) {
  if (t == DType::kU8) return lo;
  if (t == DType::kI8) return static_cast<int8_t>(lo);
  return static_cast<int16_t>(lo | (hi << 8));
}

// Compiles acc + dot(a, b) for one case on `jit` and runs it with operand bytes
// from each seed (seed < 0: every element at its type's extreme (255, -128, -32768):
// the pattern that saturates a 16-bit pair sum).
void check_case(Jit& jit, const std::string& cpu, const DotCase& c, const std::vector<int>& seeds) {
  int g = group_of(c), n = g * c.lanes;
  size_t es = c.a == DType::kI16 ? 2 : 1;
  kir::Buffer ba = kir::make_buffer("a", c.a_form ? (c.a == DType::kU8 ? DType::kU32 : DType::kI32) : c.a);
  kir::Buffer bb = kir::make_buffer("b", c.b), bacc = kir::make_buffer("acc", DType::kI32);
  kir::Buffer bout = kir::make_buffer("out", DType::kI32);
  auto vec = [](const kir::Buffer& buf, int lanes) {
    return lanes == 1 ? kir::load(buf, Expr(int64_t{0})) : kir::load(buf, kir::ramp(Expr(int64_t{0}), Expr(int64_t{1}), lanes));
  };
  Expr av = c.a_form == 1 ? kir::load(ba, Expr(int64_t{0})) : vec(ba, c.a_form == 2 ? c.lanes : n);
  Expr d = kir::call(kir::Intrinsic::kDot, {vec(bacc, c.lanes), av, vec(bb, n), Expr(int64_t{g})});
  kir::Func f;
  static int counter = 0;
  f.name = "dot_" + std::to_string(counter++);
  f.params = {ba, bb, bacc, bout};
  f.body = c.lanes == 1 ? kir::store(bout, Expr(int64_t{0}), d)
                        : kir::store(bout, kir::ramp(Expr(int64_t{0}), Expr(int64_t{1}), c.lanes), d);
  ASSERT_TRUE(jit.add(f).is_ok());
  for (int seed : seeds) {
    std::mt19937 gen(static_cast<uint32_t>(seed + 7));
    std::vector<uint8_t> a(n * es + 64), b(n * es + 64);
    for (auto& v : a) v = static_cast<uint8_t>(gen());
    for (auto& v : b) v = static_cast<uint8_t>(gen());
    if (seed < 0) {
      for (int i = 0; i < n; ++i) {
        if (es == 1) a[i] = c.a == DType::kU8 ? 255 : 0x80, b[i] = c.b == DType::kU8 ? 255 : 0x80;
        else a[2 * i] = 0, a[2 * i + 1] = 0x80, b[2 * i] = 0, b[2 * i + 1] = 0x80;
      }
    }
    std::vector<int32_t> acc(c.lanes), out(c.lanes, 0);
    for (int i = 0; i < c.lanes; ++i) acc[i] = static_cast<int32_t>(gen()) >> 4;
    std::vector<void*> args = {a.data(), b.data(), acc.data(), out.data()};
    ASSERT_TRUE(jit.run(f.name, args).is_ok());
    for (int i = 0; i < c.lanes; ++i) {
      int64_t want = acc[i];
      for (int j = 0; j < g; ++j) {
        int k = c.a_form == 1 ? j : g * i + j;
        int64_t x = element(c.a, a[k * es], es == 2 ? a[k * es + 1] : 0);
        int64_t y = element(c.b, b[(g * i + j) * es], es == 2 ? b[(g * i + j) * es + 1] : 0);
        want += x * y;
      }
      ASSERT_EQ(out[i], static_cast<int32_t>(want))
          << cpu << " " << dtype_name(c.a) << " x " << dtype_name(c.b) << " form " << c.a_form
          << " lanes " << c.lanes << " seed " << seed << " lane " << i;
    }
  }
}

TEST(Dot, ExactOnEveryX86Path) {
  for (const std::string& cpu : testing::runnable_x86_cpus({"x86-64", "x86-64-v3", "znver3"})) {
    Expected<Target> t = parse_target("llvm -mcpu=" + cpu);
    ASSERT_TRUE(t) << t.status().message();
    auto jit = Jit::create(*t);
    ASSERT_TRUE(jit) << jit.status().message();
    std::vector<DotCase> cases;
    for (int lanes : {1, 4, 8, 16, 32})
      for (int form : {0, 1, 2}) {
        for (DType a : {DType::kU8, DType::kI8})
          for (DType b : {DType::kU8, DType::kI8}) cases.push_back({a, b, form, lanes});
        cases.push_back({DType::kI16, DType::kI16, form, lanes});
      }
    for (const DotCase& c : cases)
      check_case(**jit, cpu, c, {-1, 1, 2});
  }
}

}  // namespace
}  // namespace kiln::codegen
