// op_info(): the explicit list from each core op (ops.def) to its family's
// functions. A function-local table, built on first use (no static constructors).
#include <array>

#include "ops/op_families.h"

namespace kiln::ops {
namespace {

using ir::OpKind;

constexpr int kNumOps = 0
#define KILN_OP(Name, str, kind) +1
#include "ir/ops.def"
#undef KILN_OP
    ;

OpInfo entry_for(OpKind op) {
  switch (op) {
    case OpKind::kIdentity:
    case OpKind::kRelu:
    case OpKind::kLeakyRelu:
    case OpKind::kClip:
    case OpKind::kSigmoid:
    case OpKind::kTanh:
    case OpKind::kHardSigmoid:
    case OpKind::kHardSwish:
    case OpKind::kExp:
    case OpKind::kLog:
    case OpKind::kSqrt:
    case OpKind::kNeg:
    case OpKind::kAbs:
    case OpKind::kErf:
    case OpKind::kReciprocal:
    case OpKind::kFloor:
    case OpKind::kCeil:
    case OpKind::kNot:
    case OpKind::kRound:
    case OpKind::kSin:
    case OpKind::kCos:
    case OpKind::kTan:
    case OpKind::kAsin:
    case OpKind::kAcos:
    case OpKind::kAtan:
    case OpKind::kCast: return {infer_unary, element_unary, nullptr};
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
    case OpKind::kPow:
    case OpKind::kMax:
    case OpKind::kMin:
    case OpKind::kEqual:
    case OpKind::kLess:
    case OpKind::kGreater:
    case OpKind::kAnd:
    case OpKind::kOr:
    case OpKind::kWhere: return {infer_binary, element_binary, nullptr};
    case OpKind::kReshape: return {infer_reshape, element_reshape, nullptr};
    case OpKind::kTranspose: return {infer_transpose, element_transpose, nullptr};
    case OpKind::kConcat: return {infer_concat, element_concat, nullptr};
    case OpKind::kGather: return {infer_gather, element_gather, nullptr};
    case OpKind::kSlice: return {infer_slice, element_slice, nullptr};
    case OpKind::kExpand: return {infer_expand, element_expand, nullptr};
    case OpKind::kConv: return {infer_conv, nullptr, lower_conv};
    case OpKind::kMatMul: return {infer_matmul, nullptr, lower_matmul};
    case OpKind::kMaxPool:
    case OpKind::kAveragePool:
    case OpKind::kLpPool:
    case OpKind::kMaxPoolIndices: return {infer_pool, nullptr, lower_pool};
    case OpKind::kConvTranspose: return {infer_conv_transpose, nullptr, lower_conv_transpose};
    case OpKind::kReduceMean:
    case OpKind::kReduceSum:
    case OpKind::kReduceMax:
    case OpKind::kReduceMin:
    case OpKind::kReduceProd: return {infer_reduce, nullptr, lower_reduce};
    case OpKind::kSoftmax:
    case OpKind::kLogSoftmax: return {infer_softmax, nullptr, lower_softmax};
    case OpKind::kMod: return {infer_mod, element_mod, nullptr};
    case OpKind::kArgMax:
    case OpKind::kArgMin: return {infer_argminmax, nullptr, lower_argminmax};
    case OpKind::kCumSum:
    case OpKind::kCumProd: return {infer_cumsum, nullptr, lower_cumsum};
    case OpKind::kGatherElements: return {infer_gather_elements, element_gather_elements, nullptr};
    case OpKind::kGatherND: return {infer_gather_nd, element_gather_nd, nullptr};
    case OpKind::kTopKIndices: return {infer_topk_indices, nullptr, lower_topk_indices};
    case OpKind::kScatterElements: return {infer_scatter_elements, nullptr, lower_scatter_elements};
    case OpKind::kScatterND: return {infer_scatter_nd, nullptr, lower_scatter_nd};
    case OpKind::kBitShift:
    case OpKind::kBitwiseAnd:
    case OpKind::kBitwiseOr:
    case OpKind::kBitwiseXor:
    case OpKind::kBitwiseNot: return {infer_bitwise, element_bitwise, nullptr};
    case OpKind::kLayerNorm: return {infer_layer_norm, nullptr, lower_layer_norm};
    case OpKind::kRnnSequence: return {infer_rnn_sequence, nullptr, lower_rnn_sequence};
    case OpKind::kGridSample: return {infer_grid_sample, element_grid_sample, nullptr};
    case OpKind::kCol2Im: return {infer_col2im, element_col2im, nullptr};
    case OpKind::kRoiAlign: return {infer_roi_align, nullptr, lower_roi_align};
    case OpKind::kDet: return {infer_det, nullptr, lower_det};
    case OpKind::kLinearAttention: return {infer_linear_attention, nullptr, lower_linear_attention};
    case OpKind::kDeformConv: return {infer_deform_conv, nullptr, lower_deform_conv};
    case OpKind::kQuantizeLinear:
    case OpKind::kDequantizeLinear:
    case OpKind::kRequantize: return {infer_quantize, element_quantize, nullptr};
    case OpKind::kConvInteger: return {infer_conv_integer, nullptr, lower_conv_integer};
    case OpKind::kMatMulInteger: return {infer_matmul_integer, nullptr, lower_matmul_integer};
  }
  KILN_UNREACHABLE("op_info: op " << static_cast<int>(op) << " is missing from op_table.cpp");
}

std::array<OpInfo, kNumOps> build_table() {
  std::array<OpInfo, kNumOps> table;
  for (int i = 0; i < kNumOps; ++i) table[i] = entry_for(static_cast<OpKind>(i));
  return table;
}

}  // namespace

const OpInfo& op_info(OpKind op) {
  static const std::array<OpInfo, kNumOps> table = build_table();
  int i = static_cast<int>(op);
  KILN_CHECK(i >= 0 && i < kNumOps) << "op_info: bad op " << i;
  return table[i];
}

}  // namespace kiln::ops
