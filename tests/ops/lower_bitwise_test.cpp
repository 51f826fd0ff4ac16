// Lowering of the integer bitwise ops (BitShift, BitwiseAnd/Or/Xor/Not) through
// the interpreter and the JIT, and the kernel-IR constant folding of kBitAnd .. kShr.
#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;

using LowerBitwiseTest = OneNodeTest;

TEST_F(LowerBitwiseTest, ShiftsOfUint8IncludingOutOfRangeAmounts) {
  HostTensor x = HostTensor::of(DType::kU8, {6}, {16, 4, 1, 255, 128, 3});
  HostTensor s = HostTensor::of(DType::kU8, {6}, {1, 2, 7, 4, 8, 200});
  Attrs left = Attrs().set("direction", int64_t{0}), right = Attrs().set("direction", int64_t{1});
  check_node(node(OpKind::kBitShift, {x, s}, left), {x, s}, {32, 16, 128, 240, 0, 0}, 0);
  check_node(node(OpKind::kBitShift, {x, s}, right), {x, s}, {8, 1, 0, 15, 0, 0}, 0);
}

TEST_F(LowerBitwiseTest, AndOrXorNotBroadcast) {
  HostTensor a = HostTensor::of(DType::kI32, {2, 3}, {12, -1, 0, 7, -8, 255});
  HostTensor b = HostTensor::of(DType::kI32, {3}, {10, 6, -3});
  check_node(node(OpKind::kBitwiseAnd, {a, b}), {a, b}, {8, 6, 0, 2, 0, 253}, 0);
  check_node(node(OpKind::kBitwiseOr, {a, b}), {a, b}, {14, -1, -3, 15, -2, -1}, 0);
  check_node(node(OpKind::kBitwiseXor, {a, b}), {a, b}, {6, -7, -3, 13, -2, -254}, 0);
  check_node(node(OpKind::kBitwiseNot, {a}), {a}, {-13, 0, -1, -8, 7, -256}, 0);
  HostTensor u = HostTensor::of(DType::kU8, {3}, {0, 15, 255});
  check_node(node(OpKind::kBitwiseNot, {u}), {u}, {255, 240, 0}, 0);
  HostTensor i8 = HostTensor::of(DType::kI8, {2}, {-128, 5});
  check_node(node(OpKind::kBitwiseXor, {i8, i8}), {i8, i8}, {0, 0}, 0);
}

TEST_F(LowerBitwiseTest, TypeErrors) {
  ir::Graph g;
  auto* f = g.add_input("f", ir::TensorType{DType::kF32, {2}});
  auto* i = g.add_input("i", ir::TensorType{DType::kI32, {2}});
  auto* l = g.add_input("l", ir::TensorType{DType::kI64, {2}});
  auto bad = g.add_node(OpKind::kBitwiseAnd, "a", {f, f}, {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.status().message().find("needs integer inputs"), std::string::npos) << bad.status().message();
  auto mixed = g.add_node(OpKind::kBitShift, "s", {i, l}, {});
  ASSERT_FALSE(mixed.has_value());
  EXPECT_NE(mixed.status().message().find("of one dtype"), std::string::npos) << mixed.status().message();
}

TEST(KirBitwise, ConstantsFold) {
  using kir::BinOp;
  auto fold = [](BinOp op, int64_t x, int64_t y, kir::Type t) {
    kir::Expr e = kir::binary(op, kir::int_imm(x, t), kir::int_imm(y, t));
    const kir::IntImm* imm = e.as<kir::IntImm>();
    EXPECT_NE(imm, nullptr) << kir::binop_name(op);
    return imm ? imm->value : -12345;
  };
  kir::Type u8{DType::kU8, 1};
  EXPECT_EQ(fold(BinOp::kShl, 255, 1, u8), 254);
  EXPECT_EQ(fold(BinOp::kShr, 255, 3, u8), 31);
  EXPECT_EQ(fold(BinOp::kShl, 1, 8, u8), 0);
  EXPECT_EQ(fold(BinOp::kShr, -16, 2, kir::i32()), -4);
  EXPECT_EQ(fold(BinOp::kShr, -16, 40, kir::i32()), -1);
  EXPECT_EQ(fold(BinOp::kBitXor, 6, 3, kir::i64()), 5);
  EXPECT_EQ(fold(BinOp::kBitAnd, 6, 3, kir::i64()), 2);
  EXPECT_EQ(fold(BinOp::kBitOr, 6, 3, kir::i64()), 7);
}

}  // namespace
}  // namespace kiln::ops::testing
