// Tests of the composed mappers in frontend/onnx/attention.cpp (Attention, RotaryEmbedding) and
// loss.cpp (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss): values folded from
// constant inputs against a direct C++ reference, and the errors that name the node.
#include <cmath>

#include "onnx_builder.h"
#include "passes/constant_fold.h"

namespace kiln::frontend::testing {
namespace {

class AttentionMappingTest : public FrontendTest {};

std::vector<float> iota_values(int64_t n, float step, float start) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + step * static_cast<float>((i * 7) % 11);
  return v;
}

TEST_F(AttentionMappingTest, GroupedCausalAttentionMatchesReference) {
  // Q (1, 2 heads, 2, 2); K, V (1, 1 head, 3, 2) repeated to both query heads; causal with
  // one past key (the first of the 3 keys), so query i sees keys 0..i+1.
  const int64_t hq = 2, s = 2, t = 3, d = 2, past = 1;
  std::vector<float> q = iota_values(hq * s * d, 0.25f, -1.0f);
  std::vector<float> k = iota_values(t * d, 0.3f, -0.8f);
  std::vector<float> v = iota_values(t * d, 0.5f, 0.1f);
  onnx::ModelProto m = make_model(23);
  add_f32_initializer(m, "q", {1, hq, s, d}, q);
  add_f32_initializer(m, "pk", {1, 1, past, d}, {k.begin(), k.begin() + past * d});
  add_f32_initializer(m, "pv", {1, 1, past, d}, {v.begin(), v.begin() + past * d});
  add_f32_initializer(m, "k", {1, 1, t - past, d}, {k.begin() + past * d, k.end()});
  add_f32_initializer(m, "v", {1, 1, t - past, d}, {v.begin() + past * d, v.end()});
  auto* n = add_node(m, "Attention", {"q", "k", "v", "", "pk", "pv"}, {"y", "present_k"}, "att");
  set_attr(n, "is_causal", int64_t{1});
  set_attr(n, "scale", 0.5f);
  add_output(m, "y");
  add_output(m, "present_k");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, hq, s, d}));
  EXPECT_EQ(output(*g, "present_k")->type.shape, (ir::Shape{1, 1, t, d}));
  std::vector<float> y = folded(*g, "y");
  ASSERT_EQ(y.size(), static_cast<size_t>(hq * s * d));
  for (int64_t h = 0; h < hq; ++h)
    for (int64_t i = 0; i < s; ++i) {
      std::vector<double> p(t, 0.0);
      double mx = -1e30, sum = 0;
      for (int64_t j = 0; j <= i + past; ++j) {
        for (int64_t c = 0; c < d; ++c) p[j] += q[(h * s + i) * d + c] * k[j * d + c] * 0.5;
        mx = std::max(mx, p[j]);
      }
      for (int64_t j = 0; j <= i + past; ++j) sum += p[j] = std::exp(p[j] - mx);
      for (int64_t c = 0; c < d; ++c) {
        double want = 0;
        for (int64_t j = 0; j <= i + past; ++j) want += p[j] / sum * v[j * d + c];
        EXPECT_NEAR(y[(h * s + i) * d + c], want, 1e-5) << "head " << h << " query " << i << " channel " << c;
      }
    }
  EXPECT_EQ(folded(*g, "present_k"), k);
}

TEST_F(AttentionMappingTest, ThreeDSoftcapAndBoolMask) {
  // 3-D: Q (1, 1, 2 heads * 1), K, V (1, 2, 1 head * 1); the bool mask hides key 1.
  onnx::ModelProto m = make_model(23);
  add_f32_initializer(m, "q", {1, 1, 2}, {1.0f, -2.0f});
  add_f32_initializer(m, "k", {1, 2, 1}, {3.0f, 0.5f});
  add_f32_initializer(m, "v", {1, 2, 1}, {10.0f, 20.0f});
  add_input(m, "mask", {"1", "2"}, onnx::TensorProto::BOOL);
  auto* n = add_node(m, "Attention", {"q", "k", "v"}, {"y", "", "", "qk"}, "att");
  set_attr(n, "q_num_heads", int64_t{2});
  set_attr(n, "kv_num_heads", int64_t{1});
  set_attr(n, "softcap", 2.0f);
  set_attr(n, "qk_matmul_output_mode", int64_t{1});
  add_output(m, "y");
  add_output(m, "qk");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 1, 2}));
  EXPECT_EQ(output(*g, "qk")->type.shape, (ir::Shape{1, 2, 1, 2}));
  std::vector<float> qk = folded(*g, "qk");
  // Scale 1/sqrt(1) = 1; scores q_h * k_j, softcapped: 2 tanh(x / 2).
  std::vector<double> raw{1 * 3.0, 1 * 0.5, -2 * 3.0, -2 * 0.5};
  ASSERT_EQ(qk.size(), raw.size());
  for (size_t i = 0; i < raw.size(); ++i) EXPECT_NEAR(qk[i], 2 * std::tanh(raw[i] / 2), 1e-5);

  // A mask input keeps Y at run time; a bad head count is named in the error.
  onnx::ModelProto masked = m;
  masked.mutable_graph()->mutable_node(0)->add_input("mask");
  EXPECT_NE(import_ok(masked), nullptr);
  onnx::ModelProto bad = make_model(23);
  add_input(bad, "q", {"1", "3", "3", "4"});
  add_input(bad, "k", {"1", "2", "3", "4"});
  add_input(bad, "v", {"1", "2", "3", "4"});
  add_node(bad, "Attention", {"q", "k", "v"}, {"y"}, "att");
  add_output(bad, "y");
  EXPECT_TRUE(contains(import_error(bad), "Attention 'att': 3 query heads are not a multiple of 2 key/value heads"));
}

TEST_F(AttentionMappingTest, InterleavedPartialRotaryEmbedding) {
  // x (1 batch, 1 head, 2 positions, head 6), rotating the first 4 channels as pairs
  // (0,1), (2,3); position_ids pick rows of the (3, 2) caches.
  std::vector<float> x = iota_values(12, 0.5f, -2.0f);
  std::vector<float> cos{1.0f, 0.5f, 0.0f, -1.0f, 0.8f, 0.6f};
  std::vector<float> sin{0.0f, 0.25f, 1.0f, 0.5f, -0.6f, 0.8f};
  std::vector<int64_t> pos{2, 0};
  onnx::ModelProto m = make_model(23);
  add_f32_initializer(m, "x", {1, 1, 2, 6}, x);
  add_f32_initializer(m, "cos", {3, 2}, cos);
  add_f32_initializer(m, "sin", {3, 2}, sin);
  add_i64_initializer(m, "pos", {1, 2}, pos);
  auto* n = add_node(m, "RotaryEmbedding", {"x", "cos", "sin", "pos"}, {"y"}, "rope");
  set_attr(n, "interleaved", int64_t{1});
  set_attr(n, "rotary_embedding_dim", int64_t{4});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  std::vector<float> y = folded(*g, "y");
  ASSERT_EQ(y.size(), x.size());
  for (int64_t s = 0; s < 2; ++s) {
    const float* xs = &x[s * 6];
    for (int64_t i = 0; i < 2; ++i) {
      float c = cos[pos[s] * 2 + i], sn = sin[pos[s] * 2 + i];
      EXPECT_NEAR(y[s * 6 + 2 * i], c * xs[2 * i] - sn * xs[2 * i + 1], 1e-6) << "position " << s << " pair " << i;
      EXPECT_NEAR(y[s * 6 + 2 * i + 1], sn * xs[2 * i] + c * xs[2 * i + 1], 1e-6) << "position " << s << " pair " << i;
    }
    EXPECT_EQ(y[s * 6 + 4], xs[4]);
    EXPECT_EQ(y[s * 6 + 5], xs[5]);
  }

  onnx::ModelProto bad = make_model(23);
  add_input(bad, "x", {"1", "2", "6"});
  add_input(bad, "cos", {"1", "2", "3"});
  add_input(bad, "sin", {"1", "2", "3"});
  add_node(bad, "RotaryEmbedding", {"x", "cos", "sin"}, {"y"}, "rope");
  add_output(bad, "y");
  EXPECT_TRUE(contains(import_error(bad), "RotaryEmbedding 'rope': 3-D input float32[1x2x6] needs num_heads"));
}

TEST_F(AttentionMappingTest, NllLossWithWeightAndIgnoreIndex) {
  // x (2, 3) log-probs, target {2, ignored}: mean = w[2] * -x[0][2] / w[2].
  onnx::ModelProto m = make_model(13);
  add_f32_initializer(m, "x", {2, 3}, {-1.0f, -2.0f, -3.0f, -4.0f, -5.0f, -6.0f});
  add_i64_initializer(m, "t", {2}, {2, -7});
  add_f32_initializer(m, "w", {3}, {0.5f, 1.0f, 2.0f});
  set_attr(add_node(m, "NegativeLogLikelihoodLoss", {"x", "t", "w"}, {"mean"}, "nll"), "ignore_index", int64_t{-7});
  auto* sum = add_node(m, "NegativeLogLikelihoodLoss", {"x", "t", "w"}, {"sum"}, "nll_sum");
  set_attr(sum, "ignore_index", int64_t{-7});
  set_attr(sum, "reduction", std::string("sum"));
  add_output(m, "mean");
  add_output(m, "sum");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "mean")->type.shape, (ir::Shape{}));
  EXPECT_EQ(folded(*g, "mean"), (std::vector<float>{3.0f}));
  EXPECT_EQ(folded(*g, "sum"), (std::vector<float>{6.0f}));
}

TEST_F(AttentionMappingTest, SoftmaxCrossEntropyNoneAndLogProb) {
  // x (1, 2, 2): class axis 1, one spatial axis; targets {1, 0}.
  onnx::ModelProto m = make_model(13);
  add_f32_initializer(m, "x", {1, 2, 2}, {0.0f, 1.0f, 2.0f, 1.0f});
  add_i64_initializer(m, "t", {1, 2}, {1, 0});
  set_attr(add_node(m, "SoftmaxCrossEntropyLoss", {"x", "t"}, {"loss", "logp"}, "sce"), "reduction",
           std::string("none"));
  add_output(m, "loss");
  add_output(m, "logp");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "loss")->type.shape, (ir::Shape{1, 2}));
  std::vector<float> loss = folded(*g, "loss");
  ASSERT_EQ(loss.size(), 2u);
  // Position 0: classes {0, 2}, target 1 -> log(1 + e^2) - 2 + ... = -(2 - log(e^0 + e^2)).
  EXPECT_NEAR(loss[0], -(2.0 - std::log(1.0 + std::exp(2.0))), 1e-5);
  EXPECT_NEAR(loss[1], -(1.0 - std::log(std::exp(1.0) + std::exp(1.0))), 1e-5);
  EXPECT_EQ(folded(*g, "logp").size(), 4u);

  onnx::ModelProto bad = make_model(13);
  add_input(bad, "x", {"2", "3"});
  add_input(bad, "t", {"3"}, onnx::TensorProto::INT64);
  add_node(bad, "SoftmaxCrossEntropyLoss", {"x", "t"}, {"loss"}, "sce");
  add_output(bad, "loss");
  EXPECT_TRUE(contains(import_error(bad), "SoftmaxCrossEntropyLoss 'sce': input float32[2x3] and target"));
}

}  // namespace
}  // namespace kiln::frontend::testing
