// The naive NCHW convolution the conv lowering tests compare against (double
// accumulation; padding contributes 0).
#pragma once

#include <cstdint>
#include <vector>

#include "lower_harness.h"

namespace kiln::ops::testing {

struct ConvCase {
  int64_t n, c, h, w, m, kh, kw, group;
  std::vector<int64_t> strides, pads, dilations;  // pads: top, left, bottom, right
  bool bias;
};

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
