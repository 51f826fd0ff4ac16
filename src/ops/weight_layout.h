// Register tiles of the level-3 Conv/MatMul kernels and the pre-packed weight
// layouts they read (written at compile time by passes/pack_weights).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ops/gemm_blocking.h"
#include "kernel/ir.h"
#include "ops/op_info.h"

namespace kiln::ops {

// An mr x nr register tile: mr rows of nr = (vectors per row) x f32_lanes
// columns, sized so that the accumulators, one row of B vectors and one
// broadcast fit in the vector registers (AVX2 6x16, AVX-512 14x32, NEON 9x12).
struct RegisterTile {
  int mr = 1;
  int nr = 1;
};
RegisterTile register_tile(const KernelOptions& opts);

// Splits a vector loop of `width` lanes into pieces LLVM legalizes well:
// (offset, width) pairs of whole multiples of `lanes` then powers of two
// (28 at 16 lanes: 16 + 8 + 4). Odd widths like <28 x float> spill badly.
std::vector<std::pair<int64_t, int64_t>> vector_pieces(int64_t width, int lanes);

// A node attribute pair describing packed weights (input 1): "packed" names
// the layout ("ohwi16o" for Conv, "kn16n" for MatMul; the number is the block)
// and "packed_shape" holds the weight's logical shape.
//   Conv   W[M, cg, kh, kw], group G, mg = M/G, block nr:
//          Wp[G * ceil(mg/nr), kh, kw, cg, nr], oc = g*mg + ob*nr + j at [g*ceil(mg/nr) + ob, kh, kw, ic, j].
//   MatMul B[K, N], block nr: Bp[ceil(N/nr), K, nr], B[k, n] at [n/nr, k, n%nr].
// Padding elements are zero.
struct PackedWeight {
  std::string layout;
  int64_t block = 0;
  ir::Shape logical;
};
// The node's packed-weight description, if it has one.
std::optional<PackedWeight> packed_weight(const ir::Node& node);
void set_packed_weight(ir::Attrs& attrs, const std::string& layout, const ir::Shape& logical);
std::string conv_layout_name(int64_t nr);
// Conv weights as the tile-packed A operand of a GEMM (ops/conv_1x1_rows.cpp):
// "rowtile<mr>", per group the mg x K matrix (K = cg * kh * kw) cut into the
// row tiles of plan_row_tiles(mg, K, mr), each tile of h rows from row r0
// stored k-major at r0 * K: W[g * mg + r0 + i, k] at g * mg * K + r0 * K + k * h + i
// (one flat dimension, M * K elements).
std::string gemm_rows_layout_name(int64_t mr);
std::string matmul_layout_name(int64_t nr);

ir::Shape packed_conv_shape(const ir::Shape& logical, int64_t group, int64_t nr);
// NHWC depthwise Conv weights (ops/depthwise_nhwc.cpp): "chw<nr>c", channel
// blocks of nr, W[C, 1, kh, kw] -> Wp[ceil(C/nr), kh, kw, 1, nr], channel c at
// [c/nr, kh, kw, 0, c%nr] (pack_conv_weight with one group). NHWC ConvTranspose
// weights W[C, M/group, kh, kw] are "ohwi<nr>o" blocks of output channels:
// Wp[G * ceil(mg/nr), kh, kw, C/group, nr], as a Conv's with the roles of C and M swapped.
std::string depthwise_layout_name(int64_t nr);
// The packed shape of a Conv's weights in either Conv layout.
ir::Shape packed_conv_shape(const PackedWeight& packed, int64_t group);
ir::Shape packed_conv_transpose_shape(const ir::Shape& logical, int64_t group, int64_t nr);
ir::Shape packed_matmul_shape(const ir::Shape& logical, int64_t nr);
// f32 weights only.
ir::Tensor pack_conv_weight(const ir::Tensor& w, int64_t group, int64_t nr);
ir::Tensor pack_matmul_weight(const ir::Tensor& b, int64_t nr);
ir::Tensor pack_gemm_rows(const ir::Tensor& w, int64_t group, int64_t mr);
ir::Tensor pack_conv_transpose_weight(const ir::Tensor& w, int64_t group, int64_t nr);

// The packed index of a logical weight element (for loops that index weights
// by scalar output channel / column).
std::vector<kir::Expr> packed_conv_index(const kir::Expr& oc, const kir::Expr& ic, const kir::Expr& kh,
                                         const kir::Expr& kw, int64_t mg, int64_t nr);
std::vector<kir::Expr> packed_matmul_index(const kir::Expr& k, const kir::Expr& n, int64_t nr);

}  // namespace kiln::ops
