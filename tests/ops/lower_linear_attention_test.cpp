// Lowering of LinearAttention against a direct transcription of the ONNX
// recurrence: every update rule, grouped query heads, per-key and per-head decay,
// per-head and scalar beta, a past state, and dv not a multiple of the vector width.
#include <cmath>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;

using LowerLinearAttentionTest = OneNodeTest;

struct Case {
  bool gating, delta, decay_per_key, beta_per_head;
  int64_t hq, hkv;
};

TEST_F(LowerLinearAttentionTest, UpdateRulesAndHeadGroups) {
  const int64_t b = 2, t = 5, dk = 3, dv = 11;
  std::vector<Case> cases = {{false, false, false, false, 2, 2}, {true, false, true, false, 4, 2},
                             {false, true, false, true, 3, 1}, {true, true, false, false, 4, 2},
                             {true, true, true, true, 2, 2}};
  for (const Case& cs : cases) {
    HostTensor q = HostTensor::random(DType::kF32, {b, t, cs.hq * dk}, 1);
    HostTensor k = HostTensor::random(DType::kF32, {b, t, cs.hkv * dk}, 2, -0.6, 0.6);
    HostTensor v = HostTensor::random(DType::kF32, {b, t, cs.hkv * dv}, 3);
    HostTensor past = HostTensor::random(DType::kF32, {b, cs.hkv, dk, dv}, 4);
    HostTensor decay = HostTensor::random(DType::kF32, {b, t, cs.decay_per_key ? cs.hkv * dk : cs.hkv}, 5, -0.5, 0);
    HostTensor beta = HostTensor::random(DType::kF32, {b, t, cs.beta_per_head ? cs.hkv : 1}, 6, 0, 1);
    std::vector<HostTensor> ins = {q, k, v, past};
    if (cs.gating) ins.push_back(decay);
    if (cs.delta) ins.push_back(beta);
    const double scale = 0.7;
    // Reference, as the ONNX reference's loop.
    int64_t out_size = t * cs.hq * dv;
    std::vector<double> want(b * (out_size + cs.hkv * dk * dv));
    int64_t row = out_size + cs.hkv * dk * dv;
    for (int64_t bb = 0; bb < b; ++bb)
      for (int64_t h = 0; h < cs.hkv; ++h) {
        std::vector<double> s(dk * dv);
        for (int64_t i = 0; i < dk * dv; ++i) s[i] = past.get((bb * cs.hkv + h) * dk * dv + i);
        for (int64_t tt = 0; tt < t; ++tt) {
          auto kk = [&](int64_t i) { return k.get((bb * t + tt) * cs.hkv * dk + h * dk + i); };
          if (cs.gating)
            for (int64_t i = 0; i < dk; ++i) {
              double g = cs.decay_per_key ? decay.get((bb * t + tt) * cs.hkv * dk + h * dk + i)
                                          : decay.get((bb * t + tt) * cs.hkv + h);
              for (int64_t m = 0; m < dv; ++m) s[i * dv + m] *= std::exp(g);
            }
          std::vector<double> vt(dv);
          for (int64_t m = 0; m < dv; ++m) {
            vt[m] = v.get((bb * t + tt) * cs.hkv * dv + h * dv + m);
            if (cs.delta) {
              double r = 0;
              for (int64_t i = 0; i < dk; ++i) r += s[i * dv + m] * kk(i);
              double be = cs.beta_per_head ? beta.get((bb * t + tt) * cs.hkv + h) : beta.get(bb * t + tt);
              vt[m] = be * (vt[m] - r);
            }
          }
          for (int64_t i = 0; i < dk; ++i)
            for (int64_t m = 0; m < dv; ++m) s[i * dv + m] += kk(i) * vt[m];
          for (int64_t j = 0; j < cs.hq / cs.hkv; ++j) {
            int64_t hq = h * (cs.hq / cs.hkv) + j;
            for (int64_t m = 0; m < dv; ++m) {
              double acc = 0;
              for (int64_t i = 0; i < dk; ++i) acc += q.get((bb * t + tt) * cs.hq * dk + hq * dk + i) * s[i * dv + m];
              want[bb * row + tt * cs.hq * dv + hq * dv + m] = scale * acc;
            }
          }
        }
        for (int64_t i = 0; i < dk * dv; ++i) want[bb * row + out_size + h * dk * dv + i] = s[i];
      }
    Attrs a;
    a.set("q_heads", cs.hq).set("kv_heads", cs.hkv).set("scale", scale);
    a.set("gating", int64_t{cs.gating}).set("delta", int64_t{cs.delta});
    SCOPED_TRACE(std::string(cs.gating ? "gated " : "") + (cs.delta ? "delta " : "") + std::to_string(cs.hq) + "/" +
                 std::to_string(cs.hkv) + " heads");
    const ir::Node& n = node(OpKind::kLinearAttention, ins, a);
    check_node(n, ins, want, 1e-5);
  }
}

TEST_F(LowerLinearAttentionTest, RejectsHeadsThatDoNotDivide) {
  std::vector<ir::Value*> vs = {g_.add_input("q", ir::TensorType{DType::kF32, {1, 2, 12}}),
                                g_.add_input("k", ir::TensorType{DType::kF32, {1, 2, 8}}),
                                g_.add_input("v", ir::TensorType{DType::kF32, {1, 2, 8}}),
                                g_.add_input("s", ir::TensorType{DType::kF32, {1, 2, 4, 4}})};
  auto n = g_.add_node(OpKind::kLinearAttention, "la", vs, Attrs().set("q_heads", int64_t{3}).set("kv_heads", int64_t{2}));
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.status().message(), "LinearAttention 'la': LinearAttention q_heads 3 must be a positive multiple of kv_heads 2");
}

}  // namespace
}  // namespace kiln::ops::testing
