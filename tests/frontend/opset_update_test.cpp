// Tests of the ONNX opset 24..27 changes to mapped ops (docs/opsets.md): Cast and
// CastLike round_mode, Range-27 float16 with stash_type, and new opsets loading.
#include <optional>

#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;

class OpsetUpdateTest : public FrontendTest {};

// A scalar float16 initializer holding the half-precision bit pattern `bits`.
void add_f16_scalar(onnx::ModelProto& m, const std::string& name, uint16_t bits) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT16);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(&bits), 2));
}

onnx::ModelProto cast_model(const std::string& round_mode) {
  onnx::ModelProto m = make_model(24);
  add_input(m, "x", {"4"});
  auto* n = add_node(m, "Cast", {"x"}, {"y"}, "cast");
  set_attr(n, "to", int64_t{onnx::TensorProto::INT32});
  set_attr(n, "round_mode", round_mode);
  add_output(m, "y");
  return m;
}

TEST_F(OpsetUpdateTest, CastRoundModeIsAcceptedAndChecked) {
  auto g = import_ok(cast_model("nearest"));
  ASSERT_TRUE(g);
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Cast"}));
  EXPECT_EQ(output(*g, "y")->type.str(), "int32[4]");
  EXPECT_TRUE(contains(import_error(cast_model("sideways")),
                       "Cast 'cast': round_mode 'sideways' is not one of 'up', 'down', 'nearest'"));
}

TEST_F(OpsetUpdateTest, CastLikeRoundModeIsChecked) {
  onnx::ModelProto m = make_model(25);
  add_input(m, "x", {"4"});
  add_i64_initializer(m, "like", {1}, {0});
  set_attr(add_node(m, "CastLike", {"x", "like"}, {"y"}, "cl"), "round_mode", std::string("toward"));
  add_output(m, "y");
  EXPECT_TRUE(contains(import_error(m), "CastLike 'cl': round_mode 'toward'"));
}

onnx::ModelProto e8m0_cast_model(const std::string& round_mode, int64_t saturate) {
  onnx::ModelProto m = make_model(24);
  add_input(m, "x", {"4"});
  auto* n = add_node(m, "Cast", {"x"}, {"y"}, "cast");
  set_attr(n, "to", int64_t{24} /* FLOAT8E8M0, newer than the linked onnx headers */);
  set_attr(n, "round_mode", round_mode);
  set_attr(n, "saturate", saturate);
  add_output(m, "y");
  return m;
}

TEST_F(OpsetUpdateTest, CastToFloat8E8M0TakesTheDefaultModes) {
  auto g = import_ok(e8m0_cast_model("up", 1));
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.str(), "float8e8m0[4]");
  EXPECT_TRUE(contains(import_error(e8m0_cast_model("down", 1)),
                       "Cast 'cast': a cast to float8e8m0 with round_mode 'down' and saturate=1"));
  EXPECT_TRUE(contains(import_error(e8m0_cast_model("up", 0)), "round_mode 'up' and saturate=0"));
}

TEST_F(OpsetUpdateTest, SaturatingFloat8CastsClipFirst) {
  onnx::ModelProto m = make_model(23);
  add_input(m, "x", {"4"});
  set_attr(add_node(m, "Cast", {"x"}, {"f8"}, "cast"), "to", int64_t{17} /* FLOAT8E4M3FN */);
  auto* n = add_node(m, "Cast", {"f8"}, {"y"}, "recast");
  set_attr(n, "to", int64_t{20} /* FLOAT8E5M2FNUZ */);
  set_attr(n, "saturate", int64_t{0});
  auto* s = add_node(m, "Cast", {"f8"}, {"z"}, "sat");
  set_attr(s, "to", int64_t{18} /* FLOAT8E4M3FNUZ */);
  add_output(m, "y");
  add_output(m, "z");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  // x -> Clip(+-448) -> Cast; f8 -> Cast (no saturation); f8 -> Cast(f32) -> Clip(+-240) -> Cast.
  EXPECT_EQ(op_names(*g), (std::vector<std::string>{"Clip", "Cast", "Cast", "Cast", "Clip", "Cast"}));
  EXPECT_EQ(output(*g, "y")->type.str(), "float8e5m2fnuz[4]");
  EXPECT_EQ(output(*g, "z")->type.str(), "float8e4m3fnuz[4]");
}

onnx::ModelProto f16_range_model(std::optional<int64_t> stash_type) {
  onnx::ModelProto m = make_model(27);
  add_f16_scalar(m, "start", 0x3C00);  // 1.0
  add_f16_scalar(m, "limit", 0x4400);  // 4.0
  add_f16_scalar(m, "delta", 0x3800);  // 0.5
  auto* n = add_node(m, "Range", {"start", "limit", "delta"}, {"r"}, "range");
  if (stash_type) set_attr(n, "stash_type", *stash_type);
  add_output(m, "r");
  return m;
}

TEST_F(OpsetUpdateTest, Float16RangeComputesInFloat) {
  auto g = import_ok(f16_range_model(std::nullopt));
  ASSERT_TRUE(g);
  const ir::Value* r = output(*g, "r");
  EXPECT_EQ(r->type.str(), "float16[6]");
  // The float32 range [1, 1.5, .., 3.5] cast to float16 (folded while the model is read).
  ASSERT_TRUE(r->is_constant());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r->constant->get_f64(i), 1 + 0.5 * i);
  EXPECT_TRUE(import_ok(f16_range_model(1)));
}

TEST_F(OpsetUpdateTest, Float16RangeWithHalfStashIsRejected) {
  EXPECT_TRUE(contains(import_error(f16_range_model(10)),
                       "Range 'range': Range of float16 with stash_type 10 (only 1, float, is) is not supported"));
}

TEST_F(OpsetUpdateTest, StashTypeIsIgnoredForFloat32) {
  onnx::ModelProto m = make_model(27);
  add_f32_initializer(m, "start", {}, {0});
  add_f32_initializer(m, "limit", {}, {3});
  add_f32_initializer(m, "delta", {}, {1});
  set_attr(add_node(m, "Range", {"start", "limit", "delta"}, {"r"}, "range"), "stash_type", int64_t{10});
  add_output(m, "r");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(f32_values(*output(*g, "r")->constant), (std::vector<float>{0, 1, 2}));
}

}  // namespace
}  // namespace kiln::frontend::testing
