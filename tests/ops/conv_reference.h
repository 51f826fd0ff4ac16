// The naive NCHW convolution the conv lowering tests compare against (double
// accumulation; padding contributes 0).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lower_harness.h"

namespace kiln::ops::testing {

struct ConvCase {
  int64_t n, c, h, w, m, kh, kw, group;
  std::vector<int64_t> strides, pads, dilations;  // pads: top, left, bottom, right
  bool bias;
};

// Edge cases of the direct conv (ops/conv_direct) that both layouts' tests run
// (lower_tiled_test NCHW, lower_nhwc_test NHWC): tiny images, short rows,
// input-channel blocks, the sliding order's loops and borders.
inline std::vector<ConvCase> direct_conv_edge_cases() {
  return {
      {1, 4, 3, 2, 5, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},       // tiny image (whole-image tiles)
      {1, 6, 5, 4, 20, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},      // rows shorter than a tile
      {2, 5, 9, 7, 9, 3, 3, 1, {2, 2}, {0, 1, 2, 0}, {1, 1}, false},      // short rows, strided, odd pads
      {1, 3, 6, 5, 8, 3, 3, 1, {1, 1}, {2, 2, 2, 2}, {2, 2}, true},       // short rows, dilated
      {1, 40, 6, 31, 20, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},    // input-channel blocks, uneven last block
      {1, 64, 5, 4, 36, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, false},    // channel blocks over whole-image tiles
      {1, 96, 9, 19, 16, 3, 3, 2, {2, 2}, {1, 0, 1, 1}, {1, 1}, true},    // channel blocks: groups, strides
      {1, 12, 5, 40, 20, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},    // sliding order: interior loops, borders
      {2, 10, 7, 33, 9, 3, 3, 1, {2, 2}, {1, 0, 2, 1}, {1, 1}, false},    // sliding order: strides, asymmetric pads
      {1, 16, 9, 30, 16, 5, 3, 2, {1, 1}, {2, 1, 2, 1}, {1, 2}, true},    // sliding order 5x3: window-row loop, groups
      {1, 8, 6, 5, 12, 3, 3, 1, {1, 1}, {2, 1, 0, 2}, {2, 1}, true},      // sliding whole-image tiles: dilated, odd pads
      {2, 6, 7, 6, 10, 5, 3, 1, {1, 1}, {2, 1, 2, 1}, {1, 1}, false},     // sliding whole-image tiles 5x3: row checks
      {1, 160, 8, 10, 240, 3, 3, 1, {2, 2}, {1, 1, 1, 1}, {1, 1}, true},  // weights beyond L2: whole-image tiles prefetch blocks
  };
}

// The comparison tolerance for `p`'s outputs (inputs uniform in [-1, 1)): float32
// accumulation error grows with the terms per output, C/group * kh * kw
// (576 at 64 channels 3x3 reach 1e-5 where cancellation leaves a small result).
inline double conv_tolerance(const ConvCase& p) {
  return std::max(1e-5, 4e-8 * static_cast<double>(p.c / p.group * p.kh * p.kw));
}

// The NCHW output shape of `p`.
inline ir::Shape conv_out_shape(const ConvCase& p) {
  int64_t oh = (p.h + p.pads[0] + p.pads[2] - p.dilations[0] * (p.kh - 1) - 1) / p.strides[0] + 1;
  int64_t ow = (p.w + p.pads[1] + p.pads[3] - p.dilations[1] * (p.kw - 1) - 1) / p.strides[1] + 1;
  return {p.n, p.m, oh, ow};
}

// y = conv(x, wt) (+ b) in NCHW with output shape `out`.
inline std::vector<double> conv_ref(const ConvCase& p, const HostTensor& x, const HostTensor& wt,
                                    const HostTensor* b, const ir::Shape& out) {
  std::vector<double> y(out[0] * out[1] * out[2] * out[3]);
  int64_t cg = p.c / p.group, mg = p.m / p.group;
  for (int64_t n = 0; n < out[0]; ++n)
    for (int64_t oc = 0; oc < out[1]; ++oc)
      for (int64_t oh = 0; oh < out[2]; ++oh)
        for (int64_t ow = 0; ow < out[3]; ++ow) {
          double acc = b ? b->get(oc) : 0;
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t kh = 0; kh < p.kh; ++kh)
              for (int64_t kw = 0; kw < p.kw; ++kw) {
                int64_t ih = oh * p.strides[0] - p.pads[0] + kh * p.dilations[0];
                int64_t iw = ow * p.strides[1] - p.pads[1] + kw * p.dilations[1];
                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                acc += x.get(((n * p.c + oc / mg * cg + ic) * p.h + ih) * p.w + iw) *
                       wt.get(((oc * cg + ic) * p.kh + kh) * p.kw + kw);
              }
          y[((n * out[1] + oc) * out[2] + oh) * out[3] + ow] = acc;
        }
  return y;
}

}  // namespace kiln::ops::testing
