// Tests of ONNX op -> core op mapping: Gemm, Conv/pools, Clip, BatchNormalization,
// Softmax, Pow, variadic ops, Dropout (frontend/onnx/*.cpp mappers).
#include <cmath>

#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;

class OpMappingTest : public FrontendTest {};

TEST_F(OpMappingTest, GemmWithFlagsAlphaBeta) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "a", {"4", "2"});  // transA: 2x4 after transpose
  add_f32_initializer(m, "b", {3, 4}, std::vector<float>(12, 1.f));  // transB: 4x3
  add_f32_initializer(m, "c", {3}, {1, 2, 3});
  auto* n = add_node(m, "Gemm", {"a", "b", "c"}, {"y"}, "fc");
  set_attr(n, "transA", int64_t{1});
  set_attr(n, "transB", int64_t{1});
  set_attr(n, "alpha", 0.5f);
  set_attr(n, "beta", 2.0f);
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // The transpose of the constant B and beta * C fold while the model is read.
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Transpose", "MatMul", "Mul", "Add"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_ints("perm"), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(g->nodes()[1]->inputs[1]->type.str(), "float32[4x3]");  // B transposed
  const ir::Value* y = output(*g, "y");
  EXPECT_EQ(y->type.str(), "float32[2x3]");
  EXPECT_EQ(y->producer->op, OpKind::kAdd);
  EXPECT_EQ(y->producer->name, "fc");
  EXPECT_EQ(g->nodes()[2]->inputs[1]->constant->get_f64(0), 0.5);  // alpha
  EXPECT_EQ(f32_values(*g->nodes()[3]->inputs[1]->constant), (std::vector<float>{2, 4, 6}));  // beta * C
}

TEST_F(OpMappingTest, PlainGemmIsMatMulAdd) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "a", {"1", "4"});
  add_f32_initializer(m, "b", {4, 3}, std::vector<float>(12, 1.f));
  add_f32_initializer(m, "c", {3}, {1, 2, 3});
  add_node(m, "Gemm", {"a", "b", "c"}, {"y"}, "fc");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"MatMul", "Add"}));
}

TEST_F(OpMappingTest, ConvSameUpperPads) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"1", "3", "7", "7"});
  add_f32_initializer(m, "w", {8, 3, 3, 3}, std::vector<float>(8 * 27, 0.1f));
  auto* n = add_node(m, "Conv", {"x", "w"}, {"y"}, "conv");
  set_attr(n, "auto_pad", std::string("SAME_UPPER"));
  set_attr(n, "strides", std::vector<int64_t>{2, 2});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* conv = only_node(*g, OpKind::kConv);
  // out = ceil(7/2) = 4; total pad = (4-1)*2 + 3 - 7 = 2 -> 1 before, 1 after.
  EXPECT_EQ(conv->attrs.get_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(conv->attrs.get_ints("strides"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(conv->attrs.get_ints("dilations"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv->attrs.get_int("group"), 1);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 8, 4, 4}));
}

TEST_F(OpMappingTest, ConvSameLowerPutsExtraPadFirst) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"1", "1", "6", "6"});
  add_f32_initializer(m, "w", {1, 1, 2, 2}, std::vector<float>(4, 1.f));
  auto* n = add_node(m, "Conv", {"x", "w"}, {"y"}, "conv");
  set_attr(n, "auto_pad", std::string("SAME_LOWER"));
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(only_node(*g, OpKind::kConv)->attrs.get_ints("pads"), (std::vector<int64_t>{1, 1, 0, 0}));
}

TEST_F(OpMappingTest, PoolsAndGlobalPools) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"1", "2", "8", "8"});
  auto* mp = add_node(m, "MaxPool", {"x"}, {"p"}, "pool");
  set_attr(mp, "kernel_shape", std::vector<int64_t>{3, 3});
  set_attr(mp, "strides", std::vector<int64_t>{2, 2});
  set_attr(mp, "pads", std::vector<int64_t>{1, 1, 1, 1});
  set_attr(mp, "storage_order", int64_t{0});
  auto* ap = add_node(m, "AveragePool", {"p"}, {"q"}, "avg");
  set_attr(ap, "kernel_shape", std::vector<int64_t>{2, 2});
  set_attr(ap, "count_include_pad", int64_t{1});
  add_node(m, "GlobalAveragePool", {"q"}, {"y"}, "gap");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"MaxPool", "AveragePool", "ReduceMean"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_ints("kernel"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(g->nodes()[1]->attrs.get_int("count_include_pad"), 1);
  EXPECT_EQ(g->nodes()[2]->attrs.get_ints("axes"), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(g->nodes()[2]->attrs.get_int("keepdims"), 1);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 2, 1, 1}));
}

TEST_F(OpMappingTest, MaxPoolIndicesOutput) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"1", "2", "8", "8"});
  auto* mp = add_node(m, "MaxPool", {"x"}, {"p", "idx"}, "pool");
  set_attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  set_attr(mp, "storage_order", int64_t{1});
  add_output(m, "idx");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* idx = only_node(*g, OpKind::kMaxPoolIndices);
  EXPECT_EQ(idx->attrs.get_int("storage_order"), 1);
  EXPECT_EQ(output(*g, "idx")->type.str(), "int64[1x2x7x7]");
  mp->mutable_attribute(1)->set_i(2);
  EXPECT_EQ(import_error(m), "MaxPool 'pool': storage_order 2 must be 0 or 1");
}

TEST_F(OpMappingTest, ClipAttributeForm) {
  onnx::ModelProto m = make_model(9);
  add_input(m, "x", {"4"});
  auto* n = add_node(m, "Clip", {"x"}, {"y"}, "clip");
  set_attr(n, "min", 0.0f);
  set_attr(n, "max", 6.0f);
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* clip = only_node(*g, OpKind::kClip);
  EXPECT_EQ(clip->attrs.get_float("min"), 0.0);
  EXPECT_EQ(clip->attrs.get_float("max"), 6.0);
  EXPECT_EQ(clip->inputs.size(), 1u);
}

TEST_F(OpMappingTest, ClipInputForm) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"4"});
  add_f32_initializer(m, "lo", {}, {-1.0f});
  add_node(m, "Clip", {"x", "lo"}, {"y"}, "clip");  // max absent: no upper bound
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* clip = only_node(*g, OpKind::kClip);
  EXPECT_EQ(clip->attrs.get_float("min"), -1.0);
  EXPECT_FALSE(clip->attrs.has("max"));
  EXPECT_EQ(clip->inputs.size(), 1u);
}

TEST_F(OpMappingTest, ClipNonConstantBoundIsMaxMin) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"4"});
  add_input(m, "hi", {});
  add_node(m, "Clip", {"x", "", "hi"}, {"y"}, "clip");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Min"}));
  onnx::ModelProto m2 = make_model(13);
  add_input(m2, "x", {"4"});
  add_input(m2, "lo", {});
  add_f32_initializer(m2, "hi", {}, {1.0f});
  add_node(m2, "Clip", {"x", "lo", "hi"}, {"y"}, "clip");
  add_output(m2, "y");
  auto g2 = import_ok(m2);
  ASSERT_TRUE(g2);
  EXPECT_EQ(op_names(*g2), (std::vector<std::string>{"Max", "Min"}));
}

TEST_F(OpMappingTest, BatchNormFoldsConstants) {
  onnx::ModelProto m = make_model(15);
  add_input(m, "x", {"1", "2", "3", "3"});
  add_f32_initializer(m, "scale", {2}, {1.0f, 2.0f});
  add_f32_initializer(m, "bias", {2}, {0.5f, -1.0f});
  add_f32_initializer(m, "mean", {2}, {1.0f, 3.0f});
  add_f32_initializer(m, "var", {2}, {4.0f, 0.25f});
  auto* n = add_node(m, "BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}, "bn");
  set_attr(n, "epsilon", 0.0f);
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Mul", "Add"}));
  const ir::Value* s = g->nodes()[0]->inputs[1];
  const ir::Value* t = g->nodes()[1]->inputs[1];
  ASSERT_TRUE(s->is_constant() && t->is_constant());
  EXPECT_EQ(s->type.shape, (ir::Shape{2, 1, 1}));
  // s = scale / sqrt(var) = {0.5, 4}; t = bias - mean * s = {0, -13}.
  EXPECT_EQ(f32_values(*s->constant), (std::vector<float>{0.5f, 4.0f}));
  EXPECT_EQ(f32_values(*t->constant), (std::vector<float>{0.0f, -13.0f}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 2, 3, 3}));
}

TEST_F(OpMappingTest, BatchNormWithRuntimeParamsBuildsExpression) {
  onnx::ModelProto m = make_model(15);
  add_input(m, "x", {"1", "2", "4"});
  add_input(m, "scale", {"2"});
  add_f32_initializer(m, "bias", {2}, {0.5f, -1.0f});
  add_f32_initializer(m, "mean", {2}, {1.0f, 3.0f});
  add_f32_initializer(m, "var", {2}, {4.0f, 0.25f});
  add_node(m, "BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}, "bn");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // sqrt(var + epsilon) folds while the model is read; the rest needs the scale.
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Div", "Mul", "Sub", "Reshape", "Reshape", "Mul", "Add"}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 2, 4}));
}

TEST_F(OpMappingTest, BatchNormTrainingOutputsUnsupported) {
  onnx::ModelProto m = make_model(15);
  add_input(m, "x", {"1", "2", "4"});
  for (const char* p : {"scale", "bias", "mean", "var"}) add_f32_initializer(m, p, {2}, {1.0f, 1.0f});
  add_node(m, "BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y", "rm", "rv"}, "bn");
  add_output(m, "rm");
  EXPECT_TRUE(contains(import_error(m), "BatchNormalization 'bn': the training-mode outputs"));
}

// Training mode normalizes by the batch statistics and updates the running ones.
TEST_F(OpMappingTest, BatchNormTrainingModeUsesBatchStatistics) {
  onnx::ModelProto m = make_model(15);
  add_input(m, "x", {"2", "2", "3"});
  for (const char* p : {"scale", "bias", "mean", "var"}) add_f32_initializer(m, p, {2}, {1.0f, 2.0f});
  auto* n = add_node(m, "BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y", "rm", "rv"}, "bn");
  set_attr(n, "training_mode", int64_t{1});
  set_attr(n, "momentum", 0.75f);
  add_output(m, "y");
  add_output(m, "rm");
  add_output(m, "rv");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  std::vector<const ir::Node*> means;
  for (const auto& node : g->nodes())
    if (node->op == OpKind::kReduceMean) means.push_back(node.get());
  ASSERT_EQ(means.size(), 2u);  // the batch mean and the (population) variance
  EXPECT_EQ(means[0]->attrs.get_ints("axes"), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(output(*g, "y")->type.str(), "float32[2x2x3]");
  EXPECT_EQ(output(*g, "rm")->type.str(), "float32[2]");
  EXPECT_EQ(output(*g, "rv")->type.str(), "float32[2]");
  // rm = mean * 0.75 + batch_mean * 0.25: the kept half is a folded constant.
  const ir::Node* rm = output(*g, "rm")->producer;
  ASSERT_EQ(rm->op, OpKind::kAdd);
  ASSERT_TRUE(rm->inputs[0]->is_constant());
  EXPECT_EQ(f32_values(*rm->inputs[0]->constant), (std::vector<float>{0.75f, 1.5f}));

  m.mutable_opset_import(0)->set_version(13);
  EXPECT_TRUE(contains(import_error(m), "training_mode is an attribute of opset 14 and later"));
}

TEST_F(OpMappingTest, SoftmaxOldOpsetCoercesTo2d) {
  onnx::ModelProto m = make_model(11);
  add_input(m, "x", {"2", "3", "4"});
  add_node(m, "Softmax", {"x"}, {"y"}, "sm");  // axis defaults to 1: over 3x4 jointly
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Reshape", "Softmax", "Reshape"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_ints("shape"), (std::vector<int64_t>{2, 12}));
  EXPECT_EQ(g->nodes()[1]->attrs.get_int("axis"), 1);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 3, 4}));
}

TEST_F(OpMappingTest, SoftmaxNewOpsetNormalizesAxis) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "3", "4"});
  auto* n = add_node(m, "LogSoftmax", {"x"}, {"y"}, "sm");
  set_attr(n, "axis", int64_t{-2});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(only_node(*g, OpKind::kLogSoftmax)->attrs.get_int("axis"), 1);
}

TEST_F(OpMappingTest, PowCastsExponent) {
  onnx::ModelProto m = make_model(15);
  add_input(m, "x", {"3"});
  add_input(m, "e", {"3"}, onnx::TensorProto::INT64);
  add_node(m, "Pow", {"x", "e"}, {"y"}, "pow");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Cast", "Pow"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_int("to"), static_cast<int64_t>(DType::kF32));
}

TEST_F(OpMappingTest, VariadicOpsChain) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "a", {"3"});
  add_input(m, "b", {"3"});
  add_input(m, "c", {"3"});
  add_node(m, "Max", {"a", "b", "c"}, {"mx"}, "max");
  add_node(m, "Mean", {"a", "b"}, {"mean"}, "mean");
  add_output(m, "mx");
  add_output(m, "mean");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Max", "Max", "Add", "Div"}));
  EXPECT_EQ(g->nodes()[3]->inputs[1]->constant->get_f64(0), 2.0);
}

TEST_F(OpMappingTest, ActivationDefaults) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"3"});
  add_node(m, "LeakyRelu", {"x"}, {"a"}, "lr");
  add_node(m, "HardSigmoid", {"a"}, {"b"}, "hs");
  add_output(m, "b");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_DOUBLE_EQ(g->nodes()[0]->attrs.get_float("alpha"), 0.01);
  EXPECT_DOUBLE_EQ(g->nodes()[1]->attrs.get_float("alpha"), 0.2);
  EXPECT_DOUBLE_EQ(g->nodes()[1]->attrs.get_float("beta"), 0.5);
}

TEST_F(OpMappingTest, DropoutIsIdentityWithAnAllTrueMask) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"3"});
  add_node(m, "Dropout", {"x"}, {"d", "mask"}, "drop");
  add_node(m, "Relu", {"d"}, {"y"}, "relu");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Relu"}));
  EXPECT_EQ(g->nodes()[0]->inputs[0], g->inputs()[0]);

  add_output(m, "mask");
  g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Value* mask = output(*g, "mask");
  EXPECT_EQ(mask->type.str(), "bool[3]");
  ASSERT_TRUE(mask->is_constant());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(mask->constant->get_i64(i), 1);
  // Opset 7's mask has x's type (ones).
  m.mutable_opset_import(0)->set_version(7);
  g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "mask")->type.str(), "float32[3]");
}

// Training mode keeps everything when the ratio is 0 (the ONNX reference) and is
// an error for any other ratio: it drops at random.
TEST_F(OpMappingTest, DropoutTrainingModeWithZeroRatioIsIdentity) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "2"});
  add_f32_initializer(m, "ratio", {}, {0.0f});
  auto* train = m.mutable_graph()->add_initializer();
  train->set_name("train");
  train->set_data_type(onnx::TensorProto::BOOL);
  train->add_int32_data(1);
  add_node(m, "Dropout", {"x", "ratio", "train"}, {"y", "mask"}, "drop");
  add_output(m, "y");
  add_output(m, "mask");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y"), g->inputs()[0]);
  EXPECT_EQ(output(*g, "mask")->type.str(), "bool[2x2]");
  m.mutable_graph()->mutable_initializer(0)->set_float_data(0, 0.25f);
  EXPECT_EQ(import_error(m),
            "Dropout 'drop': training mode with ratio 0.25 (it drops elements at random) is not supported");
  // Without a ratio input the ratio is 0.5.
  m.mutable_graph()->mutable_node(0)->set_input(1, "");
  EXPECT_TRUE(contains(import_error(m), "training mode with ratio 0.5 "));
}

TEST_F(OpMappingTest, DropoutTrainingModeUnsupported) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"3"});
  add_input(m, "train", {}, onnx::TensorProto::BOOL);
  add_node(m, "Dropout", {"x", "", "train"}, {"y"}, "drop");
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "Dropout 'drop': a non-constant training_mode input is not supported");
}

TEST_F(OpMappingTest, LayerNormalizationOverTrailingAxes) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"2", "5", "8"});
  add_f32_initializer(m, "gamma", {8}, std::vector<float>(8, 1.f));
  add_f32_initializer(m, "beta", {8}, std::vector<float>(8, 0.f));
  add_node(m, "LayerNormalization", {"x", "gamma", "beta"}, {"y"}, "ln");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // One LayerNorm core op (a single-pass kernel) over the last axis.
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"LayerNorm"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_float("epsilon"), 1e-5);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 5, 8}));
}

TEST_F(OpMappingTest, LayerNormalizationOverSeveralAxesReshapesToOne) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"2", "5", "8"});
  add_f32_initializer(m, "gamma", {5, 8}, std::vector<float>(40, 1.f));
  auto* n = add_node(m, "LayerNormalization", {"x", "gamma"}, {"y"}, "ln");
  set_attr(n, "axis", int64_t{1});
  set_attr(n, "epsilon", 0.25f);
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // x as rows of 40, the LayerNorm, the result reshaped back (the constant scale flattened while read).
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Reshape", "LayerNorm", "Reshape"}));
  const ir::Node* ln = only_node(*g, OpKind::kLayerNorm);
  EXPECT_EQ(ln->inputs[0]->type.shape, (ir::Shape{2, 40}));
  EXPECT_TRUE(ln->inputs[1]->is_constant());
  EXPECT_EQ(ln->inputs[1]->type.shape, (ir::Shape{40}));
  EXPECT_EQ(ln->attrs.get_float("epsilon"), 0.25);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 5, 8}));
}

TEST_F(OpMappingTest, LayerNormalizationWithStatisticsDecomposes) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"2", "5", "8"});
  add_f32_initializer(m, "gamma", {8}, std::vector<float>(8, 1.f));
  add_f32_initializer(m, "beta", {8}, std::vector<float>(8, 0.f));
  add_node(m, "LayerNormalization", {"x", "gamma", "beta"}, {"y", "mean"}, "ln");
  add_output(m, "y");
  add_output(m, "mean");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Div",
                                                     "Mul", "Add"}));
  EXPECT_EQ(g->nodes()[0]->attrs.get_ints("axes"), (std::vector<int64_t>{2}));
  EXPECT_EQ(output(*g, "mean")->type.shape, (ir::Shape{2, 5, 1}));
}

TEST_F(OpMappingTest, SplitIntoSlices) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "x", {"2", "10"});
  add_i64_initializer(m, "sizes", {3}, {2, 3, 5});
  set_attr(add_node(m, "Split", {"x", "sizes"}, {"a", "b", "c"}, "split"), "axis", int64_t{-1});
  add_output(m, "a");
  add_output(m, "c");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Slice", "Slice"}));  // b is unused
  EXPECT_EQ(output(*g, "a")->type.shape, (ir::Shape{2, 2}));
  EXPECT_EQ(output(*g, "c")->type.shape, (ir::Shape{2, 5}));
  EXPECT_EQ(output(*g, "c")->producer->attrs.get_ints("starts"), (std::vector<int64_t>{0, 5}));
}

TEST_F(OpMappingTest, SplitEqualPartsOpset18) {
  onnx::ModelProto m = make_model(18);
  add_input(m, "x", {"7"});
  set_attr(add_node(m, "Split", {"x"}, {"a", "b", "c"}, "split"), "num_outputs", int64_t{3});
  add_output(m, "a");
  add_output(m, "c");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "a")->type.shape, (ir::Shape{3}));
  EXPECT_EQ(output(*g, "c")->type.shape, (ir::Shape{1}));
}

TEST_F(OpMappingTest, LessOrEqualIsNotGreater) {
  onnx::ModelProto m = make_model(13);
  add_input(m, "a", {"3"});
  add_input(m, "b", {"3"});
  add_node(m, "LessOrEqual", {"a", "b"}, {"y"}, "le");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Greater", "Not"}));
  EXPECT_EQ(output(*g, "y")->type.dtype, DType::kBool);
}

}  // namespace
}  // namespace kiln::frontend::testing
