// Tests of the vision and normalization mappers: 1-D Conv, ConvTranspose pads,
// LpPool, Resize, Pad, DepthToSpace/SpaceToDepth and the composed norms
// (frontend/onnx/conv_pool.cpp, resize.cpp, vision_ops.cpp, norm_ops.cpp).
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;
using Ints = std::vector<int64_t>;

class VisionMappingTest : public FrontendTest {};

// The constant int64 indices of the index-th Gather node.
Ints gather_indices(const ir::Graph& g, int index) {
  int seen = 0;
  for (const auto& n : g.nodes())
    if (n->op == OpKind::kGather && seen++ == index) return n->inputs[1]->constant->to_i64_vector();
  ADD_FAILURE() << "no Gather " << index;
  return {};
}

TEST_F(VisionMappingTest, Conv1dRunsAsConv2d) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"1", "3", "10"});
  add_f32_initializer(m, "w", {4, 3, 3}, std::vector<float>(36, 1.f));
  auto* n = add_node(m, "Conv", {"x", "w"}, {"y"}, "conv1d");
  set_attr(n, "pads", Ints{1, 2});
  set_attr(n, "strides", Ints{2});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* conv = only_node(*g, OpKind::kConv);
  EXPECT_EQ(conv->inputs[0]->type.shape, (ir::Shape{1, 3, 1, 10}));
  EXPECT_EQ(conv->inputs[1]->type.shape, (ir::Shape{4, 3, 1, 3}));
  EXPECT_EQ(conv->attrs.get_ints("pads"), (Ints{0, 1, 0, 2}));
  EXPECT_EQ(conv->attrs.get_ints("strides"), (Ints{1, 2}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 4, 6}));  // (10 + 3 - 3) / 2 + 1
}

TEST_F(VisionMappingTest, Conv3dIsUnsupported) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"1", "3", "4", "4", "4"});
  add_f32_initializer(m, "w", {2, 3, 1, 1, 1}, std::vector<float>(6, 1.f));
  add_node(m, "Conv", {"x", "w"}, {"y"}, "conv3d");
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "Conv 'conv3d': 3-D convolution (input float32[1x3x4x4x4]) is not supported");
}

TEST_F(VisionMappingTest, ConvTransposeOutputShapeSetsPads) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"1", "1", "3", "3"});
  add_f32_initializer(m, "w", {1, 2, 3, 3}, std::vector<float>(18, 1.f));
  auto* n = add_node(m, "ConvTranspose", {"x", "w"}, {"y"}, "up");
  set_attr(n, "strides", Ints{3, 2});
  set_attr(n, "output_shape", Ints{10, 8});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* ct = only_node(*g, OpKind::kConvTranspose);
  // Full sizes 9 and 7: total pads -1 and -1 become output_padding at the end.
  EXPECT_EQ(ct->attrs.get_ints("pads"), (Ints{0, 0, 0, 0}));
  EXPECT_EQ(ct->attrs.get_ints("output_padding"), (Ints{1, 1}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 2, 10, 8}));
}

TEST_F(VisionMappingTest, ConvTransposeWithKernelEqualToStrideIsMatMul) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"1", "3", "4", "5"});
  add_f32_initializer(m, "w", {3, 2, 2, 2}, std::vector<float>(24, 1.f));
  add_f32_initializer(m, "b", {2}, {1, 2});
  auto* n = add_node(m, "ConvTranspose", {"x", "w", "b"}, {"y"}, "up");
  set_attr(n, "strides", Ints{2, 2});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // (The weight and bias Reshapes fold while the model is read.)
  EXPECT_EQ(op_names(*g),
            (std::vector<std::string>{"Transpose", "Reshape", "MatMul", "Reshape", "Transpose", "Reshape", "Add"}));
  EXPECT_EQ(only_node(*g, OpKind::kMatMul)->outputs[0]->type.shape, (ir::Shape{20, 8}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 2, 8, 10}));
  set_attr(n, "pads", Ints{1, 0, 0, 0});  // pads: the gather lowering
  g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"ConvTranspose"}));
}

TEST_F(VisionMappingTest, LpPoolAndGlobalLpPool) {
  onnx::ModelProto m = make_model(18);
  add_input(m, "x", {"1", "2", "6"});
  auto* lp = add_node(m, "LpPool", {"x"}, {"p"}, "lp");
  set_attr(lp, "kernel_shape", Ints{2});
  set_attr(lp, "p", int64_t{3});
  add_node(m, "GlobalLpPool", {"p"}, {"y"}, "glp");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // GlobalLpPool's default p = 2: a square and a square root.
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"LpPool", "Abs", "Mul", "ReduceSum", "Sqrt"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_int("p"), 3);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 2, 1}));
}

TEST_F(VisionMappingTest, ResizeNearestIsOneGatherPerAxis) {
  onnx::ModelProto m = make_model(19);
  add_input(m, "x", {"1", "1", "2", "3"});
  add_f32_initializer(m, "scales", {4}, {1, 1, 2, 0.5f});
  add_node(m, "Resize", {"x", "", "scales"}, {"y"}, "resize");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Gather", "Gather"}));
  // half_pixel, round_prefer_floor: 2 -> 4 reads -0.25, 0.25, 0.75, 1.25; 3 -> 1 reads 0.5 (ties go down).
  EXPECT_EQ(gather_indices(*g, 0), (Ints{0, 0, 1, 1}));
  EXPECT_EQ(gather_indices(*g, 1), (Ints{0}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 1, 4, 1}));
}

TEST_F(VisionMappingTest, ResizeLinearAlignCornersWeights) {
  onnx::ModelProto m = make_model(19);
  add_input(m, "x", {"1", "3"});
  add_i64_initializer(m, "sizes", {1}, {5});
  auto* n = add_node(m, "Resize", {"x", "", "", "sizes"}, {"y"}, "resize");
  set_attr(n, "mode", std::string("linear"));
  set_attr(n, "coordinate_transformation_mode", std::string("align_corners"));
  set_attr(n, "axes", Ints{1});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Gather", "Mul", "Gather", "Mul", "Add"}));
  // Positions 0, 0.5, 1, 1.5, 2: left taps (an integer position takes ratio 1 on its left neighbour).
  EXPECT_EQ(gather_indices(*g, 0), (Ints{0, 0, 0, 1, 1}));
  EXPECT_EQ(gather_indices(*g, 1), (Ints{0, 1, 1, 2, 2}));
  EXPECT_EQ(f32_values(*g->nodes()[1]->inputs[1]->constant), (std::vector<float>{0, 0.5f, 0, 0.5f, 0}));
  EXPECT_EQ(f32_values(*g->nodes()[3]->inputs[1]->constant), (std::vector<float>{1, 0.5f, 1, 0.5f, 1}));
}

TEST_F(VisionMappingTest, ResizeAntialiasWidensTheWindow) {
  onnx::ModelProto m = make_model(19);
  add_input(m, "x", {"1", "8"});
  add_f32_initializer(m, "scales", {1}, {0.5f});
  auto* n = add_node(m, "Resize", {"x", "", "scales"}, {"y"}, "resize");
  set_attr(n, "mode", std::string("linear"));
  set_attr(n, "antialias", int64_t{1});
  set_attr(n, "axes", Ints{1});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // Scale 1/2 stretches the triangle to 4 taps; position 0 reads 0.5: taps -1..2
  // (clamped) weighted 1/8, 3/8, 3/8, 1/8.
  EXPECT_EQ(gather_indices(*g, 0), (Ints{0, 1, 3, 5}));
  EXPECT_EQ(gather_indices(*g, 3), (Ints{2, 4, 6, 7}));
  EXPECT_EQ(f32_values(*g->nodes()[1]->inputs[1]->constant), (std::vector<float>{0.125f, 0.125f, 0.125f, 0.125f}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 4}));
}

TEST_F(VisionMappingTest, ResizeErrors) {
  onnx::ModelProto m = make_model(19);
  add_input(m, "x", {"1", "1", "4", "4"});
  add_f32_initializer(m, "scales", {4}, {1, 1, 0.5f, 0.5f});
  auto* n = add_node(m, "Resize", {"x", "", "scales"}, {"y"}, "resize");
  set_attr(n, "antialias", int64_t{1});
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "Resize 'resize': antialias needs mode linear or cubic");
  n->clear_attribute();
  set_attr(n, "coordinate_transformation_mode", std::string("diagonal"));
  EXPECT_EQ(import_error(m), "Resize 'resize': unknown coordinate_transformation_mode 'diagonal'");
  n->clear_attribute();
  m.mutable_graph()->mutable_initializer(0)->set_float_data(3, 1e30f);  // a hostile scale
  EXPECT_TRUE(contains(import_error(m), "must be positive and keep the axis under 2^31"));
}

TEST_F(VisionMappingTest, PadModes) {
  onnx::ModelProto m = make_model(18);
  add_input(m, "x", {"1", "4"});
  add_i64_initializer(m, "pads", {2}, {2, 3});
  add_i64_initializer(m, "axes", {1}, {-1});
  auto* n = add_node(m, "Pad", {"x", "pads", "", "axes"}, {"y"}, "pad");
  set_attr(n, "mode", std::string("reflect"));
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(gather_indices(*g, 0), (Ints{2, 1, 0, 1, 2, 3, 2, 1, 0}));
  n->mutable_attribute(0)->set_s("wrap");
  g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(gather_indices(*g, 0), (Ints{2, 3, 0, 1, 2, 3, 0, 1, 2}));
  n->mutable_attribute(0)->set_s("constant");
  g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Gather", "Where"}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 9}));
  n->mutable_attribute(0)->set_s("mirror");
  EXPECT_EQ(import_error(m), "Pad 'pad': unknown mode 'mirror'");
  n->mutable_attribute(0)->set_s("edge");
  m.mutable_graph()->mutable_initializer(0)->set_int64_data(1, int64_t{1} << 40);
  EXPECT_EQ(import_error(m), "Pad 'pad': pad 1099511627776 is out of range (|pad| < 2^31)");
}

TEST_F(VisionMappingTest, PadValueInputAndOldAttributeForm) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3"});
  add_input(m, "v", {});
  add_i64_initializer(m, "pads", {4}, {0, 1, -1, 0});
  add_node(m, "Pad", {"x", "pads", "v"}, {"y"}, "pad");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // The negative end pad crops a row first; the fill is the runtime value v.
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Slice", "Gather", "Where"}));
  EXPECT_EQ(g->nodes()[2]->inputs[2], g->inputs()[1]);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 4}));

  onnx::ModelProto old = make_model(9);
  add_input(old, "x", {"2", "3"});
  auto* n = add_node(old, "Pad", {"x"}, {"y"}, "pad");
  set_attr(n, "pads", Ints{1, 0, 0, 2});
  set_attr(n, "mode", std::string("edge"));
  add_output(old, "y");
  g = import_ok(old);
  ASSERT_TRUE(g);
  EXPECT_EQ(gather_indices(*g, 0), (Ints{0, 0, 1}));
  EXPECT_EQ(gather_indices(*g, 1), (Ints{0, 1, 2, 2, 2}));
}

TEST_F(VisionMappingTest, UpsampleScalesAttributeIsAsymmetricFloor) {
  onnx::ModelProto m = make_model(7);
  add_input(m, "x", {"1", "1", "2", "2"});
  auto* n = add_node(m, "Upsample", {"x"}, {"y"}, "up");
  auto* a = n->add_attribute();
  a->set_name("scales");
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float v : {1.f, 1.f, 2.f, 3.f}) a->add_floats(v);
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(gather_indices(*g, 0), (Ints{0, 0, 1, 1}));
  EXPECT_EQ(gather_indices(*g, 1), (Ints{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 1, 4, 6}));
}

TEST_F(VisionMappingTest, DepthToSpaceAndBack) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"1", "8", "2", "3"});
  auto* d = add_node(m, "DepthToSpace", {"x"}, {"s"}, "d2s");
  set_attr(d, "blocksize", int64_t{2});
  set_attr(d, "mode", std::string("CRD"));
  auto* s = add_node(m, "SpaceToDepth", {"s"}, {"y"}, "s2d");
  set_attr(s, "blocksize", int64_t{2});
  add_output(m, "y");
  add_output(m, "s");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Reshape", "Transpose", "Reshape", "Reshape", "Transpose", "Reshape"}));
  EXPECT_EQ(g->nodes()[1]->attrs.get_ints("perm"), (Ints{0, 1, 4, 2, 5, 3}));
  EXPECT_EQ(output(*g, "s")->type.shape, (ir::Shape{1, 2, 4, 6}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 8, 2, 3}));
}

TEST_F(VisionMappingTest, GroupNormPerGroupScaleExpands) {
  onnx::ModelProto m = make_model(18);
  add_input(m, "x", {"2", "4", "3"});
  add_f32_initializer(m, "scale", {2}, {1, 2});
  add_f32_initializer(m, "bias", {2}, {0, 1});
  auto* n = add_node(m, "GroupNormalization", {"x", "scale", "bias"}, {"y"}, "gn");
  set_attr(n, "num_groups", int64_t{2});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 4, 3}));
  const ir::Node* mean = nullptr;
  for (const auto& node : g->nodes())
    if (node->op == OpKind::kReduceMean) mean = node.get();
  ASSERT_TRUE(mean);
  EXPECT_EQ(mean->inputs[0]->type.shape, (ir::Shape{2, 2, 6}));
  n->mutable_attribute(0)->set_i(3);
  EXPECT_EQ(import_error(m),
            "GroupNormalization 'gn': num_groups 3 must be positive and divide the channels of float32[2x4x3]");
}

TEST_F(VisionMappingTest, LrnIsAveragePoolOverChannels) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"1", "5", "2", "2"});
  auto* n = add_node(m, "LRN", {"x"}, {"y"}, "lrn");
  set_attr(n, "size", int64_t{4});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* pool = only_node(*g, OpKind::kAveragePool);
  EXPECT_EQ(pool->inputs[0]->type.shape, (ir::Shape{1, 1, 5, 4}));
  EXPECT_EQ(pool->attrs.get_ints("pads"), (Ints{1, 0, 2, 0}));
  EXPECT_EQ(pool->attrs.get_int("count_include_pad"), 1);
}

}  // namespace
}  // namespace kiln::frontend::testing
