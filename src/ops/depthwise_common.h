// Pieces shared by the level-3 depthwise Conv kernels on NCHW
// (ops/depthwise.cpp) and NHWC (ops/depthwise_nhwc.cpp).
#pragma once

#include <functional>
#include <utility>

#include "ops/conv_params.h"
#include "ops/op_info.h"

namespace kiln::ops {

// The output rows [rlo, rhi) and columns [clo, chi) whose whole window lies
// inside the input: tiles there run without bounds checks.
struct DepthwiseInterior {
  int64_t rlo = 0, rhi = 0, clo = 0, chi = 0;
};
DepthwiseInterior depthwise_interior(const ConvParams& p);

// Whether the NHWC depthwise conv's outer loop runs on the thread pool: only
// from about a million multiply-adds (~10 us on one core). Smaller ones ran slower
// on two threads than on one (MobileNetV2's 14x14 and 7x7 depthwise convs,
// NHWC, 0.15-0.7 M MACs: 2-11 us on one thread, 7-24 us on two: the fork-join
// and the rows each thread reads from the other core's cache cost more than
// the halved work saves), while 1.35 M MACs at 56x56 gained (36 -> 29 us).
// The NCHW kernel (ops/depthwise.cpp) is several times slower per
// multiply-add (a quantized MobileNetV2's, with its QuantizeLinear epilogue,
// 20-90 us at 0.3-1.8 M MACs) and stays parallel: serial, that model's two-thread
// run took 1.06 -> 1.25 ms.
bool depthwise_parallel(const KernelOptions& opts, const ConvParams& p);

// One register tile of `mr` accumulators, vectorized over `width` lanes of
// `j`: acc[i] = init, then acc[i] += x(i) * w over the window (loop kh outer,
// kw inner, kw of kind kw_kind), then out(i, acc[i]). `row_ok`, when set,
// skips the window rows where it is false (it may use kh).
struct DepthwiseTile {
  DType dt;
  int64_t mr = 1, width = 1;
  kir::Expr j, kh, kw;
  kir::ForKind kw_kind = kir::ForKind::kSerial;
  kir::Expr init, w, row_ok;
  std::function<kir::Expr(int64_t i)> x;
  std::function<kir::Stmt(int64_t i, const kir::Expr& value)> out;
};
kir::Stmt depthwise_tile(const DepthwiseTile& t, const ConvParams& p);

}  // namespace kiln::ops
