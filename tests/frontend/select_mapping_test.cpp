// Tests of the mappers in frontend/onnx/select_ops.cpp (Compress, NonZero),
// scatter.cpp, bitwise.cpp and Size: the core ops they emit, folded constants, errors.
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;
using Names = std::vector<std::string>;

class SelectMappingTest : public FrontendTest {};

onnx::TensorProto* add_bool_initializer(onnx::ModelProto& m, const std::string& name, const std::vector<int>& v) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::BOOL);
  t->add_dims(static_cast<int64_t>(v.size()));
  for (int x : v) t->add_int32_data(x);
  return t;
}

TEST_F(SelectMappingTest, CompressWithConstantConditionIsAGather) {
  onnx::ModelProto m = make_model(11);
  add_input(m, "x", {"3", "4"});
  add_bool_initializer(m, "c", {0, 1, 1});  // shorter than the axis: the rest is dropped
  set_attr(add_node(m, "Compress", {"x", "c"}, {"y"}, "cmp"), "axis", int64_t{-1});
  add_node(m, "Compress", {"x", "c"}, {"z"}, "flat");  // no axis: over the flattened input
  add_output(m, "y");
  add_output(m, "z");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (Names{"Gather", "Reshape", "Gather"}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{3, 2}));
  EXPECT_EQ(output(*g, "z")->type.shape, (ir::Shape{2}));

  onnx::ModelProto bad = make_model(11);
  add_input(bad, "x", {"3"});
  add_input(bad, "c", {"3"}, onnx::TensorProto::BOOL);
  add_node(bad, "Compress", {"x", "c"}, {"y"}, "cmp");
  add_output(bad, "y");
  EXPECT_TRUE(contains(import_error(bad), "a non-constant condition"));
}

TEST_F(SelectMappingTest, NonZeroOfAConstantFolds) {
  onnx::ModelProto m = make_model(13);
  add_f32_initializer(m, "k", {2, 3}, {0, 1.5f, 0, -2, 0, 3});
  add_node(m, "NonZero", {"k"}, {"y"}, "nz");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Value* y = output(*g, "y");
  ASSERT_TRUE(y->constant);
  EXPECT_EQ(y->type, (ir::TensorType{DType::kI64, {2, 3}}));
  // Rows: coordinates along each axis of (0,1), (1,0), (1,2).
  EXPECT_EQ(y->constant->to_i64_vector(), (std::vector<int64_t>{0, 1, 1, 1, 0, 2}));

  onnx::ModelProto dyn = make_model(13);
  add_input(dyn, "x", {"4"});
  add_node(dyn, "NonZero", {"x"}, {"y"}, "nz");
  add_output(dyn, "y");
  EXPECT_TRUE(contains(import_error(dyn), "a non-constant input"));
}

TEST_F(SelectMappingTest, SizeIsAnInt64ScalarConstant) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3", "5"});
  add_node(m, "Size", {"x"}, {"n"}, "size");
  add_output(m, "n");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Value* n = output(*g, "n");
  ASSERT_TRUE(n->constant);
  EXPECT_EQ(n->type, (ir::TensorType{DType::kI64, {}}));
  EXPECT_EQ(n->constant->to_i64_vector(), (std::vector<int64_t>{30}));
}

TEST_F(SelectMappingTest, ScatterAndBitwiseMappings) {
  onnx::ModelProto m = make_model(18);
  add_input(m, "d", {"3", "4"});
  add_input(m, "i", {"2", "4"}, onnx::TensorProto::INT64);
  add_input(m, "u", {"2", "4"});
  auto* se = add_node(m, "ScatterElements", {"d", "i", "u"}, {"y"}, "se");
  set_attr(se, "axis", int64_t{-2});
  set_attr(se, "reduction", std::string("max"));
  add_input(m, "a", {"4"}, onnx::TensorProto::UINT8);
  add_input(m, "s", {"4"}, onnx::TensorProto::UINT8);
  set_attr(add_node(m, "BitShift", {"a", "s"}, {"z"}, "shift"), "direction", std::string("RIGHT"));
  add_node(m, "BitwiseNot", {"a"}, {"w"}, "not");
  add_output(m, "y");
  add_output(m, "z");
  add_output(m, "w");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (Names{"ScatterElements", "BitShift", "BitwiseNot"}));
  const ir::Node* s = only_node(*g, OpKind::kScatterElements);
  EXPECT_EQ(s->attrs.get_int("axis"), 0);
  EXPECT_EQ(s->attrs.get_int("reduction"), 3);
  EXPECT_EQ(only_node(*g, OpKind::kBitShift)->attrs.get_int("direction"), 1);

  onnx::ModelProto bad = make_model(18);
  add_input(bad, "d", {"3"});
  add_input(bad, "i", {"1", "1"}, onnx::TensorProto::INT64);
  add_input(bad, "u", {"1"});
  set_attr(add_node(bad, "ScatterND", {"d", "i", "u"}, {"y"}, "snd"), "reduction", std::string("sub"));
  add_output(bad, "y");
  EXPECT_TRUE(contains(import_error(bad), "unknown reduction 'sub'"));
}

}  // namespace
}  // namespace kiln::frontend::testing
