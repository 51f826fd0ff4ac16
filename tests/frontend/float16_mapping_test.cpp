// Tests of float16 ops computed in float32 and rounded once at the output:
// Softmax, Conv, Mod, the composed math ops (IsNaN, IsInf, activations) and
// Attention (frontend/onnx/softmax.cpp, conv_pool.cpp, math_ops.cpp, attention.cpp).
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;

class Float16MappingTest : public FrontendTest {};

constexpr int32_t kF16 = onnx::TensorProto::FLOAT16;

// The ops between the graph input and the output are Cast(f32) -> `core` -> Cast(f16).
void expect_through_f32(const ir::Graph& g, const std::string& out, OpKind core) {
  const ir::Value* y = output(g, out);
  EXPECT_EQ(y->type.dtype, DType::kF16);
  const ir::Node* back = y->producer;
  ASSERT_TRUE(back);
  EXPECT_EQ(back->op, OpKind::kCast);
  const ir::Node* n = back->inputs[0]->producer;
  ASSERT_TRUE(n);
  EXPECT_EQ(n->op, core);
  for (const ir::Value* in : n->inputs) EXPECT_NE(in->type.dtype, DType::kF16) << n->label();
  EXPECT_EQ(n->outputs[0]->type.dtype, DType::kF32);
}

TEST_F(Float16MappingTest, SoftmaxAndLogSoftmax) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "5"}, kF16);
  add_node(m, "Softmax", {"x"}, {"s"}, "softmax");
  add_node(m, "LogSoftmax", {"x"}, {"l"}, "log_softmax");
  add_output(m, "s");
  add_output(m, "l");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  expect_through_f32(*g, "s", OpKind::kSoftmax);
  expect_through_f32(*g, "l", OpKind::kLogSoftmax);
  // The opset-11 2-D coercion as well: Cast, Reshape, Softmax, Reshape, Cast.
  m.mutable_opset_import(0)->set_version(11);
  set_attr(m.mutable_graph()->mutable_node(0), "axis", int64_t{0});
  g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "s")->type.str(), "float16[2x5]");
}

TEST_F(Float16MappingTest, ConvWithBias) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"1", "2", "5"}, kF16);
  add_input(m, "w", {"3", "2", "2"}, kF16);
  add_input(m, "b", {"3"}, kF16);
  add_node(m, "Conv", {"x", "w", "b"}, {"y"}, "conv");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* conv = only_node(*g, OpKind::kConv);
  ASSERT_TRUE(conv);
  for (const ir::Value* in : conv->inputs) EXPECT_EQ(in->type.dtype, DType::kF32);
  EXPECT_EQ(output(*g, "y")->type.str(), "float16[1x3x4]");
}

TEST_F(Float16MappingTest, ModIsNaNIsInfAndActivations) {
  onnx::ModelProto m = make_model(20);
  add_input(m, "a", {"4"}, kF16);
  add_input(m, "b", {"4"}, kF16);
  set_attr(add_node(m, "Mod", {"a", "b"}, {"r"}, "mod"), "fmod", int64_t{1});
  add_node(m, "IsNaN", {"a"}, {"nan"}, "isnan");
  add_node(m, "IsInf", {"a"}, {"inf"}, "isinf");
  add_node(m, "Softplus", {"a"}, {"sp"}, "softplus");
  add_node(m, "PRelu", {"a", "b"}, {"pr"}, "prelu");
  for (const char* o : {"r", "nan", "inf", "sp", "pr"}) add_output(m, o);
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  expect_through_f32(*g, "r", OpKind::kMod);
  EXPECT_EQ(output(*g, "nan")->type.str(), "bool[4]");
  EXPECT_EQ(output(*g, "inf")->type.str(), "bool[4]");
  expect_through_f32(*g, "sp", OpKind::kLog);
  expect_through_f32(*g, "pr", OpKind::kWhere);
  // Mod of floats still needs fmod=1.
  m.mutable_graph()->mutable_node(0)->mutable_attribute(0)->set_i(0);
  EXPECT_TRUE(contains(import_error(m), "Mod 'mod': Mod of floats needs fmod=1"));
}

// Attention of float16 computes scores, softmax and the product with V in
// float32: only the outputs (Y and the present key/value) are float16.
TEST_F(Float16MappingTest, AttentionComputesInFloat32) {
  onnx::ModelProto m = make_model(23);
  add_input(m, "q", {"1", "2", "3", "4"}, kF16);
  add_input(m, "k", {"1", "2", "5", "4"}, kF16);
  add_input(m, "v", {"1", "2", "5", "4"}, kF16);
  add_input(m, "mask", {"3", "5"}, kF16);
  add_input(m, "past_k", {"1", "2", "1", "4"}, kF16);
  add_input(m, "past_v", {"1", "2", "1", "4"}, kF16);
  add_node(m, "Attention", {"q", "k", "v", "mask", "past_k", "past_v"}, {"y", "present_k", "present_v"}, "attn");
  for (const char* o : {"y", "present_k", "present_v"}) add_output(m, o);
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.str(), "float16[1x2x3x4]");
  EXPECT_EQ(output(*g, "present_k")->type.str(), "float16[1x2x6x4]");
  EXPECT_EQ(output(*g, "present_v")->type.str(), "float16[1x2x6x4]");
  for (const auto& n : g->nodes()) {
    if (n->op == OpKind::kCast) continue;
    for (const ir::Value* in : n->inputs)
      EXPECT_NE(in->type.dtype, DType::kF16) << n->label() << " computes in float16";
  }
}

}  // namespace
}  // namespace kiln::frontend::testing
