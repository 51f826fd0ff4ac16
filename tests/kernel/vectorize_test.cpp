// Vectorize pass: before/after on built IR.
#include "kernel/passes/vectorize.h"

#include <gtest/gtest.h>

namespace kiln::kir {
namespace {

TEST(Vectorize, ContiguousLoopBecomesRampLoads) {
  Buffer a = make_buffer("a", DType::kF32), b = make_buffer("b", DType::kF32), c = make_buffer("c", DType::kF32);
  Expr io = var("io"), ii = var("ii");
  Expr i = io * 8 + ii;
  Stmt s = for_loop(io, 0, 4, ForKind::kSerial,
                    for_loop(ii, 0, 8, ForKind::kVectorized, store(c, i, load(a, i) + load(b, i))));
  EXPECT_EQ(to_string(vectorize_loops(s)),
            "for (io, 0, 4) serial {\n"
            "  c[ramp((io * 8), 1, 8)] = (a[ramp((io * 8), 1, 8)] + b[ramp((io * 8), 1, 8)])\n"
            "}\n");
}

TEST(Vectorize, InvariantLoadIsBroadcastAndStridedIsGather) {
  Buffer a = make_buffer("a", DType::kF32), w = make_buffer("w", DType::kF32), o = make_buffer("o", DType::kF32);
  Expr j = var("j");
  Stmt s = for_loop(j, 0, 4, ForKind::kVectorized, store(o, j, load(a, j * 3 + 1) * load(w, Expr(2))));
  EXPECT_EQ(to_string(vectorize_loops(s)), "o[ramp(0, 1, 4)] = (a[ramp(1, 3, 4)] * broadcast(w[2], 4))\n");
}

TEST(Vectorize, InnerAllocateBecomesVectorAccumulator) {
  Buffer A = make_buffer("A", DType::kF32), B = make_buffer("B", DType::kF32), C = make_buffer("C", DType::kF32);
  Buffer acc = make_buffer("acc", DType::kF32);
  Expr j = var("j"), k = var("k");
  Stmt s = for_loop(
      j, 0, 8, ForKind::kVectorized,
      allocate(acc, 1,
               block({store(acc, 0, float_imm(0.0)),
                      for_loop(k, 0, 3, ForKind::kSerial,
                               store(acc, 0, load(acc, 0) + load(A, k) * load(B, k * 8 + j))),
                      store(C, j, load(acc, 0))})));
  EXPECT_EQ(to_string(vectorize_loops(s)),
            "allocate acc.v: f32[8] {\n"
            "  acc.v[ramp(0, 1, 8)] = broadcast(0.0, 8)\n"
            "  for (k, 0, 3) serial {\n"
            "    acc.v[ramp(0, 1, 8)] = (acc.v[ramp(0, 1, 8)] + (broadcast(A[k], 8) * B[ramp((k * 8), 1, 8)]))\n"
            "  }\n"
            "  C[ramp(0, 1, 8)] = acc.v[ramp(0, 1, 8)]\n"
            "}\n");
}

TEST(Vectorize, LaneVaryingIfBecomesSelect) {
  Buffer a = make_buffer("a", DType::kF32), o = make_buffer("o", DType::kF32);
  Expr j = var("j");
  Stmt s = for_loop(j, 0, 4, ForKind::kVectorized,
                    if_then_else(j < 3, store(o, j, load(a, j)), store(o, j, float_imm(0.0))));
  EXPECT_EQ(to_string(vectorize_loops(s)),
            "o[ramp(0, 1, 4)] = select((ramp(0, 1, 4) < broadcast(3, 4)), a[ramp(0, 1, 4)], o[ramp(0, 1, 4)])\n"
            "o[ramp(0, 1, 4)] = select(not((ramp(0, 1, 4) < broadcast(3, 4))), broadcast(0.0, 4), "
            "o[ramp(0, 1, 4)])\n");
}

TEST(Vectorize, LetOfLaneVaryingValueGetsVectorVar) {
  Buffer a = make_buffer("a", DType::kF32), o = make_buffer("o", DType::kF32);
  Expr j = var("j"), t = var("t", f32());
  Stmt s = for_loop(j, 2, 4, ForKind::kVectorized, let_stmt(t, load(a, j), store(o, j - 2, t * t)));
  EXPECT_EQ(to_string(vectorize_loops(s)),
            "let t = a[ramp(2, 1, 4)]\n"
            "o[ramp(0, 1, 4)] = (t * t)\n");
}

TEST(VectorizeDeath, ReductionIntoOneLocationFails) {
  Buffer a = make_buffer("a", DType::kF32), o = make_buffer("o", DType::kF32);
  Expr j = var("j");
  Stmt s = for_loop(j, 0, 4, ForKind::kVectorized, store(o, 0, load(o, 0) + load(a, j)));
  EXPECT_DEATH(vectorize_loops(s), "writes a lane-varying value to one location");
}

TEST(VectorizeDeath, LoopInsideLaneVaryingIfFails) {
  Buffer o = make_buffer("o", DType::kF32);
  Expr j = var("j"), k = var("k");
  Stmt s = for_loop(j, 0, 4, ForKind::kVectorized,
                    if_then_else(j < 2, for_loop(k, 0, 2, ForKind::kSerial, store(o, j + k, float_imm(1.0)))));
  EXPECT_DEATH(vectorize_loops(s), "cannot be predicated");
}

}  // namespace
}  // namespace kiln::kir
