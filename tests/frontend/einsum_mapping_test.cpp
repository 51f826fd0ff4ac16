// Tests of the Einsum mapper (frontend/onnx/einsum.cpp): the core ops each
// contraction becomes, output shapes, and equation errors.
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;
using Names = std::vector<std::string>;

class EinsumMappingTest : public FrontendTest {
 protected:
  // An Einsum over inputs of the given shapes; output "y".
  onnx::ModelProto einsum(const std::string& eq, const std::vector<std::vector<std::string>>& shapes) {
    onnx::ModelProto m = make_model(13);
    std::vector<std::string> names;
    for (size_t i = 0; i < shapes.size(); ++i) {
      names.push_back("x" + std::to_string(i));
      add_input(m, names.back(), shapes[i]);
    }
    set_attr(add_node(m, "Einsum", names, {"y"}, "es"), "equation", eq);
    add_output(m, "y");
    return m;
  }
};

TEST_F(EinsumMappingTest, AttentionScoresAreOneBatchedMatMul) {
  // bhqd,bhkd->bhqk: only the second operand needs a transpose.
  auto g = import_ok(einsum("bhqd,bhkd->bhqk", {{"2", "3", "4", "8"}, {"2", "3", "5", "8"}}));
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (Names{"Transpose", "MatMul"}));
  EXPECT_EQ(only_node(*g, OpKind::kTranspose)->attrs.get_ints("perm"), (std::vector<int64_t>{0, 1, 3, 2}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 3, 4, 5}));

  auto g2 = import_ok(einsum("bij, bjk -> bik", {{"2", "3", "4"}, {"2", "4", "5"}}));
  ASSERT_TRUE(g2);
  EXPECT_EQ(op_names(*g2), (Names{"MatMul"}));
}

TEST_F(EinsumMappingTest, SingleOperandTransposeSumAndDiagonal) {
  auto t = import_ok(einsum("ij->ji", {{"3", "4"}}));
  ASSERT_TRUE(t);
  EXPECT_EQ(op_names(*t), (Names{"Transpose"}));
  EXPECT_EQ(output(*t, "y")->type.shape, (ir::Shape{4, 3}));
  auto s = import_ok(einsum("ij->i", {{"3", "4"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(op_names(*s), (Names{"ReduceSum"}));
  EXPECT_EQ(only_node(*s, OpKind::kReduceSum)->attrs.get_ints("axes"), (std::vector<int64_t>{1}));
  // The diagonal: multiply by an identity mask, sum the second axis away.
  auto d = import_ok(einsum("...ii->...i", {{"2", "4", "4"}}));
  ASSERT_TRUE(d);
  EXPECT_EQ(op_names(*d), (Names{"Mul", "ReduceSum"}));
  EXPECT_EQ(output(*d, "y")->type.shape, (ir::Shape{2, 4}));
}

TEST_F(EinsumMappingTest, DotOuterAndBroadcastEllipsis) {
  // Implicit output "i,i": a scalar through a [1,K]x[K,1] MatMul.
  auto dot = import_ok(einsum("i,i", {{"5"}, {"5"}}));
  ASSERT_TRUE(dot);
  EXPECT_EQ(output(*dot, "y")->type.shape, (ir::Shape{}));
  auto outer = import_ok(einsum("i,j->ij", {{"3"}, {"4"}}));
  ASSERT_TRUE(outer);
  EXPECT_EQ(output(*outer, "y")->type.shape, (ir::Shape{3, 4}));
  // "..." broadcasts numpy-style, right-aligned.
  auto bc = import_ok(einsum("...ij,...jk->...ik", {{"2", "1", "3", "4"}, {"5", "4", "2"}}));
  ASSERT_TRUE(bc);
  EXPECT_EQ(output(*bc, "y")->type.shape, (ir::Shape{2, 5, 3, 2}));
  // Three operands; f appears in the first only, so it is summed before any MatMul.
  auto three = import_ok(einsum("abf,bc,cd->ad", {{"2", "3", "6"}, {"3", "4"}, {"4", "5"}}));
  ASSERT_TRUE(three);
  EXPECT_EQ(output(*three, "y")->type.shape, (ir::Shape{2, 5}));
  EXPECT_EQ(op_names(*three).front(), "ReduceSum");
}

TEST_F(EinsumMappingTest, EquationErrors) {
  EXPECT_TRUE(contains(import_error(einsum("ij,jk->ik", {{"2", "3"}})), "has 2 terms for 1 inputs"));
  EXPECT_TRUE(contains(import_error(einsum("ijk->i", {{"2", "3"}})), "names 3 dimensions of a rank-2 input"));
  EXPECT_TRUE(contains(import_error(einsum("ij->k", {{"2", "3"}})), "output label not among"));
  EXPECT_TRUE(contains(import_error(einsum("ii->i", {{"2", "3"}})), "repeated label spans dimensions 2 and 3"));
}

}  // namespace
}  // namespace kiln::frontend::testing
