// Tests of folding while the model is read (NodeContext::add): any core op whose
// inputs are all constants is evaluated through the JIT, so shape arithmetic of
// any kind (integer or float, Neg, Sqrt, Equal/Where, Mod ...) reaches the mappers
// that need constants (Expand, ConstantOfShape, Reshape). Also the fold pass's
// evaluator on its own (passes/constant_fold.h).
#include <cmath>

#include "onnx_builder.h"
#include "passes/constant_fold.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;

class ImportFoldTest : public FrontendTest {};

void add_f32_scalar(onnx::ModelProto& m, const std::string& name, float v) { add_f32_initializer(m, name, {}, {v}); }

onnx::NodeProto* cast(onnx::ModelProto& m, const std::string& in, const std::string& out, int32_t to) {
  auto* n = add_node(m, "Cast", {in}, {out}, out);
  set_attr(n, "to", int64_t{to});
  return n;
}

// LayerNormalization's function body: the reduced shape is Concat(Shape(X)[:axis],
// ConstantOfShape(-axis) of ones), and ConstantOfShape's shape is a Neg of a constant.
TEST_F(ImportFoldTest, ConstantOfShapeOfNegatedConstant) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"2", "3", "4"});
  add_node(m, "Shape", {"x"}, {"xs"}, "shape");
  add_i64_initializer(m, "zero", {1}, {0});
  add_i64_initializer(m, "axis", {1}, {-1});
  add_node(m, "Slice", {"xs", "zero", "axis"}, {"prefix"}, "prefix");
  add_node(m, "Neg", {"axis"}, {"count"}, "count");
  auto* cos = add_node(m, "ConstantOfShape", {"count"}, {"suffix"}, "suffix");
  auto* value = cos->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto::INT64);
  value->mutable_t()->add_dims(1);
  value->mutable_t()->add_int64_data(1);
  set_attr(add_node(m, "Concat", {"prefix", "suffix"}, {"reduced"}, "concat"), "axis", int64_t{0});
  set_attr(add_node(m, "ReduceMean", {"x"}, {"mean"}, "mean"), "axes", std::vector<int64_t>{-1});
  add_node(m, "Reshape", {"mean", "reduced"}, {"y"}, "reshape");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.str(), "float32[2x3x1]");
  for (const auto& n : g->nodes()) EXPECT_NE(n->op, OpKind::kNeg) << "the Neg of a constant was not folded";
}

// The scale of exported attention: 1 / sqrt(float(Shape(q)[-1])), a float
// computation on a shape, folds to one float constant.
TEST_F(ImportFoldTest, FloatArithmeticOnAShapeFolds) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "q", {"2", "4", "16"});
  auto* sh = add_node(m, "Shape", {"q"}, {"head"}, "head");
  set_attr(sh, "start", int64_t{-1});
  cast(m, "head", "head_f", onnx::TensorProto::FLOAT);
  add_node(m, "Sqrt", {"head_f"}, {"root"}, "root");
  add_f32_initializer(m, "one", {1}, {1.0f});
  add_node(m, "Div", {"one", "root"}, {"scale"}, "scale");
  add_node(m, "Mul", {"q", "scale"}, {"y"}, "y");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Mul"}));
  const ir::Value* scale = g->nodes()[0]->inputs[1];
  ASSERT_TRUE(scale->is_constant());
  EXPECT_EQ(scale->type.str(), "float32[1]");
  EXPECT_FLOAT_EQ(f32_values(*scale->constant)[0], 0.25f);
}

// The head-repeat of grouped-query attention: Equal/Not/Div/Mod/And/Where on
// head counts decide an Expand's shape, which must therefore be a constant.
TEST_F(ImportFoldTest, BooleanShapeLogicFeedsExpand) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "q", {"1", "4", "3", "2"});
  add_input(m, "k", {"1", "2", "3", "2"});
  auto heads = [&](const std::string& in, const std::string& out) {
    auto* n = add_node(m, "Shape", {in}, {out}, out);
    set_attr(n, "start", int64_t{1});
    set_attr(n, "end", int64_t{2});
  };
  heads("q", "qh");
  heads("k", "kh");
  add_i64_initializer(m, "one", {1}, {1});
  add_i64_initializer(m, "zero", {1}, {0});
  add_node(m, "Equal", {"qh", "kh"}, {"same"}, "same");
  add_node(m, "Not", {"same"}, {"grouped"}, "grouped");
  add_node(m, "Div", {"qh", "kh"}, {"ratio"}, "ratio");
  add_node(m, "Mod", {"qh", "kh"}, {"rest"}, "rest");
  add_node(m, "Equal", {"rest", "zero"}, {"divides"}, "divides");
  add_node(m, "And", {"grouped", "divides"}, {"gqa"}, "gqa");
  add_node(m, "Where", {"gqa", "ratio", "one"}, {"reps"}, "reps");
  add_i64_initializer(m, "two", {1}, {2});
  add_node(m, "Unsqueeze", {"k", "two"}, {"k5"}, "k5");
  add_i64_initializer(m, "b", {1}, {1});
  add_i64_initializer(m, "sd", {2}, {3, 2});
  set_attr(add_node(m, "Concat", {"b", "kh", "reps", "sd"}, {"target"}, "target"), "axis", int64_t{0});
  add_node(m, "Expand", {"k5", "target"}, {"y"}, "expand");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.str(), "float32[1x2x2x3x2]");
}

// A folded integer division by zero is an error naming the node, not a trap.
TEST_F(ImportFoldTest, IntegerDivisionByZeroIsAnError) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"2", "3"});
  add_node(m, "Shape", {"x"}, {"s"}, "shape");
  add_i64_initializer(m, "d", {2}, {1, 0});
  add_node(m, "Mod", {"s", "d"}, {"r"}, "mod");
  add_output(m, "r");
  EXPECT_TRUE(contains(import_error(m), "Mod 'mod': integer division by zero (a constant divisor is 0)"));
}

// Outputs above kMaxFoldElements stay nodes (the fold pass evaluates them later).
TEST_F(ImportFoldTest, LargeOutputsAreLeftToTheFoldPass) {
  onnx::ModelProto m = make_model(17);
  add_f32_scalar(m, "v", 2.0f);
  add_i64_initializer(m, "big", {2}, {300, 300});
  add_node(m, "Expand", {"v", "big"}, {"y"}, "expand");
  add_i64_initializer(m, "small", {1}, {4});
  add_node(m, "Expand", {"v", "small"}, {"z"}, "expand_small");
  add_output(m, "y");
  add_output(m, "z");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Expand"}));
  EXPECT_EQ(output(*g, "y")->type.str(), "float32[300x300]");
  EXPECT_TRUE(output(*g, "z")->is_constant());
}

// DequantizeLinear of constant weights stays for passes/lower_qdq.
TEST_F(ImportFoldTest, DequantizeOfConstantWeightsIsNotFolded) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"1", "4"});
  auto* w = m.mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::INT8);
  w->add_dims(4);
  w->add_dims(2);
  for (int i = 0; i < 8; ++i) w->add_int32_data(i - 4);
  add_f32_scalar(m, "scale", 0.5f);
  add_node(m, "DequantizeLinear", {"w", "scale"}, {"wf"}, "dq");
  add_node(m, "MatMul", {"x", "wf"}, {"y"}, "mm");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_TRUE(only_node(*g, OpKind::kDequantizeLinear));
}

// The evaluator on its own: a float op and an integer division by zero.
TEST(NodeEvaluatorTest, EvaluatesOneNode) {
  ir::Graph g;
  ir::Value* a = g.add_constant("a", ir::Tensor::from_f32({3}, {1, 4, 9}));
  auto root = g.add_node(OpKind::kSqrt, "root", {a});
  ASSERT_TRUE(root.has_value());
  passes::NodeEvaluator eval;
  auto t = eval.evaluate(**root);
  ASSERT_TRUE(t.has_value()) << t.status().message();
  EXPECT_EQ(f32_values(*t), (std::vector<float>{1, 2, 3}));

  ir::Value* n = g.add_constant("n", ir::Tensor::from_i64({2}, {7, 8}));
  ir::Value* d = g.add_constant("d", ir::Tensor::from_i64({2}, {2, 0}));
  auto div = g.add_node(OpKind::kDiv, "div", {n, d});
  ASSERT_TRUE(div.has_value());
  auto bad = eval.evaluate(**div);
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(contains(bad.status().message(), "Div 'div': integer division by zero"));
}

}  // namespace
}  // namespace kiln::frontend::testing
