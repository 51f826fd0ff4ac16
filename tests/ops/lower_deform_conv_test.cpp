// Lowering of DeformConv against a direct reference (bilinear taps, zero outside):
// groups and offset groups together, strides, dilations, asymmetric pads, bias and
// mask, offsets that push taps off the image (the node tests use 1-2 channels,
// stride 1, no dilation).
#include <cmath>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

using LowerDeformConvTest = OneNodeTest;

TEST_F(LowerDeformConvTest, GroupsStridesDilationsMaskBias) {
  const int64_t n = 2, c = 4, h = 7, w = 9, oc = 6, group = 2, og = 2, kh = 2, kw = 3;
  const Ints strides = {2, 1}, dil = {1, 2}, pads = {1, 0, 0, 2};
  const int64_t oh = (h + pads[0] + pads[2] - ((kh - 1) * dil[0] + 1)) / strides[0] + 1;
  const int64_t ow = (w + pads[1] + pads[3] - ((kw - 1) * dil[1] + 1)) / strides[1] + 1;
  HostTensor x = HostTensor::random(DType::kF32, {n, c, h, w}, 1);
  HostTensor wt = HostTensor::random(DType::kF32, {oc, c / group, kh, kw}, 2);
  HostTensor off = HostTensor::random(DType::kF32, {n, og * kh * kw * 2, oh, ow}, 3, -2.5, 2.5);
  HostTensor b = HostTensor::random(DType::kF32, {oc}, 4);
  HostTensor mask = HostTensor::random(DType::kF32, {n, og * kh * kw, oh, ow}, 5, 0, 1);
  auto px = [&](int64_t bb, int64_t ch, double y, double xx) {
    double fy = std::floor(y), fx = std::floor(xx), ly = y - fy, lx = xx - fx;
    auto at = [&](int64_t yi, int64_t xi) {
      return yi < 0 || yi >= h || xi < 0 || xi >= w ? 0.0 : x.get(((bb * c + ch) * h + yi) * w + xi);
    };
    int64_t y0 = static_cast<int64_t>(fy), x0 = static_cast<int64_t>(fx);
    return (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x0 + 1)) + ly * ((1 - lx) * at(y0 + 1, x0) + lx * at(y0 + 1, x0 + 1));
  };
  for (bool with_extras : {false, true}) {
    std::vector<double> want;
    for (int64_t bb = 0; bb < n; ++bb)
      for (int64_t o = 0; o < oc; ++o)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            double acc = with_extras ? b.get(o) : 0.0;
            for (int64_t ci = 0; ci < c / group; ++ci) {
              int64_t ch = o / (oc / group) * (c / group) + ci, g = ch / (c / og);
              for (int64_t ki = 0; ki < kh; ++ki)
                for (int64_t kj = 0; kj < kw; ++kj) {
                  int64_t tap = g * kh * kw + ki * kw + kj;
                  double dy = off.get(((bb * og * kh * kw * 2 + 2 * tap) * oh + i) * ow + j);
                  double dx = off.get(((bb * og * kh * kw * 2 + 2 * tap + 1) * oh + i) * ow + j);
                  double v = px(bb, ch, i * strides[0] - pads[0] + ki * dil[0] + dy, j * strides[1] - pads[1] + kj * dil[1] + dx);
                  double m = with_extras ? mask.get(((bb * og * kh * kw + tap) * oh + i) * ow + j) : 1.0;
                  acc += v * wt.get(((o * (c / group) + ci) * kh + ki) * kw + kj) * m;
                }
            }
            want.push_back(acc);
          }
    Attrs a;
    a.set("strides", strides).set("dilations", dil).set("pads", pads).set("group", group).set("offset_group", og);
    a.set("has_bias", int64_t{with_extras}).set("has_mask", int64_t{with_extras});
    std::vector<HostTensor> ins = {x, wt, off};
    if (with_extras) ins.insert(ins.end(), {b, mask});
    SCOPED_TRACE(with_extras ? "bias and mask" : "plain");
    const ir::Node& nd = node(OpKind::kDeformConv, ins, a);
    check_node(nd, ins, want, 1e-5);
  }
}

TEST_F(LowerDeformConvTest, RejectsWrongOffsetShape) {
  std::vector<ir::Value*> vs = {g_.add_input("x", ir::TensorType{DType::kF32, {1, 2, 5, 5}}),
                                g_.add_input("w", ir::TensorType{DType::kF32, {3, 2, 3, 3}}),
                                g_.add_input("off", ir::TensorType{DType::kF32, {1, 18, 2, 2}})};
  auto nd = g_.add_node(OpKind::kDeformConv, "dc", vs);
  ASSERT_FALSE(nd.has_value());
  EXPECT_EQ(nd.status().message(), "DeformConv 'dc': DeformConv offset must be 1x18x3x3, got float32[1x18x2x2]");
}

}  // namespace
}  // namespace kiln::ops::testing
