// Lowering of GridSample and Col2Im against naive references written from the
// ONNX reference implementation: every mode x padding mode x align_corners,
// coordinates far outside the image (several reflections), 1-D and 3-D inputs,
// 3-D cubic (the node tests have 2-D cubic only), float64; Col2Im in 1-D and
// 3-D with strides, dilations and pads together.
#include <cmath>
#include <functional>
#include <string>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

using LowerSamplingTest = OneNodeTest;

double reflect(double x, double lo, double hi) {
  double range = hi - lo;
  if (x < lo) {
    double dx = lo - x;
    int64_t n = static_cast<int64_t>(dx / range);
    double r = dx - static_cast<double>(n) * range;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    double dx = x - hi;
    int64_t n = static_cast<int64_t>(dx / range);
    double r = dx - static_cast<double>(n) * range;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

std::vector<double> cubic(double f) {
  const double a = -0.75;
  auto far = [&](double x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
  auto near = [&](double x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
  return {far(f + 1), near(f), near(1 - f), far(2 - f)};
}

std::vector<double> grid_sample_ref(const HostTensor& x, const HostTensor& grid, const std::string& mode,
                                    const std::string& pad, bool align) {
  const ir::Shape& xs = x.type.shape;
  const ir::Shape& gs = grid.type.shape;
  int64_t k = static_cast<int64_t>(xs.size()) - 2;
  ir::Shape out = {xs[0], xs[1]};
  out.insert(out.end(), gs.begin() + 1, gs.end() - 1);
  int64_t total = 1;
  for (int64_t d : out) total *= d;
  std::vector<double> y(total);
  for (int64_t o = 0; o < total; ++o) {
    Ints idx = unflatten(o, out);
    std::vector<double> c(k), lo(k), hi(k);
    for (int64_t s = 0; s < k; ++s) {
      Ints gi = {idx[0]};
      gi.insert(gi.end(), idx.begin() + 2, idx.end());
      gi.push_back(k - 1 - s);
      double n = grid.get(flatten_bcast(gi, gs));
      double len = static_cast<double>(xs[2 + s]);
      double v = align ? (n + 1) / 2 * (len - 1) : ((n + 1) * len - 1) / 2;
      if (mode == "nearest") v = std::nearbyint(v);
      lo[s] = align ? 0 : -0.5;
      hi[s] = align ? len - 1 : len - 0.5;
      if (v < lo[s] || v > hi[s]) {
        // (cubic + border: ONNX Runtime's behavior, each tap clamped instead)
        if (pad == "border" && mode != "cubic") v = std::max(0.0, std::min(len - 1, v));
        if (pad == "reflection") v = reflect(v, lo[s], hi[s]);
      }
      c[s] = v;
    }
    auto pixel = [&](const Ints& at) {
      Ints full = {idx[0], idx[1]};
      for (int64_t s = 0; s < k; ++s) {
        int64_t i = at[s], d = xs[2 + s];
        if (pad == "zeros" && (i < 0 || i >= d)) return 0.0;
        if (pad == "border") i = std::max<int64_t>(0, std::min<int64_t>(d - 1, i));
        if (pad == "reflection") i = static_cast<int64_t>(reflect(static_cast<double>(i), lo[s], hi[s]));
        full.push_back(i);
      }
      return x.get(flatten_bcast(full, xs));
    };
    if (mode == "nearest") {
      Ints at;
      for (double v : c) at.push_back(static_cast<int64_t>(v));
      y[o] = pixel(at);
      continue;
    }
    int taps = mode == "cubic" ? 4 : 2;
    int64_t combos = 1;
    for (int64_t s = 0; s < k; ++s) combos *= taps;
    double sum = 0;
    for (int64_t t = 0; t < combos; ++t) {
      Ints at(k);
      double w = 1;
      int64_t rest = t;
      for (int64_t s = k; s-- > 0;) {
        int64_t j = rest % taps;
        rest /= taps;
        double f0 = std::floor(c[s]), f = c[s] - f0;
        at[s] = static_cast<int64_t>(f0) + j - (taps == 4 ? 1 : 0);
        w *= taps == 4 ? cubic(f)[j] : (j == 0 ? 1 - f : f);
      }
      sum += w * pixel(at);
    }
    y[o] = sum;
  }
  return y;
}

TEST_F(LowerSamplingTest, GridSampleModesPaddingsAndRanks) {
  struct Case {
    ir::Shape x, grid;
  };
  // 1-D, 2-D (non-square, output wider than a vector) and 3-D.
  std::vector<Case> cases = {{{2, 2, 7}, {2, 11, 1}}, {{1, 2, 5, 4}, {1, 3, 10, 2}}, {{1, 1, 3, 4, 5}, {1, 2, 3, 4, 3}}};
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    HostTensor x = HostTensor::random(DType::kF32, cases[ci].x, 3 + ci);
    // Up to 3.5 outside [-1, 1]: several reflections, clamps and zero taps.
    HostTensor grid = HostTensor::random(DType::kF32, cases[ci].grid, 40 + ci, -3.5, 3.5);
    for (const char* mode : {"nearest", "linear", "cubic"})
      for (const char* pad : {"zeros", "border", "reflection"})
        for (int64_t align : {0, 1}) {
          // 3-D cubic (64 taps) once: its kernels are large to compile.
          if (ci == 2 && std::string(mode) == "cubic" && (std::string(pad) != "reflection" || align == 0)) continue;
          SCOPED_TRACE(std::string(mode) + " " + pad + " align " + std::to_string(align) + " case " + std::to_string(ci));
          Attrs a;
          a.set("mode", std::string(mode)).set("padding_mode", std::string(pad)).set("align_corners", align);
          const ir::Node& n = node(OpKind::kGridSample, {x, grid}, a);
          check_node(n, {x, grid}, grid_sample_ref(x, grid, mode, pad, align != 0), 1e-4);
        }
  }
}

TEST_F(LowerSamplingTest, GridSampleFloat64AndNearestTies) {
  HostTensor x = HostTensor::random(DType::kF64, {1, 1, 4, 4}, 9);
  // Grid points that land exactly halfway between pixels: nearest rounds half to even.
  std::vector<double> g;
  for (int i = 0; i < 8; ++i) g.insert(g.end(), {-1.0 + 0.25 * i, 1.0 - 0.25 * i});
  HostTensor grid = HostTensor::of(DType::kF64, {1, 1, 8, 2}, g);
  for (const char* mode : {"nearest", "linear"}) {
    Attrs a;
    a.set("mode", std::string(mode)).set("padding_mode", std::string("border")).set("align_corners", int64_t{0});
    const ir::Node& n = node(OpKind::kGridSample, {x, grid}, a);
    check_node(n, {x, grid}, grid_sample_ref(x, grid, mode, "border", false), 1e-9);
  }
}

TEST_F(LowerSamplingTest, GridSampleRejectsBadGridAndMode) {
  ir::Value* x = g_.add_input("x", ir::TensorType{DType::kF32, {1, 2, 4, 4}});
  ir::Value* g = g_.add_input("g", ir::TensorType{DType::kF32, {1, 3, 3, 3}});
  auto n = g_.add_node(OpKind::kGridSample, "gs", {x, g});
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.status().message(),
            "GridSample 'gs': GridSample grid must be [1, 2 output sizes, 2] for input float32[1x2x4x4], got float32[1x3x3x3]");
  ir::Value* g2 = g_.add_input("g2", ir::TensorType{DType::kF32, {1, 3, 3, 2}});
  n = g_.add_node(OpKind::kGridSample, "gs2", {x, g2}, Attrs().set("mode", std::string("area")));
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.status().message(), "GridSample 'gs2': GridSample mode 'area' is not nearest, linear or cubic");
}

// Sums every column entry onto the image position its block and tap address.
std::vector<double> col2im_ref(const HostTensor& x, const Ints& image, const Ints& block, const Ints& strides,
                               const Ints& dil, const Ints& pads) {
  size_t k = image.size();
  Ints blocks;
  int64_t taps = 1, pixels = 1;
  for (size_t i = 0; i < k; ++i) {
    blocks.push_back((image[i] + pads[i] + pads[k + i] - dil[i] * (block[i] - 1) - 1) / strides[i] + 1);
    taps *= block[i];
    pixels *= image[i];
  }
  int64_t n = x.type.shape[0], c = x.type.shape[1] / taps, l = x.type.shape[2];
  std::vector<double> y(n * c * pixels, 0.0);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c * taps; ++ch)
      for (int64_t col = 0; col < l; ++col) {
        Ints off = unflatten(ch % taps, ir::Shape(block.begin(), block.end()));
        Ints pos = unflatten(col, ir::Shape(blocks.begin(), blocks.end()));
        int64_t flat = 0;
        bool inside = true;
        for (size_t i = 0; i < k; ++i) {
          int64_t p = pos[i] * strides[i] - pads[i] + off[i] * dil[i];
          inside = inside && p >= 0 && p < image[i];
          flat = flat * image[i] + p;
        }
        if (inside) y[(b * c + ch / taps) * pixels + flat] += x.get((b * c * taps + ch) * l + col);
      }
  return y;
}

TEST_F(LowerSamplingTest, Col2ImStridesDilationsPads1dTo3d) {
  struct Case {
    Ints image, block, strides, dil, pads;
    int64_t n, c;
  };
  std::vector<Case> cases = {
      {{13}, {3}, {2}, {2}, {1, 2}, 2, 3},
      {{7, 9}, {2, 3}, {2, 1}, {3, 2}, {2, 0, 1, 3}, 1, 2},
      {{4, 5, 6}, {2, 2, 3}, {1, 2, 2}, {1, 2, 1}, {0, 1, 1, 1, 0, 2}, 1, 2},
  };
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& cs = cases[ci];
    int64_t taps = 1, l = 1;
    for (size_t i = 0; i < cs.image.size(); ++i) {
      taps *= cs.block[i];
      l *= (cs.image[i] + cs.pads[i] + cs.pads[cs.image.size() + i] - cs.dil[i] * (cs.block[i] - 1) - 1) / cs.strides[i] + 1;
    }
    HostTensor x = HostTensor::random(DType::kF32, {cs.n, cs.c * taps, l}, 20 + ci);
    Attrs a;
    a.set("image", cs.image).set("block", cs.block).set("strides", cs.strides).set("dilations", cs.dil).set("pads", cs.pads);
    const ir::Node& n = node(OpKind::kCol2Im, {x}, a);
    SCOPED_TRACE("case " + std::to_string(ci));
    check_node(n, {x}, col2im_ref(x, cs.image, cs.block, cs.strides, cs.dil, cs.pads), 1e-5);
  }
}

TEST_F(LowerSamplingTest, Col2ImRejectsWrongColumnCount) {
  ir::Value* x = g_.add_input("x", ir::TensorType{DType::kF32, {1, 4, 5}});
  Attrs a;
  a.set("image", Ints{3, 3}).set("block", Ints{2, 2});
  auto n = g_.add_node(OpKind::kCol2Im, "c2i", {x}, a);
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.status().message(),
            "Col2Im 'c2i': Col2Im input must be [N, C*4, 4] for image [3, 3] and block [2, 2], got float32[1x4x5]");
}

}  // namespace
}  // namespace kiln::ops::testing
