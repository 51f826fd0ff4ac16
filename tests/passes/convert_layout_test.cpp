// convert_layout (--layout NHWC): which ops move to NHWC, where Transposes
// stay, which cancel, and that the result type-checks; before/after on
// printed graphs.
#include <gtest/gtest.h>

#include <string>

#include "graph_util.h"
#include "ir/graph.h"
#include "ops/layout.h"
#include "passes/convert_layout.h"
#include "passes/dead_code.h"

namespace kiln::passes {
namespace {

using kiln::DType;
using ir::Attrs;
using ir::Graph;
using ir::Node;
using ir::OpKind;
using ir::Tensor;
using ir::Value;
using Ints = std::vector<int64_t>;

using testing::must;

Tensor ramp(const ir::Shape& shape) {
  return testing::f32_tensor(shape, [](int64_t i) { return 0.01f * static_cast<float>(i % 97); });
}

ops::KernelOptions nhwc_options() {
  ops::KernelOptions o;
  o.level = 3;
  o.channels_last = true;
  return o;
}

// The pass as the pipeline runs it: convert, then drop the views nobody reads.
void run(Graph& g) {
  convert_layout(g, nhwc_options());
  eliminate_dead_code(g);
  Status st = g.verify();
  ASSERT_TRUE(st.is_ok()) << st.message() << "\n" << g.str();
}

int count(const Graph& g, OpKind op) {
  int n = 0;
  for (const auto& node : g.nodes()) n += node->op == op;
  return n;
}

const Node* find(const Graph& g, const std::string& name) {
  for (const auto& node : g.nodes())
    if (node->name == name) return node.get();
  return nullptr;
}

Value* conv(Graph& g, const std::string& name, Value* x, int64_t cin, int64_t cout, int64_t k, int64_t group = 1) {
  Attrs a = Attrs().set("pads", Ints(4, k / 2)).set("group", group);
  return must(g.add(OpKind::kConv, name, {x, g.add_constant(name + "_w", ramp({cout, cin / group, k, k})),
                                          g.add_constant(name + "_b", ramp({cout}))}, a));
}

// A residual block, a pool, a channel-broadcast constant and a classifier head.
struct Net {
  Graph g;
  Net() {
    Value* x = g.add_input("x", {DType::kF32, {1, 3, 8, 8}});
    Value* c1 = must(g.add(OpKind::kRelu, "relu1", {conv(g, "conv1", x, 3, 8, 3)}));
    Value* p = must(g.add(OpKind::kMaxPool, "pool", {c1}, Attrs().set("kernel", Ints{2, 2}).set("strides", Ints{2, 2})));
    Value* dw = conv(g, "dw", p, 8, 8, 3, 8);
    Value* r = must(g.add(OpKind::kRelu, "relu2", {must(g.add(OpKind::kAdd, "residual", {dw, p}))}));
    Value* c3 = conv(g, "conv3", r, 8, 16, 1);
    Value* s = must(g.add(OpKind::kMul, "scale", {c3, g.add_constant("channel_scale", ramp({16, 1, 1}))}));
    Value* gap = must(g.add(OpKind::kReduceMean, "gap", {s}, Attrs().set("axes", Ints{2, 3}).set("keepdims", int64_t{1})));
    Value* flat = must(g.add(OpKind::kReshape, "flatten", {gap}, Attrs().set("shape", Ints{1, 16})));
    g.add_output("logits", must(g.add(OpKind::kMatMul, "fc", {flat, g.add_constant("fc_w", ramp({16, 4}))})));
  }
};

TEST(ConvertLayout, ResidualNetBeforeAfter) {
  Net net;
  EXPECT_EQ(net.g.str(),
            "graph(%x: float32[1x3x8x8]) {\n"
            "  %conv1: float32[1x8x8x8] = Conv(%x, $conv1_w, $conv1_b) {group=1, pads=[1,1,1,1]}\n"
            "  %relu1: float32[1x8x8x8] = Relu(%conv1)\n"
            "  %pool: float32[1x8x4x4] = MaxPool(%relu1) {kernel=[2,2], strides=[2,2]}\n"
            "  %dw: float32[1x8x4x4] = Conv(%pool, $dw_w, $dw_b) {group=8, pads=[1,1,1,1]}\n"
            "  %residual: float32[1x8x4x4] = Add(%dw, %pool)\n"
            "  %relu2: float32[1x8x4x4] = Relu(%residual)\n"
            "  %conv3: float32[1x16x4x4] = Conv(%relu2, $conv3_w, $conv3_b) {group=1, pads=[0,0,0,0]}\n"
            "  %scale: float32[1x16x4x4] = Mul(%conv3, $channel_scale)\n"
            "  %gap: float32[1x16x1x1] = ReduceMean(%scale) {axes=[2,3], keepdims=1}\n"
            "  %flatten: float32[1x16] = Reshape(%gap) {shape=[1,16]}\n"
            "  %fc: float32[1x4] = MatMul(%flatten, $fc_w)\n"
            "  return logits=%fc\n"
            "}\n");
  run(net.g);
  // One Transpose is left: the model input's. The pooled [1,1,1,16] value's
  // NCHW view moves only unit dimensions, so it is a Reshape.
  EXPECT_EQ(net.g.str(),
            "graph(%x: float32[1x3x8x8]) {\n"
            "  %x_nhwc: float32[1x8x8x3] = Transpose(%x) {perm=[0,2,3,1]}\n"
            "  %conv1: float32[1x8x8x8] = Conv(%x_nhwc, $conv1_w, $conv1_b) {group=1, layout=\"NHWC\", pads=[1,1,1,1]}\n"
            "  %relu1: float32[1x8x8x8] = Relu(%conv1)\n"
            "  %pool: float32[1x4x4x8] = MaxPool(%relu1) {kernel=[2,2], layout=\"NHWC\", strides=[2,2]}\n"
            "  %dw: float32[1x4x4x8] = Conv(%pool, $dw_w, $dw_b) {group=8, layout=\"NHWC\", pads=[1,1,1,1]}\n"
            "  %residual: float32[1x4x4x8] = Add(%dw, %pool)\n"
            "  %relu2: float32[1x4x4x8] = Relu(%residual)\n"
            "  %conv3: float32[1x4x4x16] = Conv(%relu2, $conv3_w, $conv3_b) {group=1, layout=\"NHWC\", pads=[0,0,0,0]}\n"
            "  %scale: float32[1x4x4x16] = Mul(%conv3, $channel_scale_nhwc)\n"
            "  %gap: float32[1x1x1x16] = ReduceMean(%scale) {axes=[1,2], keepdims=1}\n"
            "  %gap_nchw: float32[1x16x1x1] = Reshape(%gap) {shape=[1,16,1,1]}\n"
            "  %flatten: float32[1x16] = Reshape(%gap_nchw) {shape=[1,16]}\n"
            "  %fc: float32[1x4] = MatMul(%flatten, $fc_w)\n"
            "  return logits=%fc\n"
            "}\n");
  // The channel scale [16,1,1] became [1,1,1,16] with the same values.
  const Node* scale = find(net.g, "scale");
  ASSERT_NE(scale, nullptr);
  ASSERT_TRUE(scale->inputs[1]->is_constant());
  EXPECT_EQ(scale->inputs[1]->type.shape, (ir::Shape{1, 1, 1, 16}));
  EXPECT_FLOAT_EQ(scale->inputs[1]->constant->data<float>()[5], 0.05f);
}

TEST(ConvertLayout, NoOpWithoutTheOption) {
  Net net;
  std::string before = net.g.str();
  ops::KernelOptions o;
  convert_layout(net.g, o);
  EXPECT_EQ(net.g.str(), before);
}

TEST(ConvertLayout, ModelOutputsAndLayoutSensitiveConsumersGetOneNchwView) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1, 4, 6, 6}});
  Value* c = conv(g, "conv", x, 4, 8, 3);
  // A flatten of the whole map depends on the element order: it needs NCHW.
  g.add_output("flat", must(g.add(OpKind::kReshape, "flat", {c}, Attrs().set("shape", Ints{1, 288}))));
  g.add_output("features", c);
  run(g);
  EXPECT_EQ(count(g, OpKind::kTranspose), 2) << g.str();  // the input's, and one view for both consumers
  const Node* flat = find(g, "flat");
  ASSERT_NE(flat, nullptr);
  const Node* view = flat->inputs[0]->producer;
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->op, OpKind::kTranspose);
  EXPECT_EQ(view->attrs.get_ints("perm"), (Ints{0, 3, 1, 2}));
  EXPECT_EQ(g.outputs()[1].value, flat->inputs[0]);  // the model output keeps its NCHW shape
  EXPECT_EQ(g.outputs()[1].value->type.shape, (ir::Shape{1, 8, 6, 6}));
}

TEST(ConvertLayout, AnNchwOperandCostsOneTranspose) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1, 4, 6, 6}});
  Value* skip = g.add_input("skip", {DType::kF32, {1, 8, 6, 6}});
  Value* sum = must(g.add(OpKind::kAdd, "sum", {conv(g, "conv", x, 4, 8, 3), skip}));
  g.add_output("y", conv(g, "conv2", sum, 8, 8, 3));
  run(g);
  // The Transpose that conv2 needed moved above the Add, onto its NCHW operand,
  // where conv's view cancelled: the Add runs in NHWC.
  const Node* add = find(g, "sum");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->outputs[0]->type.shape, (ir::Shape{1, 6, 6, 8}));
  EXPECT_EQ(add->inputs[0], find(g, "conv")->outputs[0]);
  ASSERT_NE(add->inputs[1]->producer, nullptr);
  EXPECT_EQ(add->inputs[1]->producer->inputs[0], skip);
  EXPECT_EQ(find(g, "conv2")->inputs[0], add->outputs[0]);
  EXPECT_EQ(count(g, OpKind::kTranspose), 3) << g.str();  // x, skip, conv2's output
}

TEST(ConvertLayout, ConvsFedByAnNchwInt8ConvStayNchw) {
  // A quantized MobileNetV2 block after lower_qdq: an int8 1x1 conv (no NHWC
  // kernel) feeds an fp32 depthwise conv and its 1x1 projection. In NHWC they
  // would cost a Transpose of the int8 conv's output, for one stretch only.
  Graph g;
  Value* x = g.add_input("x", {DType::kU8, {1, 4, 6, 6}});
  Value* w = g.add_constant("expand_w", Tensor(ir::TensorType{DType::kI8, {8, 4, 1, 1}}, std::vector<uint8_t>(32, 1)));
  Value* xz = g.add_constant("x_zero", Tensor(ir::TensorType{DType::kU8, {}}, std::vector<uint8_t>{128}));
  Value* wz = g.add_constant("w_zero", Tensor(ir::TensorType{DType::kI8, {}}, std::vector<uint8_t>{0}));
  Value* acc = must(g.add(OpKind::kConvInteger, "expand", {x, w, xz, wz}, Attrs().set("pads", Ints(4, 0))));
  Value* f = must(g.add(OpKind::kCast, "to_float", {acc}, Attrs().set("to", int64_t(DType::kF32))));
  Value* dw = conv(g, "dw", must(g.add(OpKind::kRelu, "relu", {f})), 8, 8, 3, 8);
  g.add_output("y", conv(g, "project", dw, 8, 4, 1));
  run(g);
  EXPECT_EQ(count(g, OpKind::kTranspose), 0) << g.str();
  EXPECT_FALSE(ops::is_channels_last(*find(g, "dw")));
  EXPECT_FALSE(ops::is_channels_last(*find(g, "project")));

  // The same convs on a float input move to NHWC.
  Graph h;
  Value* y = h.add_input("x", {DType::kF32, {1, 8, 6, 6}});
  h.add_output("y", conv(h, "project", conv(h, "dw", y, 8, 8, 3, 8), 8, 4, 1));
  run(h);
  EXPECT_TRUE(ops::is_channels_last(*find(h, "dw")));
  EXPECT_TRUE(ops::is_channels_last(*find(h, "project")));
}

TEST(ConvertLayout, NchwStretchBetweenNhwcValuesMovesToNhwc) {
  // ConvTranspose(kernel 2, stride 2) as the frontend imports it: a MatMul over
  // NHWC rows, the tiles placed by a 6-D Transpose, a bias Add; then a skip Concat.
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1, 4, 4, 4}});
  Value* x2 = g.add_input("x2", {DType::kF32, {1, 4, 8, 8}});
  Value* c = conv(g, "conv", x, 4, 8, 3);
  Value* rows_t = must(g.add(OpKind::kTranspose, "to_rows", {c}, Attrs().set("perm", Ints{0, 2, 3, 1})));
  Value* rows = must(g.add(OpKind::kReshape, "rows", {rows_t}, Attrs().set("shape", Ints{16, 8})));
  Value* tiles = must(g.add(OpKind::kMatMul, "tiles", {rows, g.add_constant("up_w", ramp({8, 16}))}));
  Value* t6 = must(g.add(OpKind::kReshape, "tiles_6d", {tiles}, Attrs().set("shape", Ints{1, 4, 4, 4, 2, 2})));
  Value* placed = must(g.add(OpKind::kTranspose, "placed", {t6}, Attrs().set("perm", Ints{0, 3, 1, 4, 2, 5})));
  Value* up = must(g.add(OpKind::kReshape, "up", {placed}, Attrs().set("shape", Ints{1, 4, 8, 8})));
  Value* biased = must(g.add(OpKind::kAdd, "bias", {up, g.add_constant("up_b", ramp({4, 1, 1}))}));
  Value* cat = must(g.add(OpKind::kConcat, "cat", {biased, conv(g, "side", x2, 4, 4, 3)}, Attrs().set("axis", int64_t{1})));
  g.add_output("y", conv(g, "head", cat, 8, 2, 1));
  run(g);
  // Left: the two model inputs', the tile placement (now straight to NHWC), the model output's.
  EXPECT_EQ(count(g, OpKind::kTranspose), 4) << g.str();
  const Node* rows_node = find(g, "rows");
  EXPECT_EQ(rows_node->inputs[0], find(g, "conv")->outputs[0]);  // the frontend's own Transpose cancelled
  const Node* up_node = find(g, "up");
  ASSERT_NE(up_node->inputs[0]->producer, nullptr);
  EXPECT_EQ(up_node->inputs[0]->producer->attrs.get_ints("perm"), (Ints{0, 1, 4, 2, 5, 3}));
  EXPECT_EQ(up_node->outputs[0]->type.shape, (ir::Shape{1, 8, 8, 4}));
  EXPECT_EQ(find(g, "bias")->inputs[1]->type.shape, (ir::Shape{1, 1, 1, 4}));
  EXPECT_EQ(find(g, "cat")->attrs.get_int("axis"), 3);
  EXPECT_EQ(find(g, "head")->inputs[0], find(g, "cat")->outputs[0]);
}

TEST(ConvertLayout, ConsecutiveConvsAndModelTransposesCancel) {
  // ViT's patch embedding: Conv -> Reshape [N, C, H*W] -> Transpose [0, 2, 1].
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1, 3, 8, 8}});
  Value* c = conv(g, "conv2", conv(g, "conv1", x, 3, 8, 3), 8, 16, 1);
  Value* r = must(g.add(OpKind::kReshape, "flatten", {c}, Attrs().set("shape", Ints{1, 16, 64})));
  g.add_output("tokens", must(g.add(OpKind::kTranspose, "tokens", {r}, Attrs().set("perm", Ints{0, 2, 1}))));
  run(g);
  EXPECT_EQ(count(g, OpKind::kTranspose), 1) << g.str();  // only the input's
  EXPECT_EQ(find(g, "conv2")->inputs[0], find(g, "conv1")->outputs[0]);
  const Node* flatten = find(g, "flatten");
  EXPECT_EQ(flatten->outputs[0]->type.shape, (ir::Shape{1, 64, 16}));
  EXPECT_EQ(g.outputs()[0].value, flatten->outputs[0]);
}

TEST(ConvertLayout, ConcatResizeAndConvTransposeFollow) {
  // U-Net up-steps: ConvTranspose; a Resize as Gather + constant coefficients; a skip Concat.
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1, 4, 4, 4}});
  Value* a = conv(g, "conv", x, 4, 6, 3);
  Value* up = must(g.add(OpKind::kConvTranspose, "up",
                         {a, g.add_constant("up_w", ramp({6, 3, 2, 2})), g.add_constant("up_b", ramp({3}))},
                         Attrs().set("strides", Ints{2, 2})));
  Value* rows = must(g.add(OpKind::kGather, "rows", {a, g.add_constant("idx", Tensor::from_i64({8}, {0, 0, 1, 1, 2, 2, 3, 3}))},
                           Attrs().set("axis", int64_t{2})));
  Value* weighted = must(g.add(OpKind::kMul, "weighted", {rows, g.add_constant("coeff", ramp({8, 1}))}));
  Value* cols = must(g.add(OpKind::kGather, "cols", {weighted, g.add_constant("idx2", Tensor::from_i64({8}, {0, 0, 1, 1, 2, 2, 3, 3}))},
                           Attrs().set("axis", int64_t{3})));
  Value* cat = must(g.add(OpKind::kConcat, "cat", {up, cols}, Attrs().set("axis", int64_t{1})));
  g.add_output("y", conv(g, "head", cat, 9, 2, 1));
  run(g);
  EXPECT_EQ(count(g, OpKind::kTranspose), 2) << g.str();  // model input and output only
  EXPECT_TRUE(ops::is_channels_last(*find(g, "up")));
  EXPECT_EQ(find(g, "rows")->attrs.get_int("axis"), 1);
  EXPECT_EQ(find(g, "cols")->attrs.get_int("axis"), 2);
  EXPECT_EQ(find(g, "cat")->attrs.get_int("axis"), 3);
  EXPECT_EQ(find(g, "weighted")->inputs[1]->type.shape, (ir::Shape{1, 8, 1, 1}));
  EXPECT_EQ(g.outputs()[0].value->type.shape, (ir::Shape{1, 2, 8, 8}));
}

}  // namespace
}  // namespace kiln::passes
