// Kernel IR builders (folding, identities, broadcasting), printer and substitute.
#include <gtest/gtest.h>

#include "kernel/ir.h"
#include "kernel/mutator.h"

namespace kiln::kir {
namespace {

TEST(KernelIr, FoldsIntConstants) {
  Expr e = Expr(3) + Expr(4) * Expr(5);
  ASSERT_NE(as_const_int(e), nullptr);
  EXPECT_EQ(*as_const_int(e), 23);
  EXPECT_EQ(*as_const_int(Expr(-7) / Expr(2)), -3);  // truncates toward zero
  EXPECT_EQ(*as_const_int(Expr(-7) % Expr(2)), -1);
  EXPECT_EQ(*as_const_int(min(Expr(3), Expr(9))), 3);
  // Division by zero is left for run time, not folded.
  EXPECT_EQ(as_const_int(Expr(1) / Expr(0)), nullptr);
  // Narrow types wrap.
  EXPECT_EQ(*as_const_int(int_imm(250, Type{DType::kU8, 1}) + int_imm(10, Type{DType::kU8, 1})), 4);
}

TEST(KernelIr, DivModOfOneValueFlattensBack) {
  // A flat index of (p / w, p % w) is p again (truncating division: for every p),
  // so loops over p address memory contiguously.
  Expr p = var("p"), z = var("z");
  EXPECT_TRUE(((p / Expr(7)) * Expr(7) + p % Expr(7)).same_as(p));
  Expr flat = z + (p / Expr(7)) * Expr(7) + p % Expr(7);
  auto* add = flat.as<Binary>();
  ASSERT_NE(add, nullptr);
  EXPECT_TRUE(add->a.same_as(z) && add->b.same_as(p));
  // Different divisors or values stay as written.
  EXPECT_EQ(((p / Expr(7)) * Expr(7) + p % Expr(5)).kind(), NodeKind::kBinary);
  EXPECT_FALSE(((p / Expr(7)) * Expr(7) + z % Expr(7)).same_as(p));
}

TEST(KernelIr, FoldsFloatConstantsInF32) {
  Expr e = float_imm(0.1) + float_imm(0.2);
  auto* f = e.as<FloatImm>();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->value, static_cast<double>(0.1f + 0.2f));
  Expr c = float_imm(1.0) < float_imm(2.0);
  ASSERT_NE(c.as<IntImm>(), nullptr);
  EXPECT_TRUE(c.type().is_bool());
  EXPECT_EQ(c.as<IntImm>()->value, 1);
}

TEST(KernelIr, IntIdentities) {
  Expr x = var("x");
  EXPECT_TRUE((x + 0).same_as(x));
  EXPECT_TRUE((0 + x).same_as(x));
  EXPECT_TRUE((x - 0).same_as(x));
  EXPECT_TRUE((x * 1).same_as(x));
  EXPECT_TRUE((1 * x).same_as(x));
  EXPECT_EQ(*as_const_int(x * 0), 0);
  EXPECT_TRUE((x / 1).same_as(x));
  // Floats keep x*0 (NaN and inf make it not zero).
  Expr y = var("y", f32());
  EXPECT_EQ((y * float_imm(0.0)).kind(), NodeKind::kBinary);
}

TEST(KernelIr, ConstantsAdoptTheOtherType) {
  Expr y = var("y", f32());
  Expr e = y * 2;  // an i64 immediate next to an f32 becomes 2.0f
  ASSERT_EQ(e.type(), f32());
  EXPECT_EQ(to_string(e), "(y * 2.0)");
}

TEST(KernelIr, BroadcastsScalarsAgainstVectors) {
  Buffer a = make_buffer("a", DType::kF32);
  Expr v = load(a, ramp(Expr(0), Expr(1), 8));
  EXPECT_EQ(v.type(), f32(8));
  Expr e = v + float_imm(1.0);
  EXPECT_EQ(e.type(), f32(8));
  auto* b = e.as<Binary>();
  ASSERT_NE(b, nullptr);
  ASSERT_NE(b->b.as<Broadcast>(), nullptr);
  // Two broadcasts combine as scalars.
  Expr bb = broadcast(var("s", f32()), 4) * broadcast(float_imm(2.0), 4);
  ASSERT_NE(bb.as<Broadcast>(), nullptr);
  EXPECT_EQ(to_string(bb), "broadcast((s * 2.0), 4)");
  // A comparison of vectors is a bool vector.
  EXPECT_EQ((v < e).type(), boolean(8));
}

TEST(KernelIr, SelectAndCastFold) {
  Expr x = var("x", f32());
  EXPECT_TRUE(select(int_imm(1, boolean()), x, float_imm(0.0)).same_as(x));
  Expr c = cast(i32(), float_imm(-2.7));
  ASSERT_NE(c.as<IntImm>(), nullptr);
  EXPECT_EQ(c.as<IntImm>()->value, -2);
  EXPECT_TRUE(cast(f32(), x).same_as(x));
  EXPECT_EQ(cast(i32(), x).type(), i32());
  EXPECT_EQ(ramp(Expr(5), Expr(0), 4).kind(), NodeKind::kBroadcast);
}

TEST(KernelIr, BlockFlattensAndDropsNulls) {
  Buffer a = make_buffer("a", DType::kF32);
  Stmt s1 = store(a, Expr(0), float_imm(1.0));
  Stmt s2 = store(a, Expr(1), float_imm(2.0));
  Stmt b = block({block({s1, Stmt()}), s2});
  ASSERT_NE(b.as<Block>(), nullptr);
  EXPECT_EQ(b.as<Block>()->stmts.size(), 2u);
  EXPECT_TRUE(block({s1}).same_as(s1));
}

TEST(KernelIr, PrintsFunctions) {
  Buffer a = make_buffer("a", DType::kF32);
  Buffer b = make_buffer("b", DType::kF32);
  Buffer acc = make_buffer("acc", DType::kF32);
  Expr i = var("i"), k = var("k");
  Stmt body = for_loop(
      i, 0, 4, ForKind::kParallel,
      allocate(acc, 1,
               block({store(acc, 0, float_imm(0.0)),
                      for_loop(k, 0, 3, ForKind::kSerial,
                               store(acc, 0, load(acc, 0) + call(Intrinsic::kExp, {load(a, i * 3 + k)}))),
                      if_then_else(load(acc, 0) > float_imm(1.5), store(b, i, load(acc, 0)),
                                   store(b, i, max(load(acc, 0), float_imm(-1.0))))})));
  Func f{"kernel", {a, b}, body};
  EXPECT_EQ(to_string(f),
            "func kernel(a: f32*, b: f32*) {\n"
            "  for (i, 0, 4) parallel {\n"
            "    allocate acc: f32[1] {\n"
            "      acc[0] = 0.0\n"
            "      for (k, 0, 3) serial {\n"
            "        acc[0] = (acc[0] + exp(a[((i * 3) + k)]))\n"
            "      }\n"
            "      if ((acc[0] > 1.5)) {\n"
            "        b[i] = acc[0]\n"
            "      } else {\n"
            "        b[i] = max(acc[0], -1.0)\n"
            "      }\n"
            "    }\n"
            "  }\n"
            "}\n");
  EXPECT_EQ(to_string(let_stmt(var("t", i32()), int_imm(7, i32()), Stmt())), "let t = (i32)7\n");
}

TEST(KernelIr, SubstituteReplacesByIdentity) {
  Expr x = var("x"), x2 = var("x");
  Expr e = x * 4 + x2;
  Expr r = substitute(e, x, Expr(2));
  EXPECT_EQ(to_string(r), "(8 + x)");  // folded; the other "x" is a different Var
}

TEST(KernelIr, VisitorCountsLoads) {
  struct Counter : IRVisitor {
    int loads = 0;
    void visit_Load(const Load* op) override {
      ++loads;
      IRVisitor::visit_Load(op);
    }
  } counter;
  Buffer a = make_buffer("a", DType::kI64);
  counter.visit(store(a, load(a, load(a, 0)), load(a, 1) + 1));
  EXPECT_EQ(counter.loads, 3);
}

TEST(KernelIrDeath, MismatchedTypesNameBothSides) {
  Expr x = var("x", f32()), n = var("n", i32());
  EXPECT_DEATH(x + n, "operand types differ: f32 \\(x\\) vs i32 \\(n\\)");
  // A fractional constant does not silently truncate next to an int.
  EXPECT_DEATH(var("i") + float_imm(0.5), "operand types differ: i64 \\(i\\) vs f32 \\(0.5\\)");
}

}  // namespace
}  // namespace kiln::kir
