// Tests of finding, parsing and checking model files (frontend/onnx/load.cpp).
#include "frontend/onnx/load.h"

#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

// y = Relu(x), the smallest valid model.
onnx::ModelProto relu_model(int64_t opset = 17) {
  onnx::ModelProto m = make_model(opset);
  add_input(m, "x", {"1", "4"});
  add_node(m, "Relu", {"x"}, {"y"}, "relu");
  add_output(m, "y");
  return m;
}

class LoadTest : public FrontendTest {};

TEST_F(LoadTest, MissingPath) {
  auto g = import_onnx(path("nope.onnx"), {});
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.status().message(), "no such file: " + path("nope.onnx"));
  EXPECT_EQ(g.status().exit_code(), 2);
}

TEST_F(LoadTest, FolderWithOneModel) {
  write_model(relu_model(), "sub/net.onnx");
  write_bytes("sub/readme.txt", "hello");
  auto g = import_onnx(path("sub"), {});
  ASSERT_TRUE(g.has_value()) << g.status().message();
  EXPECT_EQ(op_names(**g), std::vector<std::string>{"Relu"});
}

TEST_F(LoadTest, FolderWithNoModel) {
  write_bytes("empty/readme.txt", "hello");
  auto g = import_onnx(path("empty"), {});
  ASSERT_FALSE(g.has_value());
  EXPECT_TRUE(contains(g.status().message(), "folder " + path("empty") + " holds no .onnx file"));
}

TEST_F(LoadTest, FolderWithTwoModels) {
  write_model(relu_model(), "two/a.onnx");
  write_model(relu_model(), "two/b.onnx");
  auto g = import_onnx(path("two"), {});
  ASSERT_FALSE(g.has_value());
  EXPECT_TRUE(contains(g.status().message(), "folder " + path("two") + " holds 2 .onnx files (a.onnx, b.onnx)"));
}

TEST_F(LoadTest, GarbageBytes) {
  std::string p = write_bytes("junk.onnx", "this is not a model\n");
  auto g = import_onnx(p, {});
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.status().message(), p + " is not a valid ONNX model (protobuf parse failed)");
}

TEST_F(LoadTest, TruncatedFile) {
  onnx::ModelProto m = relu_model();
  add_f32_initializer(m, "w", {64}, std::vector<float>(64, 1.0f));
  std::string bytes = m.SerializeAsString();
  std::string p = write_bytes("cut.onnx", bytes.substr(0, bytes.size() - 100));
  auto g = import_onnx(p, {});
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.status().message(), p + " is not a valid ONNX model (protobuf parse failed)");
}

TEST_F(LoadTest, EmptyFile) {
  std::string p = write_bytes("empty.onnx", "");
  auto g = import_onnx(p, {});
  ASSERT_FALSE(g.has_value());
  EXPECT_TRUE(contains(g.status().message(), "is not a valid ONNX model"));
}

TEST_F(LoadTest, IrVersionTooOld) {
  onnx::ModelProto m = relu_model();
  m.set_ir_version(2);
  EXPECT_TRUE(contains(import_error(m), "ONNX IR version 2 is not supported"));
}

TEST_F(LoadTest, OpsetOutOfRange) {
  EXPECT_TRUE(contains(import_error(relu_model(0)), "imports no opset of the default ONNX domain"));
  EXPECT_TRUE(contains(import_error(relu_model(-3)), "opset -3 of the default ONNX domain is not supported"));
  EXPECT_TRUE(contains(import_error(relu_model(28)), "opset 28 of the default ONNX domain is not supported"));
  EXPECT_TRUE(import(relu_model(7)).has_value());
  EXPECT_TRUE(import(relu_model(23)).has_value());
  EXPECT_TRUE(import(relu_model(27)).has_value());
}

// Below opset 7 a model loads when its ops are defined as at opset 7: Relu
// since 6 (Relu-1 had consumed_inputs), Not since 1; Add changed at 7 (broadcast).
TEST_F(LoadTest, LegacyOpsetLoadsOpsDefinedAsAtOpset7) {
  EXPECT_TRUE(import(relu_model(6)).has_value());
  EXPECT_TRUE(contains(import_error(relu_model(5)),
                       "opset 5 of the default ONNX domain is not supported (kiln supports opsets 7 to 27, and older "
                       "ones for ops defined as at opset 7; Relu at node 'relu' changed at opset 6)"));
  onnx::ModelProto m = make_model(1);
  add_input(m, "x", {"2", "3"}, onnx::TensorProto::BOOL);
  add_node(m, "Not", {"x"}, {"y"}, "not");
  add_output(m, "y");
  auto g = import(m);
  ASSERT_TRUE(g.has_value()) << g.status().message();
  EXPECT_EQ(op_names(**g), std::vector<std::string>{"Not"});
  add_node(m, "Cast", {"y"}, {"z"}, "cast");
  EXPECT_TRUE(contains(import_error(m), "Cast at node 'cast' changed at opset 6"));
  add_node(m, "Add", {"z", "z"}, {"w"}, "add");
  m.mutable_opset_import(0)->set_version(6);
  EXPECT_TRUE(contains(import_error(m), "Add at node 'add' is not one of them"));
}

TEST_F(LoadTest, AiOnnxDomainIsDefault) {
  onnx::ModelProto m = relu_model();
  m.mutable_opset_import(0)->set_domain("ai.onnx");
  auto loaded = load_model(write_model(m));
  ASSERT_TRUE(loaded.has_value()) << loaded.status().message();
  EXPECT_EQ((*loaded)->opset, 17);
}

TEST_F(LoadTest, NoDefaultOpset) {
  onnx::ModelProto m = relu_model();
  m.mutable_opset_import(0)->set_domain("com.example");
  EXPECT_TRUE(contains(import_error(m), "imports no opset of the default ONNX domain"));
}

TEST_F(LoadTest, NoGraph) {
  onnx::ModelProto m = relu_model();
  m.clear_graph();
  EXPECT_TRUE(contains(import_error(m), "the model has no graph"));
}

}  // namespace
}  // namespace kiln::frontend::testing
