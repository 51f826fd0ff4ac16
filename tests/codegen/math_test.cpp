// Inline math intrinsics (exp, log, erf, tanh, sigmoid, pow, sin .. atan) vs std:: in double,
// scalar and vector code, over a sweep plus the special values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "codegen/codegen.h"
#include "kernel/ir.h"

namespace kiln::codegen {
namespace {

using namespace kiln::kir;  // NOLINT

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> sweep() {
  std::vector<float> v;
  for (float x = -100.0f; x <= 100.0f; x += 0.37f) v.push_back(x);
  for (float x = -5.0f; x <= 5.0f; x += 0.0137f) v.push_back(x);
  for (float e = -40; e <= 38; e += 0.5f) {
    v.push_back(std::pow(10.0f, e));
    v.push_back(-std::pow(10.0f, e));
  }
  for (float x : {0.0f, -0.0f, kInf, -kInf, NAN, 88.7f, 88.72f, 89.0f, -87.3f, -103.0f, -104.0f, -110.0f, 1e-45f,
                  1.17549435e-38f, 0.625f, -0.625f, 0.6249f, 3.9f, 4.0f, 1.0f, -1.0f})
    v.push_back(x);
  while (v.size() % 8) v.push_back(0.5f);
  return v;
}

// Runs out[i] = f(in[i]) (or f(in[i], in2[i])) once as scalar code and once vectorized by 8.
std::vector<std::vector<float>> run_unary(Intrinsic fn, const std::vector<float>& x, const std::vector<float>* y) {
  Buffer in = make_buffer("in", DType::kF32), in2 = make_buffer("in2", DType::kF32), out = make_buffer("out", DType::kF32);
  Expr i = var("i"), io = var("io"), ii = var("ii");
  auto body = [&](Expr k) {
    std::vector<Expr> args{load(in, k)};
    if (y) args.push_back(load(in2, k));
    return store(out, k, call(fn, args));
  };
  int64_t n = static_cast<int64_t>(x.size());
  std::string name = intrinsic_name(fn);
  Func scalar{name + "_s", {in, in2, out}, for_loop(i, 0, n, ForKind::kSerial, body(i))};
  Func vec{name + "_v", {in, in2, out},
           for_loop(io, 0, n / 8, ForKind::kSerial, for_loop(ii, 0, 8, ForKind::kVectorized, body(io * 8 + ii)))};
  auto jit = Jit::create();
  EXPECT_TRUE(jit.has_value());
  std::vector<std::vector<float>> results;
  std::vector<float> second = y ? *y : x;
  for (const Func* f : {&scalar, &vec}) {
    std::vector<float> out_v(x.size(), 12345.0f);
    EXPECT_TRUE((*jit)->add(*f).is_ok());
    EXPECT_TRUE((*jit)->run(f->name, {const_cast<float*>(x.data()), second.data(), out_v.data()}).is_ok());
    results.push_back(out_v);
  }
  return results;
}

// Compares with the double reference rounded to float: relative error within
// rel_tol, or absolute error within abs_tol; special values must match exactly.
void check(Intrinsic fn, double (*ref)(double), double rel_tol, double abs_tol) {
  std::vector<float> x = sweep();
  for (auto& got : run_unary(fn, x, nullptr)) {
    for (size_t k = 0; k < x.size(); ++k) {
      float want = static_cast<float>(ref(x[k]));
      float g = got[k];
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(g)) << intrinsic_name(fn) << "(" << x[k] << ") = " << g;
      } else if (std::isinf(want) || want == 0.0f) {
        EXPECT_EQ(g, want) << intrinsic_name(fn) << "(" << x[k] << ")";
      } else {
        double err = std::fabs(static_cast<double>(g) - want);
        EXPECT_TRUE(err <= rel_tol * std::fabs(want) || err <= abs_tol)
            << intrinsic_name(fn) << "(" << x[k] << ") = " << g << ", want " << want << ", rel err "
            << err / std::fabs(want);
      }
    }
  }
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// exp's subnormal results lose relative precision; 1e-44 absolute covers them.
TEST(Math, Exp) { check(Intrinsic::kExp, [](double x) { return std::exp(x); }, 2.5e-7, 1e-44); }
TEST(Math, Log) { check(Intrinsic::kLog, [](double x) { return std::log(x); }, 2.5e-7, 0.0); }
TEST(Math, Erf) { check(Intrinsic::kErf, [](double x) { return std::erf(x); }, 5e-7, 1e-45); }
TEST(Math, Tanh) { check(Intrinsic::kTanh, [](double x) { return std::tanh(x); }, 3e-7, 1e-45); }
TEST(Math, Sigmoid) { check(Intrinsic::kSigmoid, sigmoid_ref, 3e-7, 1e-44); }

// The trigonometric functions reduce in f64, so they stay accurate for huge
// arguments too (the sweep reaches +-1e38); Trig adds a dense mid-range sweep.
TEST(Math, Sin) { check(Intrinsic::kSin, [](double x) { return std::sin(x); }, 3e-7, 1e-45); }
TEST(Math, Cos) { check(Intrinsic::kCos, [](double x) { return std::cos(x); }, 3e-7, 1e-45); }
TEST(Math, Tan) { check(Intrinsic::kTan, [](double x) { return std::tan(x); }, 5e-7, 1e-45); }
TEST(Math, Asin) { check(Intrinsic::kAsin, [](double x) { return std::asin(x); }, 3e-7, 1e-45); }
TEST(Math, Acos) { check(Intrinsic::kAcos, [](double x) { return std::acos(x); }, 3e-7, 1e-45); }
TEST(Math, Atan) { check(Intrinsic::kAtan, [](double x) { return std::atan(x); }, 3e-7, 1e-45); }

TEST(Math, TrigRanges) {
  std::vector<float> x;
  for (float v = -1.0f; v <= 1.0f; v += 0.00173f) x.push_back(v);
  for (float v = 1000.0f; v < 3e7f; v *= 1.0137f) {
    x.push_back(v);
    x.push_back(-v);
  }
  // Near multiples of pi/2, where sin/cos/tan cancel hardest.
  for (int k = 1; k < 2000; k += 7) x.push_back(static_cast<float>(k * 1.5707963267948966));
  for (float v : {1.0f, -1.0f, 0.5f, -0.5f, 0.49999f, 0.50001f, 1.00001f, -1.00001f, 1e-30f, 16777215.0f, 16777216.0f,
                  -16777218.0f, 3.4e38f, -3.4e38f})
    x.push_back(v);
  while (x.size() % 8) x.push_back(0.25f);
  struct Case {
    Intrinsic fn;
    double (*ref)(double);
    double tol;
  };
  for (Case cs : {Case{Intrinsic::kSin, [](double v) { return std::sin(v); }, 3e-7},
                  Case{Intrinsic::kCos, [](double v) { return std::cos(v); }, 3e-7},
                  Case{Intrinsic::kTan, [](double v) { return std::tan(v); }, 5e-7},
                  Case{Intrinsic::kAsin, [](double v) { return std::asin(v); }, 3e-7},
                  Case{Intrinsic::kAcos, [](double v) { return std::acos(v); }, 3e-7},
                  Case{Intrinsic::kAtan, [](double v) { return std::atan(v); }, 3e-7}}) {
    for (auto& got : run_unary(cs.fn, x, nullptr)) {
      for (size_t k = 0; k < x.size(); ++k) {
        double want = cs.ref(x[k]);
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(got[k])) << intrinsic_name(cs.fn) << "(" << x[k] << ") = " << got[k];
          continue;
        }
        double err = std::fabs(got[k] - want);
        // Relative to the result, but at least half an f32 ulp of it (rounding alone).
        double ulp = std::fabs(std::nextafter(static_cast<float>(want), 1e30f) - static_cast<float>(want));
        EXPECT_LE(err, std::max(cs.tol * std::fabs(want), ulp)) << intrinsic_name(cs.fn) << "(" << x[k] << ") = "
                                                                << got[k] << ", want " << want;
      }
    }
  }
  // Infinities and NaN: sin/cos/tan are NaN, atan(+-inf) = +-pi/2.
  std::vector<float> s{kInf, -kInf, NAN, 0.0f, -0.0f, 2.0f, -2.0f, 1.0f};
  for (Intrinsic fn : {Intrinsic::kSin, Intrinsic::kCos, Intrinsic::kTan, Intrinsic::kAsin, Intrinsic::kAcos}) {
    for (auto& got : run_unary(fn, s, nullptr)) {
      for (int k = 0; k < 3; ++k) EXPECT_TRUE(std::isnan(got[k])) << intrinsic_name(fn) << "(" << s[k] << ")";
    }
  }
  for (auto& got : run_unary(Intrinsic::kAtan, s, nullptr)) {
    EXPECT_FLOAT_EQ(got[0], 1.5707963f);
    EXPECT_FLOAT_EQ(got[1], -1.5707963f);
    EXPECT_TRUE(std::isnan(got[2]));
    EXPECT_EQ(got[3], 0.0f);
    EXPECT_TRUE(std::signbit(got[4]));
  }
  for (auto& got : run_unary(Intrinsic::kSin, s, nullptr)) EXPECT_TRUE(std::signbit(got[4])) << "sin(-0)";
  for (auto& got : run_unary(Intrinsic::kAsin, s, nullptr)) EXPECT_TRUE(std::isnan(got[5]) && std::isnan(got[6]));
  for (auto& got : run_unary(Intrinsic::kAcos, s, nullptr)) EXPECT_EQ(got[7], 0.0f);
}

TEST(Math, SpecialValues) {
  std::vector<float> x{100.0f, -100.0f, 0.0f, -1.0f, kInf, -kInf, 20.0f, -20.0f, -110.0f};
  while (x.size() % 8) x.push_back(0.0f);
  auto e = run_unary(Intrinsic::kExp, x, nullptr)[1];
  EXPECT_EQ(e[0], kInf);
  // exp(-100) is a subnormal in f32 (3.8e-44), as std::exp says; exp(-inf) is 0.
  EXPECT_NEAR(e[1], std::exp(-100.0f), 1.5e-45f);
  EXPECT_GT(e[1], 0.0f);
  EXPECT_EQ(e[5], 0.0f);
  EXPECT_EQ(e[8], 0.0f);
  auto l = run_unary(Intrinsic::kLog, x, nullptr)[1];
  EXPECT_EQ(l[2], -kInf);
  EXPECT_TRUE(std::isnan(l[3]));
  EXPECT_EQ(l[4], kInf);
  auto t = run_unary(Intrinsic::kTanh, x, nullptr)[0];
  EXPECT_EQ(t[6], 1.0f);
  EXPECT_EQ(t[7], -1.0f);
  EXPECT_EQ(t[4], 1.0f);
  auto r = run_unary(Intrinsic::kErf, x, nullptr)[0];
  EXPECT_EQ(r[4], 1.0f);
  EXPECT_EQ(r[5], -1.0f);
}

TEST(Math, Pow) {
  std::vector<float> x, y;
  for (float a : {0.5f, 1.0f, 2.0f, 3.7f, 10.0f, 0.01f})
    for (float b : {-3.0f, -1.5f, -0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 2.5f, 7.0f}) {
      x.push_back(a);
      y.push_back(b);
    }
  // Negative bases: integral exponents keep the parity sign, others give NaN.
  for (float a : {-2.0f, -0.5f, -3.0f})
    for (float b : {2.0f, 3.0f, -1.0f, 0.5f}) {
      x.push_back(a);
      y.push_back(b);
    }
  for (auto [a, b] : std::vector<std::pair<float, float>>{
           {0.0f, 2.0f}, {0.0f, 0.5f}, {0.0f, -1.0f}, {-0.0f, -1.0f}, {-0.0f, 3.0f}, {NAN, 0.0f}, {1.0f, NAN},
           {2.0f, NAN}, {kInf, 2.0f}, {2.0f, 200.0f}, {2.0f, -200.0f}}) {
    x.push_back(a);
    y.push_back(b);
  }
  while (x.size() % 8) {
    x.push_back(1.5f);
    y.push_back(2.0f);
  }
  for (auto& got : run_unary(Intrinsic::kPow, x, &y)) {
    for (size_t k = 0; k < x.size(); ++k) {
      float want = std::pow(x[k], y[k]);
      float g = got[k];
      std::string what = "pow(" + std::to_string(x[k]) + ", " + std::to_string(y[k]) + ") = " + std::to_string(g) + " want " + std::to_string(want);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(g)) << what;
      } else if (std::isinf(want) || want == 0.0f || std::isnan(x[k]) || std::isnan(y[k])) {
        EXPECT_EQ(g, want) << what;
        EXPECT_EQ(std::signbit(g), std::signbit(want)) << what;
      } else {
        // exp(y*log|x|) amplifies log's error by |y*log|x||.
        double tol = 3e-7 * (1.0 + std::fabs(y[k] * std::log(std::fabs(x[k]))));
        EXPECT_LE(std::fabs(g - want), tol * std::fabs(want)) << what;
      }
    }
  }
}

}  // namespace
}  // namespace kiln::codegen
