// Tests of frontend/onnx/signal_ops.cpp: DFT (complex input on a middle axis, zero
// padding and truncation by dft_length, inverse, an odd-length real inverse of a
// one-sided spectrum), STFT of a complex signal with a window, the window functions
// in float64 and MelWeightMatrix (against the ONNX reference's values), folded from constant inputs against direct sums.
#include <cmath>
#include <complex>

#include "onnx_builder.h"
#include "passes/constant_fold.h"

namespace kiln::frontend::testing {
namespace {

using cd = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

class SignalMappingTest : public FrontendTest {};

std::vector<float> values(int64_t n) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(std::sin(0.7 * i) + 0.1 * (i % 5));
  return v;
}

// x: [a, n, b, 2] complex; DFT along axis 1 with length len (sign -1 forward).
std::vector<cd> dft_ref(const std::vector<float>& x, int64_t a, int64_t n, int64_t b, int64_t len, bool inverse,
                        int64_t out_len) {
  std::vector<cd> y(a * out_len * b);
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < out_len; ++k) {
        cd acc = 0;
        for (int64_t t = 0; t < std::min(n, len); ++t) {
          cd v(x[((i * n + t) * b + j) * 2], x[((i * n + t) * b + j) * 2 + 1]);
          acc += v * std::polar(1.0, (inverse ? 2 : -2) * kPi * static_cast<double>(k * t) / static_cast<double>(len));
        }
        y[(i * out_len + k) * b + j] = inverse ? acc / static_cast<double>(len) : acc;
      }
  return y;
}

void expect_complex(const std::vector<float>& got, const std::vector<cd>& want, double tol) {
  ASSERT_EQ(got.size(), want.size() * 2);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[2 * i], want[i].real(), tol) << i;
    EXPECT_NEAR(got[2 * i + 1], want[i].imag(), tol) << i;
  }
}

onnx::ModelProto dft_model(const std::vector<float>& x, const std::vector<int64_t>& dims, int64_t len, int64_t axis,
                           bool inverse, bool onesided) {
  onnx::ModelProto m = make_model(20);
  add_f32_initializer(m, "x", dims, x);
  add_i64_initializer(m, "len", {}, {len});
  add_i64_initializer(m, "axis", {}, {axis});
  auto* n = add_node(m, "DFT", {"x", "len", "axis"}, {"y"}, "dft");
  set_attr(n, "inverse", int64_t{inverse});
  set_attr(n, "onesided", int64_t{onesided});
  add_output(m, "y");
  return m;
}

TEST_F(SignalMappingTest, ComplexDftOnMiddleAxisPadsAndTruncates) {
  const int64_t a = 2, n = 6, b = 3;
  std::vector<float> x = values(a * n * b * 2);
  for (int64_t len : {4, 6, 9}) {
    for (bool inverse : {false, true}) {
      auto g = import_ok(dft_model(x, {a, n, b, 2}, len, -3, inverse, false));
      ASSERT_TRUE(g);
      EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{a, len, b, 2}));
      SCOPED_TRACE("len " + std::to_string(len) + (inverse ? " inverse" : ""));
      expect_complex(folded(*g, "y"), dft_ref(x, a, n, b, len, inverse, len), 1e-4);
    }
  }
}

TEST_F(SignalMappingTest, RealInverseOfOddLengthOneSidedSpectrum) {
  // A real signal of odd length 7 -> its one-sided spectrum (4 bins) -> back.
  const int64_t len = 7;
  std::vector<float> sig = values(len);
  std::vector<float> spec;
  for (int64_t k = 0; k <= len / 2; ++k) {
    cd acc = 0;
    for (int64_t t = 0; t < len; ++t) acc += static_cast<double>(sig[t]) * std::polar(1.0, -2 * kPi * k * t / len);
    spec.push_back(static_cast<float>(acc.real()));
    spec.push_back(static_cast<float>(acc.imag()));
  }
  auto g = import_ok(dft_model(spec, {1, len / 2 + 1, 2}, len, 1, true, true));
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, len, 1}));
  std::vector<float> got = folded(*g, "y");
  ASSERT_EQ(got.size(), static_cast<size_t>(len));
  for (int64_t t = 0; t < len; ++t) EXPECT_NEAR(got[t], sig[t], 1e-5) << t;
}

TEST_F(SignalMappingTest, DftErrorsNameTheInput) {
  onnx::ModelProto m = make_model(20);
  add_input(m, "x", {"1", "8", "3"});
  add_node(m, "DFT", {"x"}, {"y"}, "dft");
  add_output(m, "y");
  EXPECT_EQ(import_error(m),
            "DFT 'dft': the signal must have rank >= 2 and a last dimension of 1 (real) or 2 (complex), got float32[1x8x3]");
  onnx::ModelProto m2 = make_model(20);
  add_input(m2, "x", {"1", "8", "1"});
  add_input(m2, "axis", {}, onnx::TensorProto::INT64);
  add_node(m2, "DFT", {"x", "", "axis"}, {"y"}, "dft");
  add_output(m2, "y");
  EXPECT_EQ(import_error(m2), "DFT 'dft': a non-constant axis input is not supported");
}

TEST_F(SignalMappingTest, StftOfComplexSignalWithWindow) {
  const int64_t len = 20, frame = 6, step = 5, frames = 1 + (len - frame) / step;
  std::vector<float> x = values(len * 2);
  std::vector<float> win = {0.1f, 0.5f, 1.f, 1.f, 0.5f, 0.1f};
  onnx::ModelProto m = make_model(17);
  add_f32_initializer(m, "x", {1, len, 2}, x);
  add_i64_initializer(m, "step", {}, {step});
  add_f32_initializer(m, "win", {frame}, win);
  auto* n = add_node(m, "STFT", {"x", "step", "win"}, {"y"}, "stft");
  set_attr(n, "onesided", int64_t{0});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, frames, frame, 2}));
  std::vector<cd> want;
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t k = 0; k < frame; ++k) {
      cd acc = 0;
      for (int64_t t = 0; t < frame; ++t) {
        int64_t s = f * step + t;
        acc += cd(x[2 * s], x[2 * s + 1]) * static_cast<double>(win[t]) * std::polar(1.0, -2 * kPi * k * t / frame);
      }
      want.push_back(acc);
    }
  expect_complex(folded(*g, "y"), want, 1e-4);
}

TEST_F(SignalMappingTest, WindowsInFloat64) {
  for (const char* op : {"HannWindow", "HammingWindow", "BlackmanWindow"}) {
    onnx::ModelProto m = make_model(17);
    add_i64_initializer(m, "size", {}, {9});
    auto* n = add_node(m, op, {"size"}, {"w"}, "win");
    set_attr(n, "periodic", int64_t{0});
    set_attr(n, "output_datatype", int64_t{onnx::TensorProto::DOUBLE});
    add_output(m, "w");
    auto g = import_ok(m);
    ASSERT_TRUE(g);
    const ir::Value* w = output(*g, "w");
    ASSERT_TRUE(w->constant);
    ASSERT_EQ(w->type.dtype, DType::kF64);
    const double* v = w->constant->data<double>();
    for (int64_t i = 0; i < 9; ++i) {
      double t = 2 * kPi * i / 8;
      double want = std::string(op) == "HannWindow"      ? 0.5 - 0.5 * std::cos(t)
                    : std::string(op) == "HammingWindow" ? 25.0 / 46 - 21.0 / 46 * std::cos(t)
                                                         : 0.42 - 0.5 * std::cos(t) + 0.08 * std::cos(2 * t);
      EXPECT_NEAR(v[i], want, 1e-12) << op << " " << i;
    }
    EXPECT_NEAR(v[0], v[8], 1e-12) << op << " is symmetric";
  }
}

TEST_F(SignalMappingTest, MelWeightMatrixMatchesReference) {
  onnx::ModelProto m = make_model(17);
  add_i64_initializer(m, "bins", {}, {4});
  add_i64_initializer(m, "dft", {}, {32});
  add_i64_initializer(m, "rate", {}, {16000});
  add_f32_initializer(m, "lo", {}, {100.f});
  add_f32_initializer(m, "hi", {}, {7000.f});
  add_node(m, "MelWeightMatrix", {"bins", "dft", "rate", "lo", "hi"}, {"w"}, "mel");
  add_output(m, "w");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Value* w = output(*g, "w");
  ASSERT_TRUE(w->constant);
  EXPECT_EQ(w->type.shape, (ir::Shape{17, 4}));
  // onnx.reference.ReferenceEvaluator's result for these inputs.
  const double t = 1.0 / 3, tt = 2.0 / 3;
  std::vector<double> want = {1, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, tt, t, 0, 0, t, tt,
                              0, 0, 0, 1, 0, 0, 0, tt, 0, 0, 0, t};
  want.resize(17 * 4, 0.0);
  std::vector<float> v = f32_values(*w->constant);
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(v[i], want[i], 1e-6) << i;
}

}  // namespace
}  // namespace kiln::frontend::testing
