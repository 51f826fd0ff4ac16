// The level-3 int8 convolution (ops/conv_integer_tiled.cpp): register-tiled
// ConvInteger on kir dot products, its weights pre-packed at compile time
// (passes/pack_weights).
//
// The activations are first repacked, per call, into a padded scratch of
// 32-bit groups: four uint8 (the dot4 form: int8 activations offset by +128)
// or two int16 (the pair form: x - x_zero_point). A tile of mr output
// positions x nr output channels then accumulates dot(acc, group of x
// broadcast, nr channels' groups of weights) over the window and channels.
//   dot4 (opts.int8_dot4: VNNI, NEON dotprod): weights int8 (uint8 ones offset
//     by -128), Wp[G * ceil(mg/nr), kh, kw, ceil(cg/4), nr, 4], padding
//     channels = the weight zero point. The zero points are exact through
//       sum (x - xz)(w - wz) = sum x*w - xz * sum w - wz * sum x + K * xz * wz
//     with every padded element equal to its zero point: input 4 holds
//     int32 [2, M]: row 0 the per-channel constant K*xz*wz - xz*sum(w),
//     row 1 the (offset) weight zero points; sum x is accumulated only when
//     some weight zero point is not 0.
//   pairs (otherwise: AVX2/SSE vpmaddwd, NEON widening multiplies): weights
//     int16 w - wz, Wp[G * ceil(mg/nr), kh, kw, ceil(cg/2), nr, 2], padding 0;
//     no correction terms.
#pragma once

#include <string>

#include "ir/graph.h"
#include "ops/conv_params.h"
#include "ops/op_info.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

// ConvInteger's geometry (logical weight shape also when packed); errors name the problem.
Expected<ConvParams> conv_integer_params(const ir::Node& node);
// Products one dot instruction sums per int32 lane for `opts`: 4 or 2.
int int8_group(const KernelOptions& opts);
// Whether ConvInteger `node` runs the tiled kernel (level >= 3, constant
// weights and zero points, at least 4 output channels per group).
bool conv_integer_tiled_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts);
// The output-channel block the packed weights use.
int64_t conv_integer_block(const ConvParams& p, const KernelOptions& opts);
std::string conv_integer_layout_name(int64_t nr, int group);
// model.json's strategy of a tiled ConvInteger with these packed weights.
std::string conv_integer_strategy(const PackedWeight& packed);

struct PackedConvInteger {
  ir::Tensor weights;
  ir::Tensor offsets;  // dot4 only (empty for pairs)
};
// Packs ConvInteger `node`'s constant weights for the tiled kernel.
PackedConvInteger pack_conv_integer_weight(const ir::Node& node, const ConvParams& p, int64_t nr, int group);

Expected<kir::Stmt> lower_conv_integer_tiled(const LowerContext& ctx, const ConvParams& p);

}  // namespace kiln::ops
