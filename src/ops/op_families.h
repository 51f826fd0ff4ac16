// Internal to src/ops: the per-family functions that op_table.cpp lists, and
// small helpers the family files share. Not part of the ops interface.
#pragma once

#include <string>
#include <vector>

#include "ops/op_info.h"

namespace kiln::ops {

// unary.cpp: the one-input elementwise ops (Identity .. Cast).
Status infer_unary(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_unary(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// binary.cpp: the broadcasting two-input ops and Where.
Status infer_binary(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_binary(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// reshape.cpp
Status infer_reshape(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_reshape(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// transpose.cpp
Status infer_transpose(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_transpose(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// A Transpose's perm attribute (default: the dimensions reversed).
std::vector<int64_t> transpose_perm(const ir::Node& node);
// concat.cpp
Status infer_concat(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_concat(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// gather.cpp
Status infer_gather(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_gather(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// slice.cpp
Status infer_slice(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_slice(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// expand.cpp
Status infer_expand(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_expand(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// conv.cpp
Status infer_conv(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_conv(const LowerContext& ctx);
// matmul.cpp
Status infer_matmul(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_matmul(const LowerContext& ctx);
// conv_tiled.cpp / matmul_tiled.cpp: the level-3 register-tiled kernels.
// *_applies says whether the node takes that path at these options (then its
// constant weights are worth packing: passes/pack_weights).
struct ConvParams;
struct MatMulParams;
bool conv_tiled_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts);
Expected<kir::Stmt> lower_conv_tiled(const LowerContext& ctx, const ConvParams& p);
// conv_1x1_rows.cpp: the tiled path's choice for 1x1, unpadded convs with
// wide rows of output positions (vectors along the row; strided inputs gathered; weights tile-packed as the GEMM's A,
// passes/pack_weights). conv_1x1_transposed: rows whose vector pieces leave
// many lanes idle (7x7) with a long K run transposed instead (positions
// broadcast, output channels as vectors: weights packed "ohwi<nr>o").
bool conv_1x1_rows_applies(const ConvParams& p, const KernelOptions& opts);
bool conv_1x1_transposed(const ConvParams& p, const KernelOptions& opts);
// depthwise.cpp: level-3 depthwise convs (one output channel per input channel).
bool depthwise_tiled_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts);
Expected<kir::Stmt> lower_depthwise_tiled(const LowerContext& ctx, const ConvParams& p);
Expected<kir::Stmt> lower_conv_1x1_rows(const LowerContext& ctx, const ConvParams& p);
// conv_winograd.cpp: level-4 Winograd F(4x4, 3x3), NCHW or NHWC, for convs whose
// weights passes/pack_weights transformed (ops/winograd.h says which).
Expected<kir::Stmt> lower_conv_winograd(const LowerContext& ctx, const ConvParams& p);
bool matmul_tiled_applies(const ir::Node& node, const MatMulParams& p, const KernelOptions& opts);
Expected<kir::Stmt> lower_matmul_tiled(const LowerContext& ctx, const MatMulParams& p);
// conv_nhwc.cpp, depthwise_nhwc.cpp, pool_nhwc.cpp, conv_transpose_nhwc.cpp:
// the kernels of layout="NHWC" nodes (ops/layout.h; passes/convert_layout).
struct PoolParams;
struct ConvTransposeParams;
struct RegisterTile;
Expected<kir::Stmt> lower_conv_nhwc(const LowerContext& ctx, const ConvParams& p);
// The register tile of a (non-depthwise) NHWC Conv; its nr is the block of the packed weights.
RegisterTile nhwc_conv_tile(const ConvParams& p, const KernelOptions& opts);
// conv_nhwc_1x1.cpp: 1x1 unpadded NHWC convs (any stride, groups) as GEMMs.
bool conv_nhwc_1x1_applies(const ConvParams& p);
Expected<kir::Stmt> lower_conv_nhwc_1x1(const LowerContext& ctx, const ConvParams& p);
Expected<kir::Stmt> lower_depthwise_nhwc(const LowerContext& ctx, const ConvParams& p);
Expected<kir::Stmt> lower_pool_nhwc(const LowerContext& ctx, const PoolParams& p);
Expected<kir::Stmt> lower_conv_transpose_nhwc(const LowerContext& ctx, const ConvTransposeParams& p);
// pool.cpp: MaxPool, AveragePool, LpPool and MaxPoolIndices over N-D windows.
Status infer_pool(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_pool(const LowerContext& ctx);
// conv_transpose.cpp
Status infer_conv_transpose(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_conv_transpose(const LowerContext& ctx);
// reduce.cpp: ReduceMean/Sum/Max/Min.
Status infer_reduce(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_reduce(const LowerContext& ctx);
// softmax.cpp: Softmax and LogSoftmax.
Status infer_softmax(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_softmax(const LowerContext& ctx);
// layer_norm.cpp: LayerNorm over the last axis.
Status infer_layer_norm(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_layer_norm(const LowerContext& ctx);
// mod.cpp: Mod (fmod 0: sign of the divisor; 1: C fmod).
Status infer_mod(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_mod(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// argminmax.cpp: ArgMax and ArgMin.
Status infer_argminmax(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_argminmax(const LowerContext& ctx);
// bitwise.cpp: BitShift, BitwiseAnd/Or/Xor/Not.
Status infer_bitwise(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_bitwise(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// scatter.cpp: ScatterElements and ScatterND.
Status infer_scatter_elements(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_scatter_elements(const LowerContext& ctx);
Status infer_scatter_nd(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_scatter_nd(const LowerContext& ctx);
// cumsum.cpp: CumSum and CumProd.
Status infer_cumsum(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_cumsum(const LowerContext& ctx);
// gather_elements.cpp: GatherElements and GatherND.
Status infer_gather_elements(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_gather_elements(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
Status infer_gather_nd(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_gather_nd(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// topk.cpp: the indices of TopK (the frontend gathers the values).
Status infer_topk_indices(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_topk_indices(const LowerContext& ctx);

// recurrence.cpp: RnnSequence, the time loop of RNN, GRU and LSTM.
Status infer_rnn_sequence(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_rnn_sequence(const LowerContext& ctx);

// quantize.cpp: QuantizeLinear, DequantizeLinear and Requantize (elementwise).
Status infer_quantize(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_quantize(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);
// conv_integer.cpp / matmul_integer.cpp: int32-accumulating integer Conv and MatMul.
Status infer_conv_integer(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_conv_integer(const LowerContext& ctx);
Status infer_matmul_integer(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_matmul_integer(const LowerContext& ctx);
// conv_integer.cpp: true when `v` is a constant of all zeros; the int32 value of
// zero-point input i of ctx.node at idx (a one-element input at any idx), or a
// null Expr when that input is a constant zero (its subtraction can go).
bool is_zero_constant(const ir::Value* v);
kir::Expr zero_point_i32(const LowerContext& ctx, int i, const kir::Expr& idx);

// grid_sample.cpp: GridSample (N-D; nearest, linear, cubic).
Status infer_grid_sample(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_grid_sample(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);

// col2im.cpp: Col2Im as a gather of the taps that reach each pixel.
Status infer_col2im(const ir::Node& node, std::vector<ir::TensorType>* outputs);
kir::Expr element_col2im(const ir::Node& node, const std::vector<kir::Expr>& out_idx, const ReadFn& read);

// roi_align.cpp: RoiAlign (avg/max, adaptive sampling).
Status infer_roi_align(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_roi_align(const LowerContext& ctx);
// det.cpp: Det by LU with partial pivoting.
Status infer_det(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_det(const LowerContext& ctx);

// linear_attention.cpp: LinearAttention's recurrence over the sequence.
Status infer_linear_attention(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_linear_attention(const LowerContext& ctx);

// deform_conv.cpp: 2-D DeformConv with bilinear taps.
Status infer_deform_conv(const ir::Node& node, std::vector<ir::TensorType>* outputs);
Expected<kir::Stmt> lower_deform_conv(const LowerContext& ctx);

// --- shared helpers (common.cpp) ---

// Invalid-input Status unless the node has between lo and hi inputs.
Status check_num_inputs(const ir::Node& node, int lo, int hi);
// Invalid-input Status unless input i has a floating-point dtype.
Status check_float_input(const ir::Node& node, int i);
// "[1, 2, 3]" for messages.
std::string ints_str(const std::vector<int64_t>& v);
// The scalar kernel-IR type of a dtype.
inline kir::Type scalar_type(DType t) { return kir::Type{t, 1}; }
// The lowest value of dtype t (-inf for floats), as an Expr: the start of a max.
kir::Expr lowest_value(DType t);
// The highest value of dtype t (+inf for floats): the start of a min.
kir::Expr highest_value(DType t);
// The dimension a loop nest over `dims` (indices into `shape`) vectorizes: the
// last one whose extent is > 1 (the ones after it have extent 1), or the last.
size_t vector_dim(const ir::Shape& shape, const std::vector<size_t>& dims);
// Whether every load and store index of the fused epilogue that ctx.write
// builds for output element `idx` uses all of `vars` (index variables in idx)
// or none of them: then one flat index may stand in for those dimensions
// (adjacent in row-major order, their extents the output's).
bool write_indexes_all_or_none(const LowerContext& ctx, const std::vector<kir::Expr>& idx,
                               const std::vector<kir::Expr>& vars);
// Prefetches (kir prefetch calls) of the lines the fused epilogue ctx.write
// touches for the output element index(m): the one it stores, and those it
// reads whose index depends on m (a residual Add's operand; not a
// per-channel one).
std::vector<kir::Expr> write_prefetches(const LowerContext& ctx,
                                        const std::function<std::vector<kir::Expr>(const kir::Expr&)>& index,
                                        const kir::Expr& m);
// clamp(e, 0, hi - 1): keeps a speculative load in bounds.
kir::Expr clamp_index(const kir::Expr& e, int64_t hi);

// A loop-nest builder shared by the complex ops: loops are added outermost
// first; build() wraps a body in them, dropping extent-1 loops (their var is 0).
class LoopNest {
 public:
  // Adds a loop over [0, extent) and returns its index variable (or 0 if the
  // extent is 1).
  kir::Expr add(const std::string& name, int64_t extent);
  // Wraps `body` in the loops; the first loop whose extent is > 1 becomes
  // kParallel when `parallel` is set.
  kir::Stmt build(kir::Stmt body, bool parallel) const;
  int64_t total() const;

 private:
  struct Loop {
    kir::Expr var;
    int64_t extent;
  };
  std::vector<Loop> loops_;
};

// Emits `make(i)` for i in [begin, end): when `vectorize`, as a serial loop
// over kVectorized loops of `lanes` iterations plus a serial tail; otherwise
// one serial loop. `make` builds the body for the index expression it gets.
// `parallel_blocks` makes the loop over vector blocks kParallel (only for a
// loop that is not nested in another).
kir::Stmt vector_loop(const std::string& name, int64_t begin, int64_t end, int lanes, bool vectorize,
                      const std::function<kir::Stmt(const kir::Expr&)>& make, bool parallel_blocks = false);

// For ops that scan one axis per output point (softmax, cumsum, argmax):
// emits point(idx) for every index of `shape` with idx[axis] = 0, looping over
// the other dimensions (the best vector dimension vectorized, the outer loops
// parallel when the whole scan is big enough).
kir::Stmt lower_along_axis(const LowerContext& ctx, const ir::Shape& shape, int64_t axis,
                           const std::function<kir::Stmt(const std::vector<kir::Expr>&)>& point);

}  // namespace kiln::ops
