// Tests of frontend/onnx/stateful_ops.cpp: CausalConvWithState with a past state,
// bias and SiLU in float64 (the node tests are float32/float16), TensorScatter with
// a circular write that wraps and a non-default axis, and the errors that name the
// node (LinearAttention's inputs for its update rule).
#include <cmath>

#include "onnx_builder.h"
#include "passes/constant_fold.h"

namespace kiln::frontend::testing {
namespace {

class StatefulMappingTest : public FrontendTest {};

onnx::TensorProto* add_f64(onnx::ModelProto& m, const std::string& name, const std::vector<int64_t>& dims,
                           const std::vector<double>& v) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::DOUBLE);
  for (int64_t d : dims) t->add_dims(d);
  for (double x : v) t->add_double_data(x);
  return t;
}

TEST_F(StatefulMappingTest, CausalConvFloat64WithStateBiasAndSilu) {
  const int64_t b = 1, c = 2, len = 3, k = 3;
  std::vector<double> x = {0.5, -1, 2, 1.5, 0.25, -0.75};
  std::vector<double> w = {0.2, -0.1, 0.4, 1, 0.5, -0.3};
  std::vector<double> bias = {0.05, -0.1};
  std::vector<double> past = {0.3, -0.6, 0.9, 0.1};
  onnx::ModelProto m = make_model(27);
  add_f64(m, "x", {b, c, len}, x);
  add_f64(m, "w", {c, 1, k}, w);
  add_f64(m, "bias", {c}, bias);
  add_f64(m, "past", {b, c, k - 1}, past);
  auto* n = add_node(m, "CausalConvWithState", {"x", "w", "bias", "past"}, {"y", "state"}, "ccs");
  set_attr(n, "activation", std::string("silu"));
  add_output(m, "y");
  add_output(m, "state");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  ASSERT_TRUE(passes::fold_constants(*g).is_ok());
  const ir::Value* y = output(*g, "y");
  const ir::Value* st = output(*g, "state");
  ASSERT_TRUE(y->constant && st->constant);
  for (int64_t ch = 0; ch < c; ++ch) {
    std::vector<double> padded = {past[ch * 2], past[ch * 2 + 1]};
    for (int64_t i = 0; i < len; ++i) padded.push_back(x[ch * len + i]);
    for (int64_t i = 0; i < len; ++i) {
      double acc = bias[ch];
      for (int64_t j = 0; j < k; ++j) acc += w[ch * k + j] * padded[i + j];
      double want = acc / (1 + std::exp(-acc));
      EXPECT_NEAR(y->constant->data<double>()[ch * len + i], want, 1e-6) << ch << " " << i;
    }
    EXPECT_EQ(st->constant->data<double>()[ch * 2], padded[3]);
    EXPECT_EQ(st->constant->data<double>()[ch * 2 + 1], padded[4]);
  }
}

TEST_F(StatefulMappingTest, TensorScatterCircularWrapOnAxisOne) {
  // past [2, 4, 2] (cache axis 1), update [2, 3, 2]; batch 0 writes at 2 (wraps to 0), batch 1 at 0.
  std::vector<float> past(16), upd(12);
  for (int i = 0; i < 16; ++i) past[i] = static_cast<float>(100 + i);
  for (int i = 0; i < 12; ++i) upd[i] = static_cast<float>(i);
  onnx::ModelProto m = make_model(24);
  add_f32_initializer(m, "past", {2, 4, 2}, past);
  add_f32_initializer(m, "upd", {2, 3, 2}, upd);
  add_i64_initializer(m, "wi", {2}, {2, 0});
  auto* n = add_node(m, "TensorScatter", {"past", "upd", "wi"}, {"y"}, "ts");
  set_attr(n, "mode", std::string("circular"));
  set_attr(n, "axis", int64_t{1});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  ASSERT_TRUE(passes::fold_constants(*g).is_ok());
  const ir::Value* y = output(*g, "y");
  ASSERT_TRUE(y->constant);
  std::vector<float> want = past;
  const int64_t wi[2] = {2, 0};
  for (int64_t bb = 0; bb < 2; ++bb)
    for (int64_t s = 0; s < 3; ++s)
      for (int64_t d = 0; d < 2; ++d) want[(bb * 4 + (wi[bb] + s) % 4) * 2 + d] = upd[(bb * 3 + s) * 2 + d];
  EXPECT_EQ(f32_values(*y->constant), want);
}

TEST_F(StatefulMappingTest, ErrorsNameTheNode) {
  onnx::ModelProto m = make_model(24);
  add_input(m, "past", {"2", "4", "2"});
  add_input(m, "upd", {"2", "5", "2"});
  add_node(m, "TensorScatter", {"past", "upd"}, {"y"}, "ts");
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "TensorScatter 'ts': update float32[2x5x2] does not fit past_cache float32[2x4x2]");

  onnx::ModelProto la = make_model(27);
  add_input(la, "q", {"1", "2", "8"});
  add_input(la, "k", {"1", "2", "8"});
  add_input(la, "v", {"1", "2", "8"});
  auto* n = add_node(la, "LinearAttention", {"q", "k", "v"}, {"y"}, "la");
  set_attr(n, "q_num_heads", int64_t{2});
  set_attr(n, "kv_num_heads", int64_t{2});
  add_output(la, "y");
  EXPECT_EQ(import_error(la), "LinearAttention 'la': update_rule 'gated_delta' needs decay input");

  onnx::ModelProto cc = make_model(27);
  add_input(cc, "x", {"1", "2", "5"});
  add_input(cc, "w", {"3", "1", "2"});
  add_node(cc, "CausalConvWithState", {"x", "w"}, {"y"}, "ccs");
  add_output(cc, "y");
  EXPECT_EQ(import_error(cc), "CausalConvWithState 'ccs': weight must be (2, 1, k) of the input's type, got float32[3x1x2]");
}

}  // namespace
}  // namespace kiln::frontend::testing
