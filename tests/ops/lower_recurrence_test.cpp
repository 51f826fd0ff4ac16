// Lowering of RnnSequence (the time loop of RNN, GRU and LSTM) against a naive
// C++ reference: ragged sequence lengths in both directions, hidden sizes that
// are not multiples of the vector width or of the unrolled rows, GRU in both
// reset modes, LSTM peepholes, input_forget and clip, per-direction activations.
#include <cmath>
#include <string>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;

struct Spec {
  std::string cell;
  int64_t dirs = 1, seq = 5, batch = 3, h = 11;
  std::vector<int64_t> lens = {5, 2, 0};
  std::vector<std::string> acts;  // per direction
  std::vector<double> alpha, beta;
  double clip = 0;
  bool lbr = false, input_forget = false, peephole = false;
};

int gates_of(const std::string& cell) { return cell == "lstm" ? 4 : cell == "gru" ? 3 : 1; }

double act(const std::string& f, double a, double b, double x) {
  if (f == "Sigmoid") return 1 / (1 + std::exp(-x));
  if (f == "Tanh") return std::tanh(x);
  if (f == "Relu") return std::max(0.0, x);
  if (f == "LeakyRelu") return x < 0 ? a * x : x;
  if (f == "HardSigmoid") return std::max(0.0, std::min(1.0, a * x + b));
  if (f == "Softsign") return x / (1 + std::fabs(x));
  ADD_FAILURE() << "activation " << f;
  return 0;
}

// The op's output [seq + k, dir, batch, h] computed directly from the ONNX equations.
std::vector<double> reference(const Spec& s, const HostTensor& xw, const HostTensor& rt, const HostTensor& h0,
                              const HostTensor* extra, const HostTensor* p) {
  int64_t g = gates_of(s.cell), gh = g * s.h, na = s.cell == "lstm" ? 3 : s.cell == "gru" ? 2 : 1;
  int64_t rows = s.seq + (s.cell == "lstm" ? 2 : 1);
  std::vector<double> out(rows * s.dirs * s.batch * s.h, 0.0);
  auto o = [&](int64_t r, int64_t d, int64_t b, int64_t j) -> double& {
    return out[((r * s.dirs + d) * s.batch + b) * s.h + j];
  };
  for (int64_t d = 0; d < s.dirs; ++d) {
    auto f = [&](int k, double x) {
      if (s.clip > 0 && !(s.cell == "lstm" && k == 2)) x = std::max(-s.clip, std::min(s.clip, x));
      int64_t i = d * na + k;
      return act(s.acts[i], s.alpha[i], s.beta[i], x);
    };
    for (int64_t b = 0; b < s.batch; ++b) {
      std::vector<double> hs(s.h), cs(s.h);
      for (int64_t j = 0; j < s.h; ++j) {
        hs[j] = h0.get((d * s.batch + b) * s.h + j);
        if (s.cell == "lstm") cs[j] = extra->get((d * s.batch + b) * s.h + j);
      }
      int64_t len = s.lens[b];
      for (int64_t st = 0; st < len; ++st) {
        int64_t t = d == 1 ? len - 1 - st : st;
        auto x = [&](int64_t gi) { return xw.get(((d * s.seq + t) * s.batch + b) * gh + gi); };
        auto r = [&](const std::vector<double>& v, int64_t gi) {
          double acc = 0;
          for (int64_t k = 0; k < s.h; ++k) acc += v[k] * rt.get((d * s.h + k) * gh + gi);
          return acc;
        };
        std::vector<double> hn(s.h), cn(s.h);
        for (int64_t j = 0; j < s.h; ++j) {
          if (s.cell == "rnn") {
            hn[j] = f(0, x(j) + r(hs, j));
          } else if (s.cell == "gru") {
            double z = f(0, x(j) + r(hs, j));
            double rg_j = f(0, x(s.h + j) + r(hs, s.h + j));
            double pre;
            if (s.lbr) {
              pre = x(2 * s.h + j) + rg_j * (r(hs, 2 * s.h + j) + extra->get(d * s.h + j));
            } else {
              std::vector<double> rh(s.h);
              for (int64_t k = 0; k < s.h; ++k) rh[k] = f(0, x(s.h + k) + r(hs, s.h + k)) * hs[k];
              pre = x(2 * s.h + j) + r(rh, 2 * s.h + j);
            }
            hn[j] = (1 - z) * f(1, pre) + z * hs[j];
          } else {
            auto peep = [&](int k) { return p ? p->get(d * 3 * s.h + k * s.h + j) : 0.0; };
            double i = f(0, x(j) + r(hs, j) + peep(0) * cs[j]);
            double fg = s.input_forget ? 1 - i : f(0, x(2 * s.h + j) + r(hs, 2 * s.h + j) + peep(2) * cs[j]);
            cn[j] = fg * cs[j] + i * f(1, x(3 * s.h + j) + r(hs, 3 * s.h + j));
            double og = f(0, x(s.h + j) + r(hs, s.h + j) + peep(1) * cn[j]);
            hn[j] = og * f(2, cn[j]);
          }
        }
        hs = hn;
        if (s.cell == "lstm") cs = cn;
        for (int64_t j = 0; j < s.h; ++j) o(t, d, b, j) = hs[j];
      }
      for (int64_t j = 0; j < s.h; ++j) {
        o(s.seq, d, b, j) = hs[j];
        if (s.cell == "lstm") o(s.seq + 1, d, b, j) = cs[j];
      }
    }
  }
  return out;
}

class LowerRecurrenceTest : public OneNodeTest {
 protected:
  void run_case(const Spec& s);
};

void LowerRecurrenceTest::run_case(const Spec& s) {
  int64_t gh = gates_of(s.cell) * s.h;
  uint32_t seed = 11;
  HostTensor xw = HostTensor::random(DType::kF32, {s.dirs, s.seq, s.batch, gh}, seed++);
  HostTensor rt = HostTensor::random(DType::kF32, {s.dirs, s.h, gh}, seed++, -0.4, 0.4);
  HostTensor h0 = HostTensor::random(DType::kF32, {s.dirs, s.batch, s.h}, seed++);
  std::vector<double> lens(s.lens.begin(), s.lens.end());
  HostTensor len = HostTensor::of(DType::kI64, {s.batch}, lens);
  std::vector<HostTensor> ins = {xw, rt, h0, len};
  HostTensor extra, p;
  if (s.cell == "gru" && s.lbr) ins.push_back(extra = HostTensor::random(DType::kF32, {s.dirs, s.h}, seed++));
  if (s.cell == "lstm") ins.push_back(extra = HostTensor::random(DType::kF32, {s.dirs, s.batch, s.h}, seed++));
  if (s.peephole) ins.push_back(p = HostTensor::random(DType::kF32, {s.dirs, 3 * s.h}, seed++));
  std::string joined;
  for (const std::string& a : s.acts) joined += (joined.empty() ? "" : ",") + a;
  Attrs a;
  a.set("cell", s.cell).set("activations", joined).set("alpha", s.alpha).set("beta", s.beta);
  a.set("reverse", s.dirs == 2 ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{0});
  if (s.clip > 0) a.set("clip", s.clip);
  if (s.cell == "gru") a.set("linear_before_reset", int64_t{s.lbr});
  if (s.cell == "lstm") a.set("input_forget", int64_t{s.input_forget});
  const ir::Node& n = node(OpKind::kRnnSequence, ins, a);
  check_node(n, ins, reference(s, xw, rt, h0, extra.bytes.empty() ? nullptr : &extra, s.peephole ? &p : nullptr), 1e-4);
}

TEST_F(LowerRecurrenceTest, RnnBidirectionalWithOwnActivations) {
  Spec s;
  s.cell = "rnn";
  s.dirs = 2;
  s.acts = {"Tanh", "LeakyRelu"};
  s.alpha = {0, 0.1};
  s.beta = {0, 0};
  run_case(s);
}

TEST_F(LowerRecurrenceTest, GruBothResetModes) {
  for (bool lbr : {false, true}) {
    Spec s;
    s.cell = "gru";
    s.dirs = 2;
    s.h = 13;
    s.lbr = lbr;
    s.lens = {3, 5, 1};
    s.acts = {"Sigmoid", "Tanh", "HardSigmoid", "Softsign"};
    s.alpha = {0, 0, 0.3, 0};
    s.beta = {0, 0, 0.4, 0};
    run_case(s);
  }
}

TEST_F(LowerRecurrenceTest, LstmPeepholesInputForgetAndClip) {
  for (bool forget : {false, true}) {
    Spec s;
    s.cell = "lstm";
    s.dirs = 2;
    s.h = 9;
    s.batch = 2;
    s.lens = {4, 5};
    s.peephole = true;
    s.input_forget = forget;
    s.clip = forget ? 0.7 : 0;
    s.acts = {"Sigmoid", "Tanh", "Tanh", "Sigmoid", "Relu", "Tanh"};
    s.alpha.assign(6, 0);
    s.beta.assign(6, 0);
    run_case(s);
  }
}

TEST_F(LowerRecurrenceTest, RejectsUnknownActivationAndBadShapes) {
  HostTensor xw = HostTensor::random(DType::kF32, {1, 2, 1, 4}, 1);
  HostTensor rt = HostTensor::random(DType::kF32, {1, 4, 4}, 2);
  HostTensor h0 = HostTensor::random(DType::kF32, {1, 1, 4}, 3);
  HostTensor len = HostTensor::of(DType::kI32, {1}, {2});
  std::vector<ir::Value*> vs;
  for (const HostTensor& h : {xw, rt, h0, len}) vs.push_back(g_.add_input("v" + std::to_string(vs.size()), h.type));
  Attrs a;
  a.set("cell", std::string("rnn")).set("reverse", std::vector<int64_t>{0}).set("activations", std::string("Swish"));
  a.set("alpha", std::vector<double>{0}).set("beta", std::vector<double>{0});
  auto n = g_.add_node(OpKind::kRnnSequence, "bad", vs, a);
  ASSERT_FALSE(n.has_value());
  EXPECT_NE(n.status().message().find("activation 'Swish' is not supported"), std::string::npos) << n.status().message();
  a.set("activations", std::string("Tanh"));
  vs[1] = g_.add_input("rt_bad", ir::TensorType{DType::kF32, {1, 4, 5}});
  n = g_.add_node(OpKind::kRnnSequence, "bad2", vs, a);
  ASSERT_FALSE(n.has_value());
  EXPECT_NE(n.status().message().find("RnnSequence RT must have shape 1x4x4, got float32[1x4x5]"), std::string::npos) << n.status().message();
}

}  // namespace
}  // namespace kiln::ops::testing
