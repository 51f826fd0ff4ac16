// Lowering of RoiAlign against a C++ transcription of the ONNX reference: both
// coordinate modes (output_half_pixel forces regions to at least 1x1), fixed and
// adaptive sampling, regions partly outside the image or inverted, several images
// picked by batch_indices, avg and max, non-square output grids.
#include <cmath>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;

using LowerRoiAlignTest = OneNodeTest;

std::vector<double> roi_align_ref(const HostTensor& x, const HostTensor& rois, const HostTensor& bi, int64_t oh,
                                  int64_t ow, int64_t ratio, double scale, bool max_mode, bool half_pixel) {
  const ir::Shape& s = x.type.shape;
  int64_t c = s[1], h = s[2], w = s[3], n = rois.type.shape[0];
  std::vector<double> y;
  for (int64_t r = 0; r < n; ++r) {
    double off = half_pixel ? 0.5 : 0.0;
    double x0 = rois.get(r * 4) * scale - off, y0 = rois.get(r * 4 + 1) * scale - off;
    double rw = rois.get(r * 4 + 2) * scale - off - x0, rh = rois.get(r * 4 + 3) * scale - off - y0;
    if (!half_pixel) rw = std::max(rw, 1.0), rh = std::max(rh, 1.0);
    double bh = rh / oh, bw = rw / ow;
    int64_t gh = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(rh / oh));
    int64_t gw = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(rw / ow));
    int64_t count = std::max<int64_t>(gh * gw, 1);
    int64_t img = static_cast<int64_t>(bi.get(r));
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t ph = 0; ph < oh; ++ph)
        for (int64_t pw = 0; pw < ow; ++pw) {
          double out = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy)
            for (int64_t ix = 0; ix < gw; ++ix) {
              double yy = y0 + ph * bh + (iy + 0.5) * bh / gh, xx = x0 + pw * bw + (ix + 0.5) * bw / gw;
              double v = 0;
              if (!(yy < -1 || yy > h || xx < -1 || xx > w)) {
                yy = std::max(yy, 0.0), xx = std::max(xx, 0.0);
                int64_t yl = static_cast<int64_t>(yy), xl = static_cast<int64_t>(xx), yh, xh;
                if (yl >= h - 1) yh = yl = h - 1, yy = yl; else yh = yl + 1;
                if (xl >= w - 1) xh = xl = w - 1, xx = xl; else xh = xl + 1;
                double ly = yy - yl, lx = xx - xl, hy = 1 - ly, hx = 1 - lx;
                auto px = [&](int64_t yi, int64_t xi) { return x.get(((img * c + ch) * h + yi) * w + xi); };
                double t[4] = {hy * hx * px(yl, xl), hy * lx * px(yl, xh), ly * hx * px(yh, xl), ly * lx * px(yh, xh)};
                v = max_mode ? std::max(std::max(t[0], t[1]), std::max(t[2], t[3])) : t[0] + t[1] + t[2] + t[3];
              }
              if (max_mode) out = first ? v : std::max(out, v);
              else out += v;
              first = false;
            }
          y.push_back(max_mode ? out : out / count);
        }
  }
  return y;
}

TEST_F(LowerRoiAlignTest, ModesSamplingAndOddRegions) {
  HostTensor x = HostTensor::random(DType::kF32, {2, 3, 9, 11}, 4);
  // (x1, y1, x2, y2): inside, partly outside, tiny, inverted, covering everything.
  HostTensor rois = HostTensor::of(DType::kF32, {5, 4},
                                   {1.0, 2.0, 7.5, 6.0, -3.0, 5.0, 14.0, 12.0, 4.2, 4.4, 4.5, 4.6,
                                    6.0, 6.0, 2.0, 3.0, 0.0, 0.0, 10.9, 8.9});
  HostTensor bi = HostTensor::of(DType::kI64, {5}, {0, 1, 1, 0, 1});
  for (bool max_mode : {false, true})
    for (bool half_pixel : {false, true})
      for (int64_t ratio : {0, 2}) {
        SCOPED_TRACE(std::string(max_mode ? "max" : "avg") + (half_pixel ? " half_pixel" : "") + " ratio " +
                     std::to_string(ratio));
        Attrs a;
        a.set("output_height", int64_t{3}).set("output_width", int64_t{2}).set("sampling_ratio", ratio);
        a.set("spatial_scale", 0.9).set("mode", std::string(max_mode ? "max" : "avg"));
        a.set("half_pixel", int64_t{half_pixel});
        const ir::Node& n = node(OpKind::kRoiAlign, {x, rois, bi}, a);
        check_node(n, {x, rois, bi}, roi_align_ref(x, rois, bi, 3, 2, ratio, 0.9, max_mode, half_pixel), 1e-5);
      }
}

TEST_F(LowerRoiAlignTest, RejectsBadRois) {
  ir::Value* x = g_.add_input("x", ir::TensorType{DType::kF32, {1, 1, 4, 4}});
  ir::Value* rois = g_.add_input("rois", ir::TensorType{DType::kF32, {2, 5}});
  ir::Value* bi = g_.add_input("bi", ir::TensorType{DType::kI64, {2}});
  auto n = g_.add_node(OpKind::kRoiAlign, "ra", {x, rois, bi});
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.status().message(), "RoiAlign 'ra': RoiAlign rois must be [num_rois, 4], got float32[2x5]");
}

}  // namespace
}  // namespace kiln::ops::testing
