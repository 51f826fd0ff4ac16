// Tests of shape ops and the import-time shape arithmetic: the PyTorch
// Shape->Gather->Unsqueeze->Concat->Reshape chain, Flatten/Squeeze/Unsqueeze with
// negative axes, Slice, Gather, Concat, Constant (frontend/onnx/shape_ops.cpp).
#include "frontend/onnx/shape_eval.h"
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;

class ShapeOpsTest : public FrontendTest {};

onnx::NodeProto* add_int_constant(onnx::ModelProto& m, const std::string& out, const std::vector<int64_t>& dims,
                                  const std::vector<int64_t>& values) {
  auto* n = add_node(m, "Constant", {}, {out});
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) a->mutable_t()->add_dims(d);
  for (int64_t v : values) a->mutable_t()->add_int64_data(v);
  return n;
}

TEST_F(ShapeOpsTest, TorchShapeChainBecomesStaticReshape) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"batch", "3", "4", "4"});
  add_node(m, "Shape", {"x"}, {"s"}, "shape");
  add_int_constant(m, "zero", {}, {0});
  set_attr(add_node(m, "Gather", {"s", "zero"}, {"d0"}, "gather"), "axis", int64_t{0});
  add_int_constant(m, "axes0", {1}, {0});
  add_node(m, "Unsqueeze", {"d0", "axes0"}, {"u0"}, "unsqueeze");
  add_int_constant(m, "minus1", {1}, {-1});
  set_attr(add_node(m, "Concat", {"u0", "minus1"}, {"target"}, "concat"), "axis", int64_t{0});
  add_node(m, "Reshape", {"x", "target"}, {"y"}, "reshape");
  add_output(m, "y");
  auto g = import_ok(m, {{"x", {2, 3, 4, 4}}});
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Reshape"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_ints("shape"), (std::vector<int64_t>{2, 48}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 48}));
}

TEST_F(ShapeOpsTest, ShapeArithmeticIsEvaluated) {
  onnx::ModelProto m = make_model(15);
  add_input(m, "x", {"2", "6", "5"});
  auto* sh = add_node(m, "Shape", {"x"}, {"s"}, "shape");
  set_attr(sh, "start", int64_t{1});  // [6, 5]
  add_i64_initializer(m, "two", {}, {2});
  add_node(m, "Div", {"s", "two"}, {"half"}, "div");  // [3, 2]
  add_node(m, "Mul", {"half", "two"}, {"back"}, "mul");  // [6, 4]
  add_i64_initializer(m, "starts", {1}, {0});
  add_i64_initializer(m, "ends", {1}, {1});
  add_node(m, "Slice", {"back", "starts", "ends"}, {"first"}, "slice");  // [6]
  auto* cast = add_node(m, "Cast", {"first"}, {"first32"}, "cast");
  set_attr(cast, "to", int64_t{onnx::TensorProto::INT32});
  add_output(m, "first32");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->nodes().empty());
  const ir::Value* out = output(*g, "first32");
  ASSERT_TRUE(out->is_constant());
  EXPECT_EQ(out->type.str(), "int32[1]");
  EXPECT_EQ(out->constant->get_i64(0), 6);
}

TEST_F(ShapeOpsTest, NonConstantReshapeTargetIsAnError) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3"});
  add_input(m, "shape", {"2"}, onnx::TensorProto::INT64);
  add_node(m, "Reshape", {"x", "shape"}, {"y"}, "r");
  add_output(m, "y");
  EXPECT_TRUE(contains(import_error(m), "Reshape 'r': the shape input 'shape' is not a constant"));
}

TEST_F(ShapeOpsTest, ReshapeZeroAndMinusOne) {
  onnx::ModelProto m = make_model(14);
  add_input(m, "x", {"2", "3", "4"});
  add_i64_initializer(m, "t", {3}, {0, -1, 2});
  add_node(m, "Reshape", {"x", "t"}, {"y"}, "r");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(only_node(*g, OpKind::kReshape)->attrs.get_ints("shape"), (std::vector<int64_t>{2, 6, 2}));
}

TEST_F(ShapeOpsTest, ReshapeBadTarget) {
  onnx::ModelProto m = make_model(14);
  add_input(m, "x", {"2", "3"});
  add_i64_initializer(m, "t", {2}, {-1, -1});
  add_node(m, "Reshape", {"x", "t"}, {"y"}, "r");
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "Reshape 'r': shape [-1,-1] has more than one -1");
}

TEST_F(ShapeOpsTest, FlattenNegativeAxis) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3", "4", "5"});
  set_attr(add_node(m, "Flatten", {"x"}, {"y"}, "f"), "axis", int64_t{-1});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(only_node(*g, OpKind::kReshape)->attrs.get_ints("shape"), (std::vector<int64_t>{24, 5}));
}

TEST_F(ShapeOpsTest, SqueezeAndUnsqueezeNegativeAxesOpset13) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"1", "3", "1", "4"});
  add_i64_initializer(m, "sq_axes", {1}, {-2});
  add_node(m, "Squeeze", {"x", "sq_axes"}, {"a"}, "sq");  // 1x3x4
  add_i64_initializer(m, "unsq_axes", {2}, {-1, 1});
  add_node(m, "Unsqueeze", {"a", "unsq_axes"}, {"b"}, "unsq");  // 1x1x3x4x1
  add_node(m, "Squeeze", {"b"}, {"c"}, "sq_all");  // 3x4
  add_output(m, "b");
  add_output(m, "c");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Reshape", "Reshape", "Reshape"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_ints("shape"), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(output(*g, "b")->type.shape, (ir::Shape{1, 1, 3, 4, 1}));
  EXPECT_EQ(output(*g, "c")->type.shape, (ir::Shape{3, 4}));
}

TEST_F(ShapeOpsTest, SqueezeUnsqueezeAttributeFormOpset11) {
  onnx::ModelProto m = make_model(11);
  add_input(m, "x", {"3", "1"});
  set_attr(add_node(m, "Squeeze", {"x"}, {"a"}, "sq"), "axes", std::vector<int64_t>{-1});
  set_attr(add_node(m, "Unsqueeze", {"a"}, {"b"}, "unsq"), "axes", std::vector<int64_t>{0});
  add_output(m, "b");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "b")->type.shape, (ir::Shape{1, 3}));
}

TEST_F(ShapeOpsTest, SqueezeOfNonUnitDimIsAnError) {
  onnx::ModelProto m = make_model(11);
  add_input(m, "x", {"3", "2"});
  set_attr(add_node(m, "Squeeze", {"x"}, {"a"}, "sq"), "axes", std::vector<int64_t>{1});
  add_output(m, "a");
  EXPECT_TRUE(contains(import_error(m), "Squeeze 'sq': cannot squeeze axis 1"));
}

TEST_F(ShapeOpsTest, TransposeConcatGather) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3", "4"});
  add_node(m, "Transpose", {"x"}, {"t"}, "tr");  // default perm reverses: 4x3x2
  set_attr(add_node(m, "Concat", {"t", "t"}, {"c"}, "cat"), "axis", int64_t{-1});  // 4x3x4
  add_i64_initializer(m, "idx", {2}, {-1, 0});
  set_attr(add_node(m, "Gather", {"c", "idx"}, {"g"}, "gather"), "axis", int64_t{1});  // 4x2x4
  add_output(m, "g");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Transpose", "Concat", "Gather"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_ints("perm"), (std::vector<int64_t>{2, 1, 0}));
  EXPECT_EQ(g->nodes()[1]->attrs.get_int("axis"), 2);
  EXPECT_EQ(g->nodes()[2]->inputs[1]->constant->to_i64_vector(), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(output(*g, "g")->type.shape, (ir::Shape{4, 2, 4}));
}

TEST_F(ShapeOpsTest, SliceToCoreSlice) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"4", "10"});
  add_i64_initializer(m, "starts", {2}, {1, -1});
  add_i64_initializer(m, "ends", {2}, {100, 0});
  add_i64_initializer(m, "axes", {2}, {0, -1});
  add_i64_initializer(m, "steps", {2}, {2, -3});
  add_node(m, "Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"}, "slice");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* s = only_node(*g, OpKind::kSlice);
  // axis 0: 1, 3 -> 2 rows; axis 1: 9, 6, 3 -> 3 columns.
  EXPECT_EQ(s->attrs.get_ints("starts"), (std::vector<int64_t>{1, 9}));
  EXPECT_EQ(s->attrs.get_ints("steps"), (std::vector<int64_t>{2, -3}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 3}));
}

TEST_F(ShapeOpsTest, ConstantForms) {
  onnx::ModelProto m = make_model(13);
  auto* c = add_node(m, "Constant", {}, {"f"}, "cf");
  auto* a = c->add_attribute();
  a->set_name("value_floats");
  a->set_type(onnx::AttributeProto::FLOATS);
  a->add_floats(1.5f);
  a->add_floats(-2.f);
  set_attr(add_node(m, "Constant", {}, {"i"}, "ci"), "value_int", int64_t{7});
  add_output(m, "f");
  add_output(m, "i");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(f32_values(*output(*g, "f")->constant), (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(output(*g, "i")->type.str(), "int64[]");
  EXPECT_EQ(output(*g, "i")->constant->get_i64(0), 7);
}

TEST_F(ShapeOpsTest, ConstantOfShapeAndRange) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3"});
  add_node(m, "Shape", {"x"}, {"s"}, "shape");
  auto* cos = add_node(m, "ConstantOfShape", {"s"}, {"ones"}, "cos");
  auto* a = cos->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  a->mutable_t()->add_dims(1);
  a->mutable_t()->add_float_data(1.0f);
  add_i64_initializer(m, "start", {}, {5});
  add_i64_initializer(m, "limit", {}, {-2});
  add_i64_initializer(m, "delta", {}, {-3});
  add_node(m, "Range", {"start", "limit", "delta"}, {"r"}, "range");
  add_output(m, "ones");
  add_output(m, "r");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "ones")->type.str(), "float32[2x3]");
  EXPECT_EQ(f32_values(*output(*g, "ones")->constant), std::vector<float>(6, 1.0f));
  EXPECT_EQ(output(*g, "r")->constant->to_i64_vector(), (std::vector<int64_t>{5, 2, -1}));
}

TEST(ShapeEvalTest, GatherConcatSlice) {
  ir::Tensor data = ir::Tensor::from_i64({2, 3}, {1, 2, 3, 4, 5, 6});
  auto gathered = eval_gather(data, ir::Tensor::from_i64({2}, {2, -3}), 1);
  ASSERT_TRUE(gathered.has_value());
  EXPECT_EQ(gathered->type().shape, (ir::Shape{2, 2}));
  EXPECT_EQ(gathered->to_i64_vector(), (std::vector<int64_t>{3, 1, 6, 4}));
  EXPECT_FALSE(eval_gather(data, ir::Tensor::from_i64({}, {3}), 1).has_value());

  ir::Tensor cat = eval_concat({&data, &data}, 1);
  EXPECT_EQ(cat.type().shape, (ir::Shape{2, 6}));
  EXPECT_EQ(cat.to_i64_vector(), (std::vector<int64_t>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}));

  ir::Tensor sl = eval_slice(data, {1, 2}, {1, -2}, {1, 2});
  EXPECT_EQ(sl.to_i64_vector(), (std::vector<int64_t>{6, 4}));

  auto sum = eval_binary(OpKind::kAdd, data, ir::Tensor::from_i64({3}, {10, 20, 30}));
  ASSERT_TRUE(sum.has_value());
  EXPECT_EQ(sum->to_i64_vector(), (std::vector<int64_t>{11, 22, 33, 14, 25, 36}));
  EXPECT_FALSE(eval_binary(OpKind::kDiv, data, ir::Tensor::from_i64({}, {0})).has_value());
}

}  // namespace
}  // namespace kiln::frontend::testing
