// The level-3 int8 convolution (ops/conv_integer_tiled.cpp): register-tiled
// ConvInteger on kir dot products, its weights pre-packed at compile time
// (passes/pack_weights).
//
// Per call, the activations become an im2col of 32-bit groups,
// xq[n, g, tap, c, position] (positions padded to whole tiles): four uint8 (the
// dot4 form; int8 activations offset by +128) or two int16 (the pair form:
// x - x_zero_point), the window's padding holding the zero point's pattern. A
// tile of mr output channels x nv vectors of output positions then accumulates
// dot(acc, positions' groups, one channel's group broadcast) over the k steps
// (tap, c); the epilogue stores whole vectors of positions (contiguous in NCHW).
// A big map runs in chunks of output rows (its im2col up to 512 KB each),
// each repacked and then computed while it is in the cache. The k loop
// prefetches the weights a few KB ahead (they stream from memory once per block).
// A last tile of few positions (a 7x7 map: 49 = 48 + 1) that would waste most
// of its dot products runs with the block's channels in the lanes instead (one
// dot per position and k step, the k steps dealt round-robin to up to 16
// accumulators).
//   dot4 (opts.int8_dot4: VNNI, NEON dotprod): layout "o<mr>k4", weights int8
//     (uint8 ones offset by -128) packed four to an int32,
//     Wp[G * ceil(mg/mr), taps * ceil(cg/4), mr], padding channels = the weight
//     zero point. The zero points are exact through
//       sum (x - xz)(w - wz) = sum x*w - xz * sum w - wz * sum x + K * xz * wz
//     with every padded element equal to its zero point: input 4 holds int32
//     [2, G * ceil(mg/mr) * mr] by packed channel: row 0 the constant
//     K*xz*wz - xz*sum(w), row 1 the (offset) weight zero points; sum x is
//     accumulated only when some weight zero point is not 0.
//   flat k (either form, a window over few channels: conv_integer_flat):
//     layout suffix "f", the k steps are the window's elements flattened
//     (c, kh, kw) G at a time; the im2col reads a copy of the input padded
//     with the zero point, so that no element needs a bounds check.
//   pairs (otherwise: AVX2/SSE vpmaddwd, NEON widening multiplies): layout
//     "o<mr>k2", weights int16 w - wz packed two to an int32, padding 0; no
//     correction terms.
// A MatMulInteger with a constant matrix B[K, N] runs the same kernel as a 1x1
// conv over its rows (matmul_integer_as_conv): A's rows are the positions, K
// the input channels, N the output channels.
#pragma once

#include <string>

#include "ir/graph.h"
#include "ops/conv_params.h"
#include "ops/matmul_params.h"
#include "ops/op_info.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

// ConvInteger's geometry (logical weight shape also when packed); errors name the problem.
Expected<ConvParams> conv_integer_params(const ir::Node& node);
// MatMulInteger's shapes (logical B shape also when packed); errors name the problem.
Expected<MatMulParams> matmul_integer_params(const ir::Node& node);
// MatMulInteger `node` with shapes `p` as a 1x1 ConvInteger: one image of one
// row whose positions are A's rows, K input channels, N output channels.
ConvParams matmul_integer_as_conv(const MatMulParams& p);
// Products one dot instruction sums per int32 lane for `opts`: 4 or 2.
int int8_group(const KernelOptions& opts);
// Whether ConvInteger `node` runs the tiled kernel (level >= 3, constant
// weights and zero points, at least 4 output channels per group).
bool conv_integer_tiled_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts);
// Whether MatMulInteger `node` runs the tiled kernel: level >= 3, a constant
// matrix B (no batch) of at least 4 columns, constant zero points, one for A.
bool matmul_integer_tiled_applies(const ir::Node& node, const MatMulParams& p, const KernelOptions& opts);
// The block of output channels (tile rows) the packed weights use, and its layout name.
int64_t conv_integer_block(const KernelOptions& opts);
std::string conv_integer_layout_name(int64_t mr, int group, bool flat = false);
// Whether the packed k steps run over the window flattened (flat k: layout
// "o<mr>k<G>f"): elements (c, kh, kw) G at a time instead of G channels of one
// tap, when that takes fewer steps (a window over few channels: the
// 3-channel 7x7 stem, 37 steps instead of 49).
bool conv_integer_flat(const ConvParams& p, int group);
// model.json's strategy of a tiled ConvInteger with these packed weights.
std::string conv_integer_strategy(const PackedWeight& packed);

struct PackedConvInteger {
  ir::Tensor weights;
  ir::Tensor offsets;  // dot4 only (empty for pairs)
};
// Packs ConvInteger `node`'s constant weights (or MatMulInteger's B as
// matmul_integer_as_conv's 1x1 weights) for the tiled kernel.
PackedConvInteger pack_conv_integer_weight(const ir::Node& node, const ConvParams& p, int64_t mr, int group,
                                           bool flat);

Expected<kir::Stmt> lower_conv_integer_tiled(const LowerContext& ctx, const ConvParams& p);

}  // namespace kiln::ops
