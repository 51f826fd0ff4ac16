// Winograd F(m x m, 3 x 3) for level-4 convolutions (DESIGN.md "Known-good
// kernel strategies"): the transform matrices, the compile-time weight
// transform U = G g G^T with its packed layout, and which convs use it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ops/op_info.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

struct ConvParams;

// Y = A^T [(G g G^T) . (B^T d B)] A for an alpha x alpha input tile d
// (alpha = m + r - 1), an r x r kernel g and an m x m output tile Y.
// Matrices are row-major.
struct WinogradTransform {
  int m = 0;      // output tile size
  int r = 0;      // kernel size
  int alpha = 0;  // input tile size
  std::vector<double> at;  // m x alpha
  std::vector<double> g;   // alpha x r
  std::vector<double> bt;  // alpha x alpha
  double at_at(int i, int j) const { return at[i * alpha + j]; }
  double g_at(int i, int j) const { return g[i * r + j]; }
  double bt_at(int i, int j) const { return bt[i * alpha + j]; }
};

// F(4x4, 3x3) on the points 0, 1, -1, 1/2, -2 and infinity. With the usual
// 0, +-1, +-2 the fp32 error on ReLU activations and He-initialized weights is
// about 4x that of a direct conv; these points bring it to about 1.2x
// (Barabasz et al., "Error analysis and improving the accuracy of Winograd
// convolution for deep neural networks", 2020).
const WinogradTransform& winograd_f4x4_3x3();
// F(2x2, 3x3) on 0, 1, -1 and infinity (Lavin & Gray): 16 points instead of
// 36, so U is 16/9 of the direct weights instead of 4x, for 2.25x fewer
// multiplies than a direct conv instead of 4x; its coefficients are 0, +-1
// and 1/2, so its fp32 error is below F(4x4)'s.
const WinogradTransform& winograd_f2x2_3x3();
// The transform for output tile m, 2 or 4 (F(6x6, 3x3) on 0, +-1, +-1/2,
// +-2 measured no faster on ResNet's 56x56 and 28x28 layers, which are not
// multiples of 6, with 4-5x the fp32 error).
const WinogradTransform& winograd_transform(int m);

// Packed Winograd weights (input 1 of a Conv; see weight_layout.h for the
// "packed"/"packed_shape" attributes): layout "winograd_poi<nr>o_f<m>",
//   U[p, kb, c, j] = (G g[kb*nr + j, c] G^T)[p / alpha, p % alpha], shape
//   [alpha^2, ceil(K/nr), C, nr], zero for output channels >= K: per point
//   p, the K x C matrix in nr-channel panels for the batched GEMM.
std::string winograd_layout_name(int64_t nr, int m);
// The output tile size of a Winograd layout, 0 if `w` is another layout.
int winograd_tile(const PackedWeight& w);
ir::Shape packed_winograd_shape(const ir::Shape& logical, int64_t nr, const WinogradTransform& t);
ir::Shape packed_winograd_shape(const PackedWeight& packed);  // a Winograd layout
// f32 weights [K, C, 3, 3]; the transform runs in double.
ir::Tensor pack_winograd_weight(const ir::Tensor& w, int64_t nr, const WinogradTransform& t);

// Schedule knob (an int attribute of the Conv; unset: chosen from the
// sizes, see conv_winograd.cpp): tiles per block, the three phases run block by block.
inline constexpr const char* kWinogradBlockAttr = "winograd_block";
// Schedule knob (an int attribute of the Conv, 0, 2 or 4; unset: the cost
// model's choice, see conv_winograd_tile): the output tile of a
// Winograd-eligible conv, 0 for the direct kernels.
inline constexpr const char* kWinogradTileAttr = "winograd_tile";

// The Winograd output tile a Conv takes at these options: 4 (F(4x4, 3x3)),
// 2 (F(2x2, 3x3)) or 0 (not Winograd: the direct kernels). Level 4, f32,
// 3x3, stride 1, dilation 1, one group, then whichever of the three a cost
// model of multiplies, transforms and streaming U from memory says is
// cheapest (winograd.cpp) unless kWinogradTileAttr says; the tile of
// already-packed weights. The weights must also be constant (pack_weights).
int conv_winograd_tile(const ir::Node& node, const ConvParams& p, const KernelOptions& opts);

}  // namespace kiln::ops
