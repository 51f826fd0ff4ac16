// passes/lower_qdq: QDQ patterns before and after the pass, on graphs imported
// from small ONNX models (the frontend's forms are what the pass assumes).
#include "passes/lower_qdq.h"

#include <cmath>

#include "../frontend/onnx_builder.h"
#include "ops/quant_types.h"
#include "passes/dead_code.h"
#include "passes/fuse_elementwise.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;

class LowerQdqTest : public FrontendTest {
 protected:
  // Imports, runs the pass and dead-code elimination.
  std::unique_ptr<ir::Graph> lowered(const onnx::ModelProto& m) {
    auto g = import_ok(m);
    if (!g) return g;
    passes::lower_qdq(*g);
    passes::eliminate_dead_code(*g);
    Status st = g->verify();
    EXPECT_TRUE(st.is_ok()) << st.message() << "\n" << g->str();
    return g;
  }

  // x (float) -> Q(x_scale, 128) -> DQ: the quantized activation "xf".
  void quantized_input(onnx::ModelProto& m, const std::vector<std::string>& dims) {
    add_input(m, "x", dims);
    add_f32_initializer(m, "x_scale", {}, {0.05f});
    add_int_initializer(m, "x_zp", onnx::TensorProto::UINT8, {}, {128});
    add_node(m, "QuantizeLinear", {"x", "x_scale", "x_zp"}, {"xq"}, "q_x");
    add_node(m, "DequantizeLinear", {"xq", "x_scale", "x_zp"}, {"xf"}, "dq_x");
  }
  // y -> Q(y_scale, y_zp) -> DQ -> "out".
  void quantized_output(onnx::ModelProto& m, const std::string& y, int64_t zp = 10) {
    add_f32_initializer(m, "y_scale", {}, {0.1f});
    add_int_initializer(m, "y_zp", onnx::TensorProto::UINT8, {}, {zp});
    add_node(m, "QuantizeLinear", {y, "y_scale", "y_zp"}, {"yq"}, "q_y");
    add_node(m, "DequantizeLinear", {"yq", "y_scale", "y_zp"}, {"out"}, "dq_y");
    add_output(m, "out");
  }
  // The quantized input xf [1, 2, 3, 3] and 1x1 int8 weights (2 channels, scale
  // 0.5) dequantized to wf: the start of the residual-block tests below.
  onnx::ModelProto pointwise_block_input() {
    onnx::ModelProto m = make_model(13);
    quantized_input(m, {"1", "2", "3", "3"});
    add_int_initializer(m, "w", onnx::TensorProto::INT8, {2, 2, 1, 1}, {1, -2, 3, 4});
    add_f32_initializer(m, "w_scale", {}, {0.5f});
    add_int_initializer(m, "w_zp", onnx::TensorProto::INT8, {}, {0});
    add_node(m, "DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wf"}, "dq_w");
    return m;
  }
};

std::vector<float> floats(const ir::Value* v) { return f32_values(*v->constant); }

TEST_F(LowerQdqTest, QuantizeLinearDividesByTheReciprocalOnlyWithFma) {
  for (bool fma : {true, false}) {
    onnx::ModelProto m = make_model(13);
    quantized_input(m, {"4"});
    add_node(m, "Relu", {"xf"}, {"r"}, "relu");
    quantized_output(m, "r");
    auto g = import_ok(m);
    ASSERT_TRUE(g);
    ops::KernelOptions opts;
    opts.fma = fma;
    passes::lower_qdq(*g, opts);
    int quantizes = 0;
    for (const auto& n : g->nodes()) {
      if (n->op != OpKind::kQuantizeLinear) continue;
      ++quantizes;
      EXPECT_EQ(n->attrs.get_int(ops::kQuantizeByReciprocal, 0), fma ? 1 : 0) << n->label();
    }
    EXPECT_GT(quantizes, 0);
  }
}

TEST_F(LowerQdqTest, ConvReluBecomesIntegerConvWithRequantize) {
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"1", "2", "5", "5"});
  std::vector<int64_t> w(3 * 2 * 9);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int64_t>(i % 11) - 5;
  add_int_initializer(m, "w", onnx::TensorProto::INT8, {3, 2, 3, 3}, w);
  add_f32_initializer(m, "w_scale", {3}, {0.01f, 0.02f, 0.03f});
  add_int_initializer(m, "w_zp", onnx::TensorProto::INT8, {3}, {0, 0, 0});
  // Bias scale = x_scale * w_scale, as quantizers write it: the int32 is used as it is.
  add_int_initializer(m, "b", onnx::TensorProto::INT32, {3}, {100, -200, 300});
  add_f32_initializer(m, "b_scale", {3}, {0.05f * 0.01f, 0.05f * 0.02f, 0.05f * 0.03f});
  auto* dw = add_node(m, "DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wf"}, "dq_w");
  set_attr(dw, "axis", int64_t{0});
  set_attr(add_node(m, "DequantizeLinear", {"b", "b_scale"}, {"bf"}, "dq_b"), "axis", int64_t{0});
  auto* c = add_node(m, "Conv", {"xf", "wf", "bf"}, {"y"}, "conv");
  set_attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  add_node(m, "Relu", {"y"}, {"r"}, "relu");
  quantized_output(m, "r");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  // The output's DequantizeLinear folds into the Requantize (dequantized in place).
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"QuantizeLinear", "ConvInteger", "Add", "Requantize"})) << g->str();
  const ir::Node* conv = only_node(*g, OpKind::kConvInteger);
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->name, "conv");
  EXPECT_EQ(conv->inputs[1]->type.str(), "int8[3x2x3x3]");
  EXPECT_EQ(conv->inputs[2]->constant->get_i64(0), 128);
  EXPECT_EQ(conv->inputs[3]->type.str(), "int8[]");
  EXPECT_EQ(conv->attrs.get_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  const ir::Node* add = only_node(*g, OpKind::kAdd);
  EXPECT_EQ(add->inputs[1]->type.str(), "int32[3x1x1]");
  EXPECT_EQ(add->inputs[1]->constant->get_i64(1), -200);
  const ir::Node* rq = only_node(*g, OpKind::kRequantize);
  ASSERT_TRUE(rq);
  // multiplier = float(x_scale * w_scale) / y_scale; the Relu is the clamp at y's zero point.
  std::vector<float> mult = floats(rq->inputs[1]);
  ASSERT_EQ(mult.size(), 3u);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(mult[c], (0.05f * (0.01f * (c + 1))) / 0.1f) << c;
  EXPECT_EQ(rq->attrs.get_int("min"), 10);
  EXPECT_EQ(rq->attrs.get_int("max"), 255);
  EXPECT_EQ(rq->attrs.get_float(ops::kDequantizeScale), 0.1f);
  EXPECT_EQ(rq->attrs.get_int(ops::kDequantizeZero), 10);
  EXPECT_EQ(rq->outputs[0]->type.str(), "float32[1x3x5x5]");

  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(*g);
  ASSERT_EQ(groups.size(), 2u);  // the quantized input; the layer with the output DequantizeLinear fused
  passes::LayerPrecision p = passes::layer_precision(groups[1], true);
  EXPECT_EQ(p.precision, "int8");
  EXPECT_TRUE(contains(p.reason, "uint8 activations x int8 weights")) << p.reason;
  EXPECT_TRUE(contains(p.reason, "per-channel scale, activation as a clamp, dequantized in place")) << p.reason;
}

TEST_F(LowerQdqTest, ClipBoundsAreQuantized) {
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"1", "1", "3", "3"});
  add_int_initializer(m, "w", onnx::TensorProto::INT8, {1, 1, 1, 1}, {7});
  add_f32_initializer(m, "w_scale", {}, {0.5f});
  add_int_initializer(m, "w_zp", onnx::TensorProto::INT8, {}, {0});
  add_node(m, "DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wf"}, "dq_w");
  add_node(m, "Conv", {"xf", "wf"}, {"y"}, "conv");
  add_f32_initializer(m, "lo", {}, {0.f});
  add_f32_initializer(m, "hi", {}, {6.f});
  add_node(m, "Clip", {"y", "lo", "hi"}, {"r"}, "relu6");
  quantized_output(m, "r", 0);
  auto g = lowered(m);
  ASSERT_TRUE(g);
  const ir::Node* rq = only_node(*g, OpKind::kRequantize);
  ASSERT_TRUE(rq) << g->str();
  EXPECT_EQ(rq->attrs.get_int("min"), 0);
  EXPECT_EQ(rq->attrs.get_int("max"), ops::quantize_value(6.f, 0.1f, 0, DType::kU8));  // 60
  EXPECT_EQ(rq->inputs[1]->type.str(), "float32[]");  // per-tensor weights: one multiplier
}

TEST_F(LowerQdqTest, MaxPoolAndReshapeRunInInt8) {
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"1", "2", "4", "4"});
  auto* p = add_node(m, "MaxPool", {"xf"}, {"p"}, "pool");
  set_attr(p, "kernel_shape", std::vector<int64_t>{2, 2});
  set_attr(p, "strides", std::vector<int64_t>{2, 2});
  add_i64_initializer(m, "shape", {2}, {1, 8});
  add_node(m, "Reshape", {"p", "shape"}, {"flat"}, "flatten");
  // Re-quantized with the same parameters (as QDQ models do around every op).
  add_node(m, "QuantizeLinear", {"flat", "x_scale", "x_zp"}, {"fq"}, "q_flat");
  add_node(m, "DequantizeLinear", {"fq", "x_scale", "x_zp"}, {"out"}, "dq_flat");
  add_output(m, "out");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"QuantizeLinear", "MaxPool", "Reshape", "DequantizeLinear"}))
      << g->str();
  EXPECT_EQ(only_node(*g, OpKind::kMaxPool)->outputs[0]->type.str(), "uint8[1x2x2x2]");
  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(*g);
  passes::LayerPrecision pp = passes::layer_precision(groups[1], true);
  EXPECT_EQ(pp.precision, "int8");
  EXPECT_TRUE(contains(pp.reason, "MaxPool carried in uint8")) << pp.reason;
}

TEST_F(LowerQdqTest, ResizeNearestAndConcatRunInInt8) {
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"1", "2", "3", "3"});
  add_f32_initializer(m, "scales", {4}, {1.f, 1.f, 2.f, 2.f});
  auto* r = add_node(m, "Resize", {"xf", "", "scales"}, {"up"}, "resize");
  set_attr(r, "mode", std::string("nearest"));
  auto* p = add_node(m, "MaxPool", {"up"}, {"p"}, "pool");
  set_attr(p, "kernel_shape", std::vector<int64_t>{2, 2});
  set_attr(p, "strides", std::vector<int64_t>{2, 2});
  auto* cat = add_node(m, "Concat", {"p", "xf"}, {"cat"}, "concat");
  set_attr(cat, "axis", int64_t{1});
  add_node(m, "QuantizeLinear", {"cat", "x_scale", "x_zp"}, {"cq"}, "q_cat");
  add_node(m, "DequantizeLinear", {"cq", "x_scale", "x_zp"}, {"out"}, "dq_cat");
  add_output(m, "out");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  // Resize nearest is Gathers of the rows and columns: all of it on uint8, one DQ at the end.
  for (const auto& n : g->nodes()) {
    if (n->op == OpKind::kDequantizeLinear) continue;
    EXPECT_EQ(n->outputs[0]->type.dtype, DType::kU8) << n->label() << "\n" << g->str();
  }
  EXPECT_EQ(only_node(*g, OpKind::kDequantizeLinear)->inputs[0]->producer->op, OpKind::kConcat);
}

TEST_F(LowerQdqTest, RequantizationWithOtherParametersStays) {
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"4"});
  quantized_output(m, "xf");  // other scale and zero point: DQ -> Q is a real requantization
  auto g = lowered(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g),
            (std::vector<std::string>{"QuantizeLinear", "DequantizeLinear", "QuantizeLinear", "DequantizeLinear"}));
}

TEST_F(LowerQdqTest, GemmWithTransposedPerChannelWeights) {
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"2", "4"});
  add_int_initializer(m, "w", onnx::TensorProto::INT8, {3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});  // [N, K]
  add_f32_initializer(m, "w_scale", {3}, {0.1f, 0.2f, 0.3f});
  add_int_initializer(m, "w_zp", onnx::TensorProto::INT8, {3}, {0, 0, 0});
  auto* dw = add_node(m, "DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wf"}, "dq_w");
  set_attr(dw, "axis", int64_t{0});
  add_f32_initializer(m, "c", {3}, {0.5f, -0.5f, 1.f});  // a float bias: rounded to accumulator units
  auto* gemm = add_node(m, "Gemm", {"xf", "wf", "c"}, {"y"}, "fc");
  set_attr(gemm, "transB", int64_t{1});
  quantized_output(m, "y");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"QuantizeLinear", "MatMulInteger", "Add", "Requantize"}))
      << g->str();
  const ir::Node* mm = only_node(*g, OpKind::kMatMulInteger);
  ASSERT_TRUE(mm);
  EXPECT_EQ(mm->inputs[1]->type.str(), "int8[4x3]");
  EXPECT_EQ(mm->inputs[1]->constant->get_i64(1), 5);  // w^T[0][1] = w[1][0]
  const ir::Node* add = only_node(*g, OpKind::kAdd);
  // 0.5 / (0.05 * 0.1) = 100, -0.5 / 0.01 = -50, 1 / 0.015 = 66.67 -> 67
  EXPECT_EQ(add->inputs[1]->constant->get_i64(0), 100);
  EXPECT_EQ(add->inputs[1]->constant->get_i64(1), -50);
  EXPECT_EQ(add->inputs[1]->constant->get_i64(2), 67);
}

TEST_F(LowerQdqTest, WeightsQuantizedAlongTheReductionAxisStayFloat) {
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"2", "3"});
  add_int_initializer(m, "w", onnx::TensorProto::INT8, {3, 2}, {1, 2, 3, 4, 5, 6});  // [K, N], scales per K
  add_f32_initializer(m, "w_scale", {3}, {0.1f, 0.2f, 0.3f});
  add_int_initializer(m, "w_zp", onnx::TensorProto::INT8, {3}, {0, 0, 0});
  auto* dw = add_node(m, "DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wf"}, "dq_w");
  set_attr(dw, "axis", int64_t{0});
  add_node(m, "MatMul", {"xf", "wf"}, {"y"}, "mm");
  quantized_output(m, "y");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  const ir::Node* mm = only_node(*g, OpKind::kMatMul);
  ASSERT_TRUE(mm);
  ASSERT_TRUE(mm->attrs.has(passes::kWhyFp32));
  passes::eliminate_dead_code(*g);
  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(*g);
  bool found = false;
  for (const auto& grp : groups)
    if (grp.anchor() == mm) {
      passes::LayerPrecision p = passes::layer_precision(grp, true);
      EXPECT_EQ(p.precision, "fp32");
      EXPECT_TRUE(contains(p.reason, "quantized along an axis other than the output channels")) << p.reason;
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST_F(LowerQdqTest, FloatOutputDequantizesTheAccumulator) {
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"1", "1", "2", "2"});
  add_int_initializer(m, "w", onnx::TensorProto::INT8, {2, 1, 1, 1}, {3, -4});
  add_f32_initializer(m, "w_scale", {2}, {0.5f, 0.25f});
  add_int_initializer(m, "w_zp", onnx::TensorProto::INT8, {2}, {0, 0});
  add_node(m, "DequantizeLinear", {"w", "w_scale", "w_zp"}, {"wf"}, "dq_w");
  set_attr(m.mutable_graph()->mutable_node(2), "axis", int64_t{0});
  add_node(m, "Conv", {"xf", "wf"}, {"y"}, "conv");
  add_node(m, "Sigmoid", {"y"}, {"out"}, "sig");
  add_output(m, "out");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"QuantizeLinear", "ConvInteger", "DequantizeLinear", "Sigmoid"}))
      << g->str();
  const ir::Node* dq = only_node(*g, OpKind::kDequantizeLinear);
  EXPECT_EQ(floats(dq->inputs[1]), (std::vector<float>{0.05f * 0.5f, 0.05f * 0.25f}));
}

TEST_F(LowerQdqTest, FloatWeightsQuantizedInTheGraph) {
  // Exporters of quantization-aware training write float weights -> Q -> DQ.
  onnx::ModelProto m = make_model(13);
  quantized_input(m, {"1", "2", "3", "3"});
  add_f32_initializer(m, "w", {2, 2, 1, 1}, {0.3f, -0.25f, 1.0f, 0.05f});
  add_f32_initializer(m, "w_scale", {2}, {0.01f, 0.1f});
  add_int_initializer(m, "w_zp", onnx::TensorProto::INT8, {2}, {0, 0});
  set_attr(add_node(m, "QuantizeLinear", {"w", "w_scale", "w_zp"}, {"wq"}, "q_w"), "axis", int64_t{0});
  set_attr(add_node(m, "DequantizeLinear", {"wq", "w_scale", "w_zp"}, {"wf"}, "dq_w"), "axis", int64_t{0});
  add_node(m, "Conv", {"xf", "wf"}, {"y"}, "conv");
  quantized_output(m, "y");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  const ir::Node* conv = only_node(*g, OpKind::kConvInteger);
  ASSERT_TRUE(conv) << g->str();
  ASSERT_TRUE(conv->inputs[1]->is_constant());
  const ir::Tensor& w = *conv->inputs[1]->constant;
  EXPECT_EQ(w.type().str(), "int8[2x2x1x1]");
  EXPECT_EQ(w.get_i64(0), 30);   // 0.3 / 0.01
  EXPECT_EQ(w.get_i64(1), -25);  // -0.25 / 0.01
  EXPECT_EQ(w.get_i64(2), 10);   // 1.0 / 0.1
  EXPECT_EQ(w.get_i64(3), 0);    // 0.05 / 0.1 = 0.5 -> 0 (half to even)
}

TEST_F(LowerQdqTest, ResidualAddJoinsTheConvEpilogue) {
  // conv(x) -> Q -> DQ, + DQ(x) (the identity shortcut) -> Q -> DQ: one kernel
  // after the quantized input; the shortcut's DequantizeLinear joins before the Add.
  onnx::ModelProto m = pointwise_block_input();
  add_node(m, "Conv", {"xf", "wf"}, {"y"}, "conv");
  add_f32_initializer(m, "c_scale", {}, {0.2f});
  add_int_initializer(m, "c_zp", onnx::TensorProto::UINT8, {}, {100});
  add_node(m, "QuantizeLinear", {"y", "c_scale", "c_zp"}, {"cq"}, "q_c");
  add_node(m, "DequantizeLinear", {"cq", "c_scale", "c_zp"}, {"cf"}, "dq_c");
  add_node(m, "Add", {"cf", "xf"}, {"sum"}, "residual");
  quantized_output(m, "sum");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(*g);
  ASSERT_EQ(groups.size(), 2u) << g->str();
  std::vector<std::string> ops;
  for (const ir::Node* n : groups[1].nodes) ops.push_back(ir::op_name(n->op));
  // The conv's Requantize dequantizes in place (its DequantizeLinear folded).
  EXPECT_EQ(ops, (std::vector<std::string>{"ConvInteger", "Requantize", "DequantizeLinear", "Add", "QuantizeLinear",
                                           "DequantizeLinear"}));
  // The shortcut's DequantizeLinear reads the quantized input.
  EXPECT_EQ(groups[1].nodes[2]->inputs[0], groups[0].result());
  EXPECT_EQ(groups[1].nodes[3]->inputs[1], groups[1].nodes[2]->outputs[0]);
}

TEST_F(LowerQdqTest, ProjectionShortcutStaysInt8InMemory) {
  // A projection block: Add(DQ(Q(conv_a(x))), DQ(Q(conv_b(x)))), conv_b's nodes
  // first in the model. Only the Requantize of the conv whose kernel takes the
  // Add dequantizes in place; the other conv's kernel stores uint8 (not floats)
  // and its DequantizeLinear joins the Add's kernel as a side input.
  onnx::ModelProto m = pointwise_block_input();
  for (std::string c : {"b", "a"}) {
    add_node(m, "Conv", {"xf", "wf"}, {"y" + c}, "conv_" + c);
    add_f32_initializer(m, c + "_scale", {}, {0.2f});
    add_int_initializer(m, c + "_zp", onnx::TensorProto::UINT8, {}, {100});
    add_node(m, "QuantizeLinear", {"y" + c, c + "_scale", c + "_zp"}, {c + "q"}, "q_" + c);
    add_node(m, "DequantizeLinear", {c + "q", c + "_scale", c + "_zp"}, {c + "f"}, "dq_" + c);
  }
  add_node(m, "Add", {"af", "bf"}, {"sum"}, "residual");
  quantized_output(m, "sum");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(*g);
  int in_place = 0;
  for (const lower::FusedGroup& group : groups) {
    bool adds = false;
    for (const ir::Node* n : group.nodes) {
      adds = adds || (n->op == OpKind::kAdd && n->inputs[0]->type.dtype == DType::kF32);
      in_place += n->op == OpKind::kRequantize && n->attrs.has(ops::kDequantizeScale);
    }
    if (group.anchor()->op == OpKind::kConvInteger && !adds)
      EXPECT_EQ(group.result()->type.dtype, DType::kU8) << g->str();
  }
  EXPECT_EQ(in_place, 1) << g->str();
}

TEST_F(LowerQdqTest, FloatModelIsUntouched) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"1", "2"});
  add_f32_initializer(m, "w", {2, 2}, {1, 2, 3, 4});
  add_node(m, "MatMul", {"x", "w"}, {"y"}, "mm");
  add_output(m, "y");
  auto g = lowered(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"MatMul"}));
  EXPECT_FALSE(g->nodes()[0]->attrs.has(passes::kWhyFp32));
  EXPECT_FALSE(passes::has_quantization(*g));
  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(*g);
  EXPECT_EQ(passes::layer_precision(groups[0], false).reason, "the model is not quantized");
}

}  // namespace
}  // namespace kiln::frontend::testing
