// Tests of the import driver: unsupported-op reports, graph inputs and their
// shapes, initializers, outputs (frontend/onnx/import.cpp).
#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

class ImportTest : public FrontendTest {};

TEST_F(ImportTest, ListsAllUnsupportedOps) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"1", "4"});
  add_node(m, "FooBar", {"x"}, {"a"}, "n1");
  add_node(m, "Relu", {"a"}, {"b"}, "relu");
  add_node(m, "NonMaxSuppression", {"b"}, {"c"}, "nms");
  add_node(m, "NonMaxSuppression", {"b"}, {"d"}, "");  // no name: named by its output
  auto* custom = add_node(m, "Gelu", {"b"}, {"e"}, "g");
  custom->set_domain("com.microsoft");
  add_output(m, "c");
  EXPECT_EQ(import_error(m),
            "unsupported operators: FooBar (domain 'ai.onnx', opset 17) at node 'n1'; "
            "NonMaxSuppression (domain 'ai.onnx', opset 17) at node 'nms', 'd'; "
            "Gelu (domain 'com.microsoft', no opset import) at node 'g'");
}

TEST_F(ImportTest, LongNodeListsAreCut) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"1"});
  for (int i = 0; i < 11; ++i)
    add_node(m, "StringNormalizer", {"x"}, {"y" + std::to_string(i)}, "sn" + std::to_string(i));
  add_output(m, "y0");
  EXPECT_EQ(import_error(m),
            "unsupported operators: StringNormalizer (domain 'ai.onnx', opset 17) at node 'sn0', 'sn1', 'sn2', "
            "'sn3', 'sn4', 'sn5', 'sn6', 'sn7' and 3 more");
}

TEST_F(ImportTest, StaticInputsAndOutputs) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"2", "3"});
  add_node(m, "Relu", {"x"}, {"y"}, "relu");
  add_output(m, "y");
  add_output(m, "x");  // an output that is an input is kept as is
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  ASSERT_EQ(g->inputs().size(), 1u);
  EXPECT_EQ(g->inputs()[0]->type.str(), "float32[2x3]");
  EXPECT_EQ(g->outputs().size(), 2u);
  EXPECT_EQ(output(*g, "y")->name, "y");
  EXPECT_EQ(output(*g, "y")->producer->name, "relu");
  EXPECT_EQ(output(*g, "x"), g->inputs()[0]);
}

TEST_F(ImportTest, SymbolicDimsNeedInputShapes) {
  onnx::ModelProto m = make_model();
  add_input(m, "images", {"N", "3", "H", "W"});
  add_node(m, "Relu", {"images"}, {"y"});
  add_output(m, "y");
  EXPECT_EQ(import_error(m),
            "input 'images' has symbolic dimensions 'N', 'H', 'W' (shape Nx3xHxW); kiln compiles static shapes: "
            "pin them with --input_shapes images:1x3x1x1");
  auto g = import_ok(m, {{"images", {2, 3, 224, 224}}});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->inputs()[0]->type.shape, (ir::Shape{2, 3, 224, 224}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{2, 3, 224, 224}));
}

TEST_F(ImportTest, InputShapesMustMatchModel) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"N", "3"});
  add_node(m, "Relu", {"x"}, {"y"});
  add_output(m, "y");
  EXPECT_TRUE(contains(import_error(m, {{"x", {1, 3, 4}}}), "--input_shapes gives input 'x' rank 3"));
  EXPECT_TRUE(contains(import_error(m, {{"x", {1, 4}}}), "the model fixes dim 1 to 3"));
  EXPECT_EQ(import_error(m, {{"x", {1, 3}}, {"z", {1}}}),
            "--input_shapes names 'z', which is not an input of the model (its inputs: 'x')");
}

TEST_F(ImportTest, MissingShapeNeedsInputShapes) {
  onnx::ModelProto m = make_model();
  auto* vi = m.mutable_graph()->add_input();
  vi->set_name("x");
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  add_node(m, "Relu", {"x"}, {"y"});
  add_output(m, "y");
  EXPECT_TRUE(contains(import_error(m), "input 'x' has no shape in the model; give one with --input_shapes x:"));
  auto g = import_ok(m, {{"x", {5}}});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->inputs()[0]->type.shape, (ir::Shape{5}));
}

TEST_F(ImportTest, InitializerListedAsInputIsConstant) {
  onnx::ModelProto m = make_model(9, 3);
  add_input(m, "x", {"2"});
  add_input(m, "w", {"2"});
  add_f32_initializer(m, "w", {2}, {1.5f, 2.5f});
  add_node(m, "Mul", {"x", "w"}, {"y"}, "mul");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  ASSERT_EQ(g->inputs().size(), 1u);
  EXPECT_EQ(g->inputs()[0]->name, "x");
  const ir::Node* mul = only_node(*g, ir::OpKind::kMul);
  ASSERT_TRUE(mul->inputs[1]->is_constant());
  EXPECT_EQ(f32_values(*mul->inputs[1]->constant), (std::vector<float>{1.5f, 2.5f}));
}

TEST_F(ImportTest, UndefinedNodeInput) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"2"});
  add_node(m, "Add", {"x", "ghost"}, {"y"}, "add");
  add_output(m, "y");
  EXPECT_EQ(import_error(m),
            "Add 'add': input 'ghost' is not produced by an earlier node, an initializer or a graph input");
}

TEST_F(ImportTest, MissingRequiredInput) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"2"});
  add_node(m, "Add", {"x"}, {"y"}, "add");
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "Add 'add': needs at least 2 inputs, has 1");
}

TEST_F(ImportTest, UnknownGraphOutput) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"2"});
  add_output(m, "nowhere");
  EXPECT_TRUE(contains(import_error(m), "graph output 'nowhere' is not produced"));
}

TEST_F(ImportTest, AttributeOfWrongType) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"2"});
  auto* n = add_node(m, "LeakyRelu", {"x"}, {"y"}, "lr");
  set_attr(n, "alpha", int64_t{2});
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "LeakyRelu 'lr': attribute 'alpha' has type INT, expected FLOAT");
}

TEST_F(ImportTest, TypeErrorNamesOnnxNode) {
  onnx::ModelProto m = make_model();
  add_input(m, "a", {"2", "3"});
  add_input(m, "b", {"4", "5"});
  add_node(m, "MatMul", {"a", "b"}, {"y"}, "mm");
  add_output(m, "y");
  EXPECT_TRUE(contains(import_error(m), "MatMul 'mm': "));
}

}  // namespace
}  // namespace kiln::frontend::testing
