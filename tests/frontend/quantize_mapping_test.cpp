// Quantized ONNX -> core ops (frontend/onnx/quantize.cpp): QuantizeLinear /
// DequantizeLinear parameters made to broadcast (per-tensor, per-axis,
// blocked), the QOperator ops, the com.microsoft ones, and the errors that
// name the node (zero scale, mismatched axis, wrong zero-point type).
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;

void add_typed_output(onnx::ModelProto& m, const std::string& name, int elem) {
  auto* vi = m.mutable_graph()->add_output();
  vi->set_name(name);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(elem);
}

class QuantizeMappingTest : public FrontendTest {};

// DQ(x) -> Conv(DQ(w) per-channel, DQ(bias int32)) -> Q, as ONNX Runtime writes QDQ models.
onnx::ModelProto qdq_conv_model(float w_scale1 = 0.02f, int64_t axis = 0, int zp_type = onnx::TensorProto::UINT8) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"1", "2", "5", "5"});
  add_f32_initializer(m, "x_scale", {}, {0.05f});
  if (zp_type == onnx::TensorProto::FLOAT) {
    add_f32_initializer(m, "x_zp", {}, {128.f});
  } else {
    add_int_initializer(m, "x_zp", zp_type, {}, {128});
  }
  add_int_initializer(m, "w", onnx::TensorProto::INT8, {3, 2, 3, 3}, std::vector<int64_t>(54, 3));
  add_f32_initializer(m, "w_scale", {3}, {0.01f, w_scale1, 0.03f});
  add_int_initializer(m, "w_zp", onnx::TensorProto::INT8, {3}, {0, 0, 0});
  add_int_initializer(m, "b", onnx::TensorProto::INT32, {3}, {10, -20, 30});
  add_f32_initializer(m, "b_scale", {3}, {0.0005f, 0.001f, 0.0015f});
  add_f32_initializer(m, "y_scale", {}, {0.1f});
  add_int_initializer(m, "y_zp", onnx::TensorProto::UINT8, {}, {0});
  add_node(m, "QuantizeLinear", {"x", "x_scale", "x_zp"}, {"xq"}, "q_x");
  add_node(m, "DequantizeLinear", {"xq", "x_scale", "x_zp"}, {"xf"}, "dq_x");
  auto* dw = add_node(m, "DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wf"}, "dq_w");
  set_attr(dw, "axis", axis);
  auto* db = add_node(m, "DequantizeLinear", {"b", "b_scale"}, {"bf"}, "dq_b");
  set_attr(db, "axis", int64_t{0});
  auto* c = add_node(m, "Conv", {"xf", "wf", "bf"}, {"y"}, "conv");
  set_attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  add_node(m, "QuantizeLinear", {"y", "y_scale", "y_zp"}, {"yq"}, "q_y");
  add_node(m, "DequantizeLinear", {"yq", "y_scale", "y_zp"}, {"out"}, "dq_y");
  add_output(m, "out");
  return m;
}

TEST_F(QuantizeMappingTest, QdqConvKeepsIntegerWeights) {
  auto g = import_ok(qdq_conv_model());
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"QuantizeLinear", "DequantizeLinear", "DequantizeLinear",
                                                    "DequantizeLinear", "Conv", "QuantizeLinear", "DequantizeLinear"}));
  // The weights' DequantizeLinear is not folded: its per-axis scale broadcasts along axis 0.
  const ir::Node* dq_w = g->nodes()[2].get();
  EXPECT_EQ(dq_w->name, "dq_w");
  EXPECT_EQ(dq_w->inputs[0]->type.str(), "int8[3x2x3x3]");
  EXPECT_EQ(dq_w->inputs[1]->type.str(), "float32[3x1x1x1]");
  EXPECT_EQ(dq_w->inputs[2]->type.str(), "int8[3x1x1x1]");
  EXPECT_EQ(g->nodes()[3]->inputs[0]->type.str(), "int32[3]");  // the bias
  EXPECT_EQ(g->nodes()[3]->inputs[2]->type.str(), "int32[3]");  // its zero point (absent: zeros)
  EXPECT_EQ(g->nodes()[0]->outputs[0]->type.str(), "uint8[1x2x5x5]");
}

TEST_F(QuantizeMappingTest, BlockedScalesRepeatAlongTheAxis) {
  onnx::ModelProto m = make_model(21);
  add_input(m, "x", {"2", "5"}, onnx::TensorProto::INT8);
  add_f32_initializer(m, "s", {2, 3}, {1, 2, 3, 4, 5, 6});
  auto* n = add_node(m, "DequantizeLinear", {"x", "s"}, {"y"}, "dq");
  set_attr(n, "axis", int64_t{1});
  set_attr(n, "block_size", int64_t{2});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* dq = only_node(*g, OpKind::kDequantizeLinear);
  ASSERT_TRUE(dq && dq->inputs[1]->is_constant());
  EXPECT_EQ(f32_values(*dq->inputs[1]->constant), (std::vector<float>{1, 1, 2, 2, 3, 4, 4, 5, 5, 6}));
}

TEST_F(QuantizeMappingTest, ZeroScaleIsAnErrorNamingTheNode) {
  std::string msg = import_error(qdq_conv_model(0.f));
  EXPECT_TRUE(contains(msg, "DequantizeLinear 'dq_w'")) << msg;
  EXPECT_TRUE(contains(msg, "'w_scale' element 1 is 0")) << msg;
}

TEST_F(QuantizeMappingTest, MismatchedAxisIsAnErrorNamingTheNode) {
  std::string msg = import_error(qdq_conv_model(0.02f, 1));
  EXPECT_TRUE(contains(msg, "DequantizeLinear 'dq_w'")) << msg;
  EXPECT_TRUE(contains(msg, "has 3 values but axis 1")) << msg;
  EXPECT_TRUE(contains(msg, "does not match")) << msg;
}

TEST_F(QuantizeMappingTest, WrongZeroPointTypeIsAnErrorNamingTheNode) {
  // An int8 zero point for a QuantizeLinear is fine (int8 output); a float one is not.
  std::string msg = import_error(qdq_conv_model(0.02f, 0, onnx::TensorProto::FLOAT));
  EXPECT_TRUE(contains(msg, "QuantizeLinear 'q_x'")) << msg;
  EXPECT_TRUE(contains(msg, "zero point")) << msg;

  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"4"}, onnx::TensorProto::UINT8);
  add_f32_initializer(m, "s", {}, {0.5f});
  add_int_initializer(m, "z", onnx::TensorProto::INT8, {}, {1});
  add_node(m, "DequantizeLinear", {"x", "s", "z"}, {"y"}, "dq");
  add_output(m, "y");
  msg = import_error(m);
  EXPECT_TRUE(contains(msg, "DequantizeLinear 'dq': zero point int8[] must have the input's type uint8")) << msg;
}

TEST_F(QuantizeMappingTest, UnsupportedQuantizedTypeSaysSo) {
  onnx::ModelProto m = make_model(21);
  add_input(m, "x", {"4"});
  add_f32_initializer(m, "s", {}, {0.5f});
  auto* n = add_node(m, "QuantizeLinear", {"x", "s"}, {"y"}, "q");
  set_attr(n, "output_dtype", int64_t{onnx::TensorProto::INT16});
  add_typed_output(m, "y", onnx::TensorProto::INT16);
  std::string msg = import_error(m);
  EXPECT_TRUE(contains(msg, "QuantizeLinear 'q'")) << msg;
  EXPECT_TRUE(contains(msg, "not supported")) << msg;
}

TEST_F(QuantizeMappingTest, QLinearConvIsConvIntegerBiasRequantize) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"1", "2", "4", "4"}, onnx::TensorProto::UINT8);
  add_f32_initializer(m, "xs", {}, {0.1f});
  add_int_initializer(m, "xz", onnx::TensorProto::UINT8, {}, {10});
  add_int_initializer(m, "w", onnx::TensorProto::INT8, {3, 2, 1, 1}, {1, 2, 3, 4, 5, 6});
  add_f32_initializer(m, "ws", {3}, {0.5f, 0.25f, 0.125f});
  add_int_initializer(m, "wz", onnx::TensorProto::INT8, {3}, {0, 0, 0});
  add_f32_initializer(m, "ys", {}, {0.2f});
  add_int_initializer(m, "yz", onnx::TensorProto::UINT8, {}, {5});
  add_int_initializer(m, "b", onnx::TensorProto::INT32, {3}, {1, 2, 3});
  add_node(m, "QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"}, {"y"}, "qconv");
  add_typed_output(m, "y", onnx::TensorProto::UINT8);
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* conv = only_node(*g, OpKind::kConvInteger);
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->inputs[3]->type.str(), "int8[]");  // all-zero per-channel zero points: one scalar
  const ir::Value* y = output(*g, "y");
  EXPECT_EQ(y->producer->op, OpKind::kRequantize);
  EXPECT_EQ(y->type.str(), "uint8[1x3x4x4]");
  EXPECT_EQ(y->producer->inputs[0]->producer->op, OpKind::kAdd);  // the int32 bias
}

TEST_F(QuantizeMappingTest, MicrosoftDomainQLinearOps) {
  onnx::ModelProto m = make_model(13);
  auto* ms = m.add_opset_import();
  ms->set_domain("com.microsoft");
  ms->set_version(1);
  add_input(m, "a", {"1", "4", "2", "2"}, onnx::TensorProto::UINT8);
  add_f32_initializer(m, "s", {}, {0.1f});
  add_int_initializer(m, "z", onnx::TensorProto::UINT8, {}, {3});
  add_f32_initializer(m, "s2", {}, {0.3f});
  auto* add = add_node(m, "QLinearAdd", {"a", "s", "z", "a", "s", "z", "s2", "z"}, {"b"}, "qadd");
  add->set_domain("com.microsoft");
  auto* pool = add_node(m, "QLinearGlobalAveragePool", {"b", "s2", "z", "s", "z"}, {"c"}, "qgap");
  pool->set_domain("com.microsoft");
  auto* cat = add_node(m, "QLinearConcat", {"s", "z", "c", "s", "z", "c", "s2", "z"}, {"d"}, "qcat");
  cat->set_domain("com.microsoft");
  set_attr(cat, "axis", int64_t{1});
  add_typed_output(m, "d", onnx::TensorProto::UINT8);
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Value* d = output(*g, "d");
  EXPECT_EQ(d->type.str(), "uint8[1x8x1x1]");
  EXPECT_EQ(d->producer->op, OpKind::kConcat);
  // The first input has the output's parameters and is concatenated as it is;
  // the second is requantized from scale 0.3 to 0.1.
  EXPECT_EQ(d->producer->inputs[0]->producer->op, OpKind::kQuantizeLinear);
  EXPECT_EQ(d->producer->inputs[1]->producer->op, OpKind::kQuantizeLinear);
  EXPECT_EQ(d->producer->inputs[0]->producer->inputs[0]->producer->op, OpKind::kReduceMean);

  // Other com.microsoft ops stay unsupported, named with their domain.
  auto* other = add_node(m, "QGemm", {"a"}, {"e"}, "qgemm");
  other->set_domain("com.microsoft");
  std::string msg = import_error(m);
  EXPECT_TRUE(contains(msg, "QGemm (domain 'com.microsoft', opset 1) at node 'qgemm'")) << msg;
}

TEST_F(QuantizeMappingTest, DynamicQuantizeLinearHasThreeOutputs) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3"});
  add_node(m, "DynamicQuantizeLinear", {"x"}, {"y", "ys", "yz"}, "dql");
  add_typed_output(m, "y", onnx::TensorProto::UINT8);
  add_output(m, "ys");
  add_typed_output(m, "yz", onnx::TensorProto::UINT8);
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.str(), "uint8[2x3]");
  EXPECT_EQ(output(*g, "ys")->type.str(), "float32[]");
  EXPECT_EQ(output(*g, "yz")->type.str(), "uint8[]");
}

}  // namespace
}  // namespace kiln::frontend::testing
