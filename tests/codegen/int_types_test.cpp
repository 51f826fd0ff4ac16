// JIT-run kernels on int16, uint16, uint32, uint64 and the 4-/2-bit integers:
// unsigned division, comparisons, min/max and shifts; casts at the edges of
// each range (wrapping, float -> uint64 above 2^63, uint64 -> float), scalar
// and vectorized, and the kernel IR's constant folding of the same.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "kernel/ir.h"

namespace kiln::codegen {
namespace {

using namespace kiln::kir;  // NOLINT: tests build IR by hand

using testing::make_jit;
using testing::run;

Type ty(DType t) { return Type{t, 1}; }

// Runs out[i] = op(a[i], b[i]) for n elements of type T, serial and vectorized.
template <typename T, typename Out = T>
std::vector<std::vector<Out>> run_binary(DType t, DType out_t, const std::vector<T>& a, const std::vector<T>& b,
                                         const std::function<Expr(Expr, Expr)>& op, const std::string& name) {
  std::vector<std::vector<Out>> results;
  int n = static_cast<int>(a.size());
  for (ForKind kind : {ForKind::kSerial, ForKind::kVectorized}) {
    Buffer ba = make_buffer("a", t), bb = make_buffer("b", t), bo = make_buffer("o", out_t);
    Expr i = var("i");
    Func f{name + (kind == ForKind::kSerial ? "_s" : "_v"), {ba, bb, bo},
           for_loop(i, 0, n, kind, store(bo, i, op(load(ba, i), load(bb, i))))};
    std::vector<Out> out(n);
    auto jit = make_jit();
    run(*jit, f, {const_cast<T*>(a.data()), const_cast<T*>(b.data()), out.data()});
    results.push_back(out);
  }
  return results;
}

TEST(IntTypes, UnsignedDivModMinMaxCompareAtTheTop) {
  const uint64_t big = 0xFFFFFFFFFFFFFFF0ull;
  std::vector<uint64_t> a{big, 7, 1ull << 63, 0, big, 5, 9, 1ull << 63};
  std::vector<uint64_t> b{3, big, 2, 1, 1ull << 63, 5, 4, (1ull << 63) + 1};
  for (auto& r : run_binary<uint64_t>(DType::kU64, DType::kU64, a, b, [](Expr x, Expr y) { return x / y; }, "u64div"))
    for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(r[k], a[k] / b[k]) << k;
  for (auto& r : run_binary<uint64_t>(DType::kU64, DType::kU64, a, b, [](Expr x, Expr y) { return x % y; }, "u64mod"))
    for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(r[k], a[k] % b[k]) << k;
  for (auto& r : run_binary<uint64_t>(DType::kU64, DType::kU64, a, b, [](Expr x, Expr y) { return max(x, y); }, "u64max"))
    for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(r[k], std::max(a[k], b[k])) << k;
  for (auto& r : run_binary<uint64_t, uint8_t>(DType::kU64, DType::kBool, a, b,
                                                [](Expr x, Expr y) { return x < y; }, "u64lt"))
    for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(r[k], a[k] < b[k] ? 1 : 0) << k;

  std::vector<uint32_t> c{0xFFFFFFFFu, 3, 0x80000000u, 10};
  std::vector<uint32_t> d{2, 0xFFFFFFFFu, 0x7FFFFFFFu, 3};
  for (auto& r : run_binary<uint32_t>(DType::kU32, DType::kU32, c, d, [](Expr x, Expr y) { return min(x, y); }, "u32min"))
    for (size_t k = 0; k < c.size(); ++k) EXPECT_EQ(r[k], std::min(c[k], d[k])) << k;
  for (auto& r : run_binary<uint32_t>(DType::kU32, DType::kU32, c, d, [](Expr x, Expr y) { return x / y; }, "u32div"))
    for (size_t k = 0; k < c.size(); ++k) EXPECT_EQ(r[k], c[k] / d[k]) << k;

  std::vector<int16_t> e{-32767, 32767, -7, 7};
  std::vector<int16_t> f{-2, 1, 2, -2};
  for (auto& r : run_binary<int16_t>(DType::kI16, DType::kI16, e, f, [](Expr x, Expr y) { return x + y; }, "i16add"))
    for (size_t k = 0; k < e.size(); ++k) EXPECT_EQ(r[k], static_cast<int16_t>(e[k] + f[k])) << k;  // wraps
  for (auto& r : run_binary<int16_t>(DType::kI16, DType::kI16, e, f, [](Expr x, Expr y) { return x % y; }, "i16mod"))
    for (size_t k = 0; k < e.size(); ++k) EXPECT_EQ(r[k], static_cast<int16_t>(e[k] % f[k])) << k;  // truncating

  std::vector<uint16_t> g{0xFFFF, 0x8000, 1, 300};
  std::vector<uint16_t> h{1, 15, 16, 4};
  for (auto& r : run_binary<uint16_t>(DType::kU16, DType::kU16, g, h,
                                       [](Expr x, Expr y) { return binary(BinOp::kShr, x, y); }, "u16shr"))
    for (size_t k = 0; k < g.size(); ++k) EXPECT_EQ(r[k], h[k] >= 16 ? 0 : g[k] >> h[k]) << k;  // logical
  for (auto& r : run_binary<uint16_t>(DType::kU16, DType::kU16, g, h,
                                       [](Expr x, Expr y) { return binary(BinOp::kShl, x, y); }, "u16shl"))
    for (size_t k = 0; k < g.size(); ++k) EXPECT_EQ(r[k], h[k] >= 16 ? 0 : static_cast<uint16_t>(g[k] << h[k])) << k;
}

TEST(IntTypes, CastsAtTheEdges) {
  // float32 -> uint64 / uint32 / int16 / uint16, and uint64 -> float32/float64.
  std::vector<float> x{0.0f, 1.9f, 2147483648.0f, 4294967040.0f, 9.2233720e18f, 1.8446743e19f, 65535.5f, 40000.0f};
  const int n = static_cast<int>(x.size());
  for (ForKind kind : {ForKind::kSerial, ForKind::kVectorized}) {
    Buffer in = make_buffer("in", DType::kF32), o64 = make_buffer("o64", DType::kU64);
    Buffer o32 = make_buffer("o32", DType::kU32), o16 = make_buffer("o16", DType::kU16);
    Buffer s16 = make_buffer("s16", DType::kI16), back = make_buffer("back", DType::kF32);
    Buffer back64 = make_buffer("back64", DType::kF64);
    Expr i = var("i");
    Expr u = cast(ty(DType::kU64), load(in, i));
    Func f{kind == ForKind::kSerial ? "casts_s" : "casts_v", {in, o64, o32, o16, s16, back, back64},
           for_loop(i, 0, n, kind,
                    block({store(o64, i, u), store(o32, i, cast(ty(DType::kU32), load(in, i))),
                           store(o16, i, cast(ty(DType::kU16), load(in, i))),
                           store(s16, i, cast(ty(DType::kI16), load(in, i))),
                           store(back, i, cast(f32(), load(o64, i))),
                           store(back64, i, cast(Type{DType::kF64, 1}, load(o64, i)))}))};
    std::vector<uint64_t> r64(n);
    std::vector<uint32_t> r32(n);
    std::vector<uint16_t> r16(n);
    std::vector<int16_t> q16(n);
    std::vector<float> rb(n);
    std::vector<double> rb64(n);
    auto jit = make_jit();
    run(*jit, f, {x.data(), r64.data(), r32.data(), r16.data(), q16.data(), rb.data(), rb64.data()});
    for (int k = 0; k < n; ++k) {
      SCOPED_TRACE(x[k]);
      EXPECT_EQ(r64[k], static_cast<uint64_t>(x[k]));
      EXPECT_EQ(rb[k], std::trunc(x[k]));
      EXPECT_EQ(rb64[k], static_cast<double>(static_cast<uint64_t>(x[k])));
      if (x[k] < 4294967296.0f) EXPECT_EQ(r32[k], static_cast<uint32_t>(x[k]));
      // Narrow targets wrap the truncated value (through int32), as numpy on x86.
      if (x[k] < 2147483648.0f) {
        EXPECT_EQ(r16[k], static_cast<uint16_t>(static_cast<int32_t>(x[k])));
        EXPECT_EQ(q16[k], static_cast<int16_t>(static_cast<int32_t>(x[k])));
      }
    }
  }
}

TEST(IntTypes, IntegerCastsSignAndZeroExtend) {
  std::vector<int16_t> a{-1, -32768, 32767, 5};
  const int n = 4;
  Buffer in = make_buffer("in", DType::kI16), u32 = make_buffer("u32", DType::kU32);
  Buffer i64b = make_buffer("i64", DType::kI64), u16 = make_buffer("u16", DType::kU16);
  Buffer from_u16 = make_buffer("from_u16", DType::kI64), f = make_buffer("f", DType::kF32);
  Expr i = var("i");
  Func fn{"int_casts", {in, u32, i64b, u16, from_u16, f},
          for_loop(i, 0, n, ForKind::kVectorized,
                   block({store(u32, i, cast(ty(DType::kU32), load(in, i))),
                          store(i64b, i, cast(i64(), load(in, i))),
                          store(u16, i, cast(ty(DType::kU16), load(in, i))),
                          store(from_u16, i, cast(i64(), load(u16, i))),
                          store(f, i, cast(f32(), load(u16, i)))}))};
  std::vector<uint32_t> r32(n);
  std::vector<int64_t> r64(n), rz(n);
  std::vector<uint16_t> r16(n);
  std::vector<float> rf(n);
  auto jit = make_jit();
  run(*jit, fn, {a.data(), r32.data(), r64.data(), r16.data(), rz.data(), rf.data()});
  for (int k = 0; k < n; ++k) {
    EXPECT_EQ(r32[k], static_cast<uint32_t>(a[k])) << k;
    EXPECT_EQ(r64[k], a[k]) << k;
    EXPECT_EQ(r16[k], static_cast<uint16_t>(a[k])) << k;
    EXPECT_EQ(rz[k], static_cast<uint16_t>(a[k])) << k;
    EXPECT_EQ(rf[k], static_cast<float>(static_cast<uint16_t>(a[k]))) << k;
  }
}

TEST(IntTypes, SubByteIntegersLoadExtendedAndStoreMasked) {
  // One element per byte, value in the low bits; high bits ignored on load.
  std::vector<uint8_t> i4{0x0F, 0x08, 0x07, 0xF1, 0x3A, 0x00, 0x09, 0xFE};
  const int n = 8;
  Buffer in4 = make_buffer("in4", DType::kI4), out8 = make_buffer("out8", DType::kI8);
  Buffer u4 = make_buffer("u4", DType::kU4), i2 = make_buffer("i2", DType::kI2), u4f = make_buffer("u4f", DType::kF32);
  Buffer back = make_buffer("back", DType::kI4);
  Expr i = var("i");
  Func f{"sub_byte", {in4, out8, u4, i2, u4f, back},
         for_loop(i, 0, n, ForKind::kVectorized,
                  block({store(out8, i, cast(Type{DType::kI8, 1}, load(in4, i))),
                         store(u4, i, cast(ty(DType::kU4), load(in4, i))),
                         store(i2, i, cast(ty(DType::kI2), load(in4, i))),
                         store(u4f, i, cast(f32(), load(u4, i))),
                         store(back, i, load(in4, i) + load(in4, i))}))};
  std::vector<int8_t> r8(n);
  std::vector<uint8_t> ru4(n), ri2(n), rback(n);
  std::vector<float> rf(n);
  auto jit = make_jit();
  run(*jit, f, {i4.data(), r8.data(), ru4.data(), ri2.data(), rf.data(), rback.data()});
  for (int k = 0; k < n; ++k) {
    int v = static_cast<int8_t>(i4[k] << 4) >> 4;  // the int4 value
    EXPECT_EQ(r8[k], v) << k;
    EXPECT_EQ(ru4[k], v & 0xF) << k;
    EXPECT_EQ(ri2[k], v & 0x3) << k;                 // int2 wraps, stored in the low 2 bits
    EXPECT_EQ(rf[k], static_cast<float>(v & 0xF)) << k;
    EXPECT_EQ(rback[k], (2 * v) & 0xF) << k;         // int4 arithmetic wraps
  }
}

TEST(IntTypes, ConstantFoldingIsUnsignedWhereTheTypeIs) {
  Type u64t = ty(DType::kU64);
  Expr top = int_imm(-1, u64t);  // 2^64 - 1
  EXPECT_EQ(*as_const_int(top / int_imm(2, u64t)), static_cast<int64_t>(0x7FFFFFFFFFFFFFFFull));
  EXPECT_EQ(*as_const_int(max(top, int_imm(1, u64t))), -1);
  EXPECT_EQ(*as_const_int(top > int_imm(1, u64t)), 1);
  Type u32t = ty(DType::kU32);
  EXPECT_EQ(*as_const_int(int_imm(-1, u32t)), 0xFFFFFFFFll);
  EXPECT_EQ(*as_const_int(int_imm(0xFFFFFFFFll, u32t) % int_imm(10, u32t)), 5);
  EXPECT_EQ(*as_const_int(int_imm(40000, ty(DType::kI16))), 40000 - 65536);
  EXPECT_EQ(*as_const_int(int_imm(9, ty(DType::kI4))), -7);
  EXPECT_EQ(*as_const_int(int_imm(-1, ty(DType::kU2))), 3);
  EXPECT_EQ(*as_const_int(cast(u64t, float_imm(1.8446743e19, f32()))), static_cast<int64_t>(18446742974197923840ull));
  EXPECT_EQ(kir::eval_bitwise(BinOp::kShr, DType::kU16, 0xFFFF, 4), 0x0FFF);
  EXPECT_EQ(kir::eval_bitwise(BinOp::kShr, DType::kI16, -16, 2), -4);
}

}  // namespace
}  // namespace kiln::codegen
