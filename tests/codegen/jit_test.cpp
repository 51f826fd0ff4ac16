// JIT-run kernels: loops of every kind, vector code, accumulators, bools, casts.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "kernel/ir.h"

namespace kiln::codegen {
namespace {

using namespace kiln::kir;  // NOLINT: tests build IR by hand

using testing::make_jit;
using testing::run;

std::vector<float> iota_f(int n, float start, float step) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = start + step * i;
  return v;
}

TEST(Jit, ElementwiseAddScalarAndVectorizedWithTail) {
  const int n = 37;
  Buffer a = make_buffer("a", DType::kF32), b = make_buffer("b", DType::kF32), c = make_buffer("c", DType::kF32);
  Expr i = var("i"), io = var("io"), ii = var("ii");
  Func scalar{"add_scalar", {a, b, c}, for_loop(i, 0, n, ForKind::kSerial, store(c, i, load(a, i) + load(b, i)))};
  Expr idx = io * 8 + ii;
  Func vec{"add_vec",
           {a, b, c},
           block({for_loop(io, 0, n / 8, ForKind::kSerial,
                           for_loop(ii, 0, 8, ForKind::kVectorized, store(c, idx, load(a, idx) + load(b, idx)))),
                  for_loop(i, n / 8 * 8, n % 8, ForKind::kSerial, store(c, i, load(a, i) + load(b, i)))})};
  auto jit = make_jit();
  std::vector<float> x = iota_f(n, 1.0f, 0.5f), y = iota_f(n, -3.0f, 2.0f);
  for (const Func* f : {&scalar, &vec}) {
    std::vector<float> out(n, -1.0f);
    run(*jit, *f, {x.data(), y.data(), out.data()});
    for (int k = 0; k < n; ++k) ASSERT_EQ(out[k], x[k] + y[k]) << f->name << " at " << k;
  }
}

TEST(Jit, ParallelLoopCapturesOuterValues) {
  const int rows = 3, n = 20;
  Buffer in = make_buffer("in", DType::kF32), out = make_buffer("out", DType::kF32);
  Expr r = var("r"), i = var("i"), t = var("t", f32());
  Func f{"par", {in, out},
         for_loop(r, 0, rows, ForKind::kSerial,
                  let_stmt(t, cast(f32(), r) + float_imm(1.0),
                           for_loop(i, 0, n, ForKind::kParallel, store(out, r * n + i, load(in, i) * t))))};
  auto jit = make_jit();
  std::vector<float> x = iota_f(n, 0.0f, 1.0f), y(rows * n, 0.0f);
  run(*jit, f, {x.data(), y.data()});
  for (int rr = 0; rr < rows; ++rr)
    for (int k = 0; k < n; ++k) ASSERT_EQ(y[rr * n + k], x[k] * (rr + 1)) << rr << "," << k;
}

TEST(Jit, VectorizedMatmulWithAllocateAccumulator) {
  const int M = 3, K = 5, N = 16;
  Buffer A = make_buffer("A", DType::kF32), B = make_buffer("B", DType::kF32), C = make_buffer("C", DType::kF32);
  Buffer acc = make_buffer("acc", DType::kF32);
  Expr i = var("i"), jo = var("jo"), ji = var("ji"), k = var("k");
  Expr j = jo * 8 + ji;
  Func f{"matmul", {A, B, C},
         for_loop(i, 0, M, ForKind::kParallel,
                  for_loop(jo, 0, N / 8, ForKind::kSerial,
                           for_loop(ji, 0, 8, ForKind::kVectorized,
                                    allocate(acc, 1,
                                             block({store(acc, 0, float_imm(0.0)),
                                                    for_loop(k, 0, K, ForKind::kUnrolled,
                                                             store(acc, 0, load(acc, 0) + load(A, i * K + k) *
                                                                                              load(B, k * N + j))),
                                                    store(C, i * N + j, load(acc, 0))})))))};
  std::vector<float> a = iota_f(M * K, -1.0f, 0.25f), b = iota_f(K * N, 2.0f, -0.125f), c(M * N, 0.0f);
  auto jit = make_jit();
  run(*jit, f, {a.data(), b.data(), c.data()});
  for (int ii = 0; ii < M; ++ii)
    for (int jj = 0; jj < N; ++jj) {
      float want = 0.0f;
      for (int kk = 0; kk < K; ++kk) want += a[ii * K + kk] * b[kk * N + jj];
      ASSERT_NEAR(c[ii * N + jj], want, 1e-5f) << ii << "," << jj;
    }
}

TEST(Jit, GatherScatterAndLaneVaryingIf) {
  const int n = 8;
  Buffer in = make_buffer("in", DType::kF32), out = make_buffer("out", DType::kF32), o2 = make_buffer("o2", DType::kF32);
  Expr j = var("j");
  Func f{"strided", {in, out, o2},
         for_loop(j, 0, n, ForKind::kVectorized,
                  block({store(out, j * 2, load(in, j * 3 + 1)),
                         if_then_else(j % 2 == 0, store(o2, j, load(in, j)), store(o2, j, float_imm(-1.0)))}))};
  std::vector<float> x = iota_f(3 * n + 1, 0.0f, 1.0f), y(2 * n, 0.0f), z(n, 0.0f);
  auto jit = make_jit();
  run(*jit, f, {x.data(), y.data(), z.data()});
  for (int k = 0; k < n; ++k) {
    EXPECT_EQ(y[2 * k], x[3 * k + 1]);
    EXPECT_EQ(y[2 * k + 1], 0.0f);
    EXPECT_EQ(z[k], k % 2 == 0 ? x[k] : -1.0f);
  }
}

TEST(Jit, BoolLoadsAndStores) {
  const int n = 13;
  Buffer a = make_buffer("a", DType::kF32), b = make_buffer("b", DType::kF32), m = make_buffer("m", DType::kBool);
  Buffer sel = make_buffer("sel", DType::kF32), nm = make_buffer("nm", DType::kBool);
  Expr i = var("i"), jo = var("jo"), ji = var("ji");
  auto body = [&](Expr x) {
    return block({store(m, x, load(a, x) > load(b, x)),
                  store(sel, x, select(load(m, x), load(a, x), load(b, x))),
                  store(nm, x, call(Intrinsic::kNot, {load(m, x)}))});
  };
  Func scalar{"bools", {a, b, m, sel, nm}, for_loop(i, 0, n, ForKind::kSerial, body(i))};
  Func vec{"bools_vec", {a, b, m, sel, nm},
           for_loop(jo, 0, 1, ForKind::kSerial, for_loop(ji, 0, 8, ForKind::kVectorized, body(jo * 8 + ji)))};
  std::vector<float> x = iota_f(n, -3.0f, 0.5f), y = iota_f(n, 1.0f, -0.25f);
  auto jit = make_jit();
  for (const Func* f : {&scalar, &vec}) {
    int count = f == &scalar ? n : 8;
    std::vector<uint8_t> mask(n, 7), notmask(n, 7);
    std::vector<float> s(n, 0.0f);
    run(*jit, *f, {x.data(), y.data(), mask.data(), s.data(), notmask.data()});
    for (int k = 0; k < count; ++k) {
      ASSERT_EQ(mask[k], x[k] > y[k] ? 1 : 0) << f->name << " " << k;  // bytes are exactly 0/1
      ASSERT_EQ(notmask[k], x[k] > y[k] ? 0 : 1) << f->name << " " << k;
      ASSERT_EQ(s[k], std::max(x[k], y[k])) << f->name << " " << k;
    }
  }
}

TEST(Jit, CastsBetweenFloatsIntsAndBools) {
  const int n = 8;
  Buffer f_in = make_buffer("f_in", DType::kF32), i_out = make_buffer("i_out", DType::kI32);
  Buffer u_out = make_buffer("u_out", DType::kU8), l_in = make_buffer("l_in", DType::kI64);
  Buffer f_out = make_buffer("f_out", DType::kF32), b_out = make_buffer("b_out", DType::kF32);
  Expr i = var("i");
  Stmt body = block({store(i_out, i, cast(i32(), load(f_in, i))),
                     store(u_out, i, cast(Type{DType::kU8, 1}, load(f_in, i))),
                     store(f_out, i, cast(f32(), load(l_in, i)) + cast(f32(), cast(i32(), load(f_in, i)))),
                     store(b_out, i, cast(f32(), cast(boolean(), load(f_in, i))))});
  std::vector<float> x{-2.7f, -0.5f, 0.0f, 0.9f, 1.5f, 2.5f, 200.75f, -7.99f};
  std::vector<int64_t> l{-3, 0, 1, 1LL << 40, 5, -100, 7, 9};
  for (ForKind kind : {ForKind::kSerial, ForKind::kVectorized}) {
    Func f{kind == ForKind::kSerial ? "casts" : "casts_vec", {f_in, i_out, u_out, l_in, f_out, b_out},
           for_loop(i, 0, n, kind, body)};
    std::vector<int32_t> iv(n);
    std::vector<uint8_t> uv(n);
    std::vector<float> fv(n), bv(n);
    auto jit = make_jit();
    run(*jit, f, {x.data(), iv.data(), uv.data(), l.data(), fv.data(), bv.data()});
    for (int k = 0; k < n; ++k) {
      EXPECT_EQ(iv[k], static_cast<int32_t>(x[k])) << k;
      if (x[k] >= 0) EXPECT_EQ(uv[k], static_cast<uint8_t>(x[k])) << k;
      EXPECT_EQ(fv[k], static_cast<float>(l[k]) + static_cast<float>(static_cast<int32_t>(x[k]))) << k;
      EXPECT_EQ(bv[k], x[k] != 0.0f ? 1.0f : 0.0f) << k;
    }
  }
}

TEST(Jit, DoubleToHalfRoundsOnceWithoutLibcalls) {
  // 1 + 2^-11 + 2^-40 lies just above the halfway point between the halves 1.0
  // and 1 + 2^-10: correct rounding gives 0x3C01, rounding via f32 gives 0x3C00.
  std::vector<double> in = {1.0, 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40), 65504.0, 1e6, -2.5,
                            std::nan(""), 0.0, std::ldexp(1.0, -24)};
  std::vector<uint16_t> want = {0x3C00, 0x3C01, 0x7BFF, 0x7C00, 0xC100, 0, 0x0000, 0x0001};
  for (int lanes : {1, 8}) {
    Buffer a = make_buffer("a", DType::kF64), h = make_buffer("h", DType::kF16);
    Expr i = var("i");
    Stmt body = lanes == 1 ? for_loop(i, 0, 8, ForKind::kSerial, store(h, i, cast(Type{DType::kF16, 1}, load(a, i))))
                           : for_loop(i, 0, 8, ForKind::kVectorized,
                                      store(h, i, cast(Type{DType::kF16, 1}, load(a, i))));
    Func f{"f64_to_f16_" + std::to_string(lanes), {a, h}, body};
    std::vector<uint16_t> out(8, 0xFFFF);
    auto jit = make_jit();
    run(*jit, f, {in.data(), out.data()});
    for (size_t k = 0; k < in.size(); ++k) {
      if (std::isnan(in[k])) {
        EXPECT_EQ(out[k] & 0x7C00, 0x7C00) << "lanes " << lanes;
        EXPECT_NE(out[k] & 0x03FF, 0) << "lanes " << lanes;
      } else {
        EXPECT_EQ(out[k], want[k]) << "value " << in[k] << " lanes " << lanes;
      }
    }
  }
}

TEST(Jit, IntegerArithmeticAndMallocAllocate) {
  const int n = 9;
  Buffer a = make_buffer("a", DType::kI32), out = make_buffer("out", DType::kI32), tmp = make_buffer("tmp", DType::kI32);
  Expr i = var("i"), k = var("k");
  Expr x = load(a, i);
  // tmp has a run-time size (malloc): prefix sums of |a[0..i]|.
  Stmt body = allocate(tmp, i + 1,
                       block({for_loop(k, 0, i + 1, ForKind::kSerial,
                                       store(tmp, k, call(Intrinsic::kAbs, {load(a, k)}))),
                              store(out, i * 4 + 0, x / int_imm(3, i32()) + x % int_imm(3, i32())),
                              store(out, i * 4 + 1, min(x, int_imm(2, i32())) * max(x, int_imm(-1, i32()))),
                              store(out, i * 4 + 2, load(tmp, i) + load(tmp, 0)),
                              if_then_else(x < 0, store(out, i * 4 + 3, int_imm(-1, i32())),
                                           store(out, i * 4 + 3, int_imm(1, i32())))}));
  Func f{"ints", {a, out}, for_loop(i, 0, n, ForKind::kSerial, body)};
  std::vector<int32_t> av{-7, -4, -3, -1, 0, 1, 3, 5, 8}, ov(4 * n, 0);
  auto jit = make_jit();
  run(*jit, f, {av.data(), ov.data()});
  for (int q = 0; q < n; ++q) {
    int v = av[q];
    EXPECT_EQ(ov[q * 4 + 0], v / 3 + v % 3) << v;
    EXPECT_EQ(ov[q * 4 + 1], std::min(v, 2) * std::max(v, -1)) << v;
    EXPECT_EQ(ov[q * 4 + 2], std::abs(v) + std::abs(av[0])) << v;
    EXPECT_EQ(ov[q * 4 + 3], v < 0 ? -1 : 1) << v;
  }
}

TEST(Jit, FloatMinMaxPropagateNaN) {
  Buffer a = make_buffer("a", DType::kF32), b = make_buffer("b", DType::kF32), o = make_buffer("o", DType::kF32);
  Expr i = var("i");
  Func f{"minmax", {a, b, o},
         for_loop(i, 0, 4, ForKind::kVectorized,
                  block({store(o, i * 2, min(load(a, i), load(b, i))), store(o, i * 2 + 1, max(load(a, i), load(b, i)))}))};
  std::vector<float> x{1.0f, NAN, 3.0f, -0.0f}, y{2.0f, 1.0f, NAN, 5.0f}, z(8);
  auto jit = make_jit();
  run(*jit, f, {x.data(), y.data(), z.data()});
  EXPECT_EQ(z[0], 1.0f);
  EXPECT_EQ(z[1], 2.0f);
  EXPECT_TRUE(std::isnan(z[2]) && std::isnan(z[3]) && std::isnan(z[4]) && std::isnan(z[5]));
  EXPECT_EQ(z[6], -0.0f);
  EXPECT_EQ(z[7], 5.0f);
}

TEST(Jit, ErrorsNameTheKernel) {
  auto jit = make_jit();
  Buffer a = make_buffer("a", DType::kF32);
  Func f{"k1", {a}, store(a, 0, float_imm(1.0))};
  ASSERT_TRUE(jit->add(f).is_ok());
  EXPECT_EQ(jit->add(f).message(), "JIT: a kernel named 'k1' was already added");
  EXPECT_EQ(jit->run("nope", {}).message(), "JIT: no kernel named 'nope'; add() it first");
  EXPECT_EQ(jit->run("k1", {}).message(), "JIT: kernel 'k1' takes 1 buffers, got 0");
}

}  // namespace
}  // namespace kiln::codegen
