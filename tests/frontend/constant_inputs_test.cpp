// Tests of freezing graph inputs to constants at import (--constant_input):
// the input becomes a constant that shape-controlling ops can read, and a wrong
// name, dtype or shape is an invalid-input error naming the input.
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;
using Constants = std::map<std::string, ir::Tensor>;

class ConstantInputsTest : public FrontendTest {
 protected:
  Expected<std::unique_ptr<ir::Graph>> import_with(const onnx::ModelProto& m, const Constants& constants) {
    return import_onnx(write_model(m), {}, constants);
  }
  std::string error_with(const onnx::ModelProto& m, const Constants& constants) {
    auto g = import_with(m, constants);
    EXPECT_FALSE(g.has_value());
    if (g.has_value()) return "";
    EXPECT_EQ(g.status().kind(), ErrorKind::kInvalidInput);
    return g.status().message();
  }
};

// ReduceSum(x, axes) with `axes` a graph input (opset 13 form).
onnx::ModelProto reduce_model(const std::string& axes_dim = "1") {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3"});
  add_input(m, "axes", {axes_dim}, onnx::TensorProto::INT64);
  add_node(m, "ReduceSum", {"x", "axes"}, {"y"}, "sum");
  add_output(m, "y");
  return m;
}

TEST_F(ConstantInputsTest, WithoutFreezingAxesInputIsRejected) {
  auto g = import_with(reduce_model(), {});
  ASSERT_FALSE(g.has_value());
  EXPECT_TRUE(contains(g.status().message(), "ReduceSum 'sum'"));
}

TEST_F(ConstantInputsTest, FrozenAxesBecomeAConstant) {
  auto g = import_with(reduce_model(), {{"axes", ir::Tensor::from_i64({1}, {1})}});
  ASSERT_TRUE(g.has_value()) << g.status().message();
  ASSERT_EQ((*g)->inputs().size(), 1u);
  EXPECT_EQ((*g)->inputs()[0]->name, "x");
  EXPECT_EQ(output(**g, "y")->type.str(), "float32[2x1]");
}

TEST_F(ConstantInputsTest, SymbolicDimTakesTheGivenSize) {
  auto g = import_with(reduce_model("n"), {{"axes", ir::Tensor::from_i64({2}, {0, 1})}});
  ASSERT_TRUE(g.has_value()) << g.status().message();
  EXPECT_EQ(output(**g, "y")->type.str(), "float32[1x1]");
}

TEST_F(ConstantInputsTest, UnknownNameIsAnError) {
  EXPECT_TRUE(contains(error_with(reduce_model(), {{"axis", ir::Tensor::from_i64({1}, {1})}}),
                       "--constant_input names 'axis', which is not an input of the model (its inputs: 'x', 'axes')"));
}

TEST_F(ConstantInputsTest, DtypeMismatchIsAnError) {
  EXPECT_TRUE(contains(error_with(reduce_model(), {{"axes", ir::Tensor::from_f32({1}, {1})}}),
                       "--constant_input 'axes' is float32 but the model's input is int64"));
}

TEST_F(ConstantInputsTest, ShapeMismatchIsAnError) {
  EXPECT_TRUE(contains(error_with(reduce_model(), {{"axes", ir::Tensor::from_i64({2}, {0, 1})}}),
                       "--constant_input 'axes' has shape 2 but the model's input has shape 1"));
  EXPECT_TRUE(contains(error_with(reduce_model(), {{"axes", ir::Tensor::from_i64({1, 1}, {1})}}),
                       "--constant_input 'axes' has shape 1x1 but the model's input has shape 1"));
}

TEST_F(ConstantInputsTest, NamedByInputShapesToo) {
  auto g = import_onnx(write_model(reduce_model("n")), {{"axes", {1}}}, {{"axes", ir::Tensor::from_i64({1}, {1})}});
  ASSERT_FALSE(g.has_value());
  EXPECT_TRUE(contains(g.status().message(), "input 'axes' is named by both --input_shapes and --constant_input"));
}

}  // namespace
}  // namespace kiln::frontend::testing
