// Tests of the coverage mappers (frontend/onnx/math_ops.cpp, index_ops.cpp):
// which core ops each ONNX op becomes, opset-dependent inputs, and errors.
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;
using Names = std::vector<std::string>;

class CoverageMappingTest : public FrontendTest {};

TEST_F(CoverageMappingTest, ReductionsComposeFromReduceSumAndMax) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3"});
  auto* n = add_node(m, "ReduceLogSumExp", {"x"}, {"y"}, "lse");
  set_attr(n, "axes", std::vector<int64_t>{-1});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (Names{"ReduceMax", "Sub", "Exp", "ReduceSum", "Log", "Add"}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 1}));

  // Opset 18: axes come as an input; noop_with_empty_axes keeps the square only.
  onnx::ModelProto m2 = make_model(18);
  add_input(m2, "x", {"2", "3"});
  add_i64_initializer(m2, "axes", {1}, {0});
  auto* l2 = add_node(m2, "ReduceL2", {"x", "axes"}, {"y"}, "l2");
  set_attr(l2, "keepdims", int64_t{0});
  auto* sq = add_node(m2, "ReduceSumSquare", {"x"}, {"z"}, "sq");
  set_attr(sq, "noop_with_empty_axes", int64_t{1});
  add_output(m2, "y");
  add_output(m2, "z");
  auto g2 = import_ok(m2);
  ASSERT_TRUE(g2);
  EXPECT_EQ(op_names(*g2), (Names{"Mul", "ReduceSum", "Sqrt", "Mul"}));
  EXPECT_EQ(output(*g2, "y")->type.shape, (ir::Shape{3}));
  EXPECT_EQ(output(*g2, "z")->type.shape, (ir::Shape{2, 3}));
}

TEST_F(CoverageMappingTest, TopKIsIndicesThenGatherElements) {
  onnx::ModelProto m = make_model(11);
  add_input(m, "x", {"3", "5"});
  add_i64_initializer(m, "k", {1}, {2});
  add_node(m, "TopK", {"x", "k"}, {"values", "indices"}, "topk");
  add_output(m, "values");
  add_output(m, "indices");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (Names{"TopKIndices", "GatherElements"}));
  const ir::Node* t = only_node(*g, OpKind::kTopKIndices);
  EXPECT_EQ(t->attrs.get_int("axis"), 1);
  EXPECT_EQ(t->attrs.get_int("k"), 2);
  EXPECT_EQ(output(*g, "indices")->type, (ir::TensorType{DType::kI64, {3, 2}}));
  EXPECT_EQ(output(*g, "values")->type, (ir::TensorType{DType::kF32, {3, 2}}));
}

TEST_F(CoverageMappingTest, TriluMaskIsConstantOrComputed) {
  onnx::ModelProto m = make_model(14);
  add_input(m, "x", {"3", "4"});
  add_i64_initializer(m, "k", {}, {1});
  add_node(m, "Trilu", {"x", "k"}, {"y"}, "triu");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (Names{"Where"}));

  onnx::ModelProto m2 = make_model(14);
  add_input(m2, "x", {"3", "4"});
  add_input(m2, "k", {}, onnx::TensorProto::INT64);
  auto* n = add_node(m2, "Trilu", {"x", "k"}, {"y"}, "tril");
  set_attr(n, "upper", int64_t{0});
  add_output(m2, "y");
  auto g2 = import_ok(m2);
  ASSERT_TRUE(g2);
  EXPECT_EQ(op_names(*g2), (Names{"Greater", "Not", "Where"}));
}

TEST_F(CoverageMappingTest, TileHardmaxOneHotEyeLike) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3"});
  add_i64_initializer(m, "reps", {2}, {2, 1});
  add_node(m, "Tile", {"x", "reps"}, {"t"}, "tile");
  auto* h = add_node(m, "Hardmax", {"x"}, {"h"}, "hardmax");
  set_attr(h, "axis", int64_t{0});
  add_node(m, "EyeLike", {"x"}, {"e"}, "eye");
  add_i64_initializer(m, "ind", {2}, {1, -1});
  add_i64_initializer(m, "depth", {}, {3});
  add_f32_initializer(m, "vals", {2}, {0.0f, 5.0f});
  add_node(m, "OneHot", {"ind", "depth", "vals"}, {"o"}, "onehot");
  for (const char* o : {"t", "h", "e", "o"}) add_output(m, o);
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "t")->type.shape, (ir::Shape{4, 3}));
  EXPECT_EQ(only_node(*g, OpKind::kArgMax)->attrs.get_int("axis"), 0);
  EXPECT_EQ(output(*g, "h")->type.shape, (ir::Shape{2, 3}));
  const ir::Value* e = output(*g, "e");
  ASSERT_TRUE(e->is_constant());
  EXPECT_EQ(f32_values(*e->constant), (std::vector<float>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(output(*g, "o")->type.shape, (ir::Shape{2, 3}));
}

TEST_F(CoverageMappingTest, ActivationsAndErrors) {
  onnx::ModelProto m = make_model(20);
  add_input(m, "x", {"4"});
  auto* gelu = add_node(m, "Gelu", {"x"}, {"g"}, "gelu");
  set_attr(gelu, "approximate", std::string("tanh"));
  add_node(m, "Selu", {"x"}, {"s"}, "selu");
  add_output(m, "g");
  add_output(m, "s");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (Names{"Mul", "Mul", "Mul", "Add", "Mul", "Tanh", "Add", "Mul", "Mul",  // gelu
                                 "Greater", "Exp", "Sub", "Mul", "Where", "Mul"}));               // selu

  onnx::ModelProto bad = make_model(13);
  add_input(bad, "a", {"4"});
  add_input(bad, "b", {"4"});
  add_node(bad, "Mod", {"a", "b"}, {"y"}, "mod");
  add_output(bad, "y");
  EXPECT_EQ(import_error(bad), "Mod 'mod': Mod of floats needs fmod=1");

  onnx::ModelProto tile = make_model(13);
  add_input(tile, "x", {"4"});
  add_input(tile, "r", {"1"}, onnx::TensorProto::INT64);
  add_node(tile, "Tile", {"x", "r"}, {"y"}, "tile");
  add_output(tile, "y");
  EXPECT_EQ(import_error(tile), "Tile 'tile': a non-constant repeats input is not supported");
}

}  // namespace
}  // namespace kiln::frontend::testing
