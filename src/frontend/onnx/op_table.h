// The ONNX op table: op_type (default domain) -> the mapper that turns a node
// into core ops. The list is explicit code in op_table.cpp (no static registration);
// the mappers live in one file per op family.
#pragma once

#include <string>

#include "base/status.h"
#include "frontend/onnx/context.h"

namespace kiln::frontend {

// Maps one node: binds every used output with ctx.set_output or returns an error.
using MapFn = Status (*)(NodeContext& ctx);

struct OpEntry {
  MapFn map = nullptr;
  int min_inputs = 1;  // required inputs (present and non-empty), checked before `map` runs
};

// The entry for an op of the default ONNX domain, or null when kiln lacks one.
const OpEntry* find_op(const std::string& op_type);
// The entry for an op of `domain`: the default domain ("" or "ai.onnx") as
// find_op, or the few com.microsoft ops kiln maps (QLinearAdd, QLinearMul,
// QLinearGlobalAveragePool, QLinearConcat: quantize.cpp); null otherwise.
const OpEntry* find_op_in(const std::string& domain, const std::string& op_type);

// elementwise.cpp
Status map_unary(NodeContext& ctx);        // Relu, Sigmoid, Tanh, Exp, Log, ... (same-name core op)
Status map_leaky_relu(NodeContext& ctx);
Status map_hard_sigmoid(NodeContext& ctx);
Status map_clip(NodeContext& ctx);
Status map_cast(NodeContext& ctx);
Status map_cast_like(NodeContext& ctx);
Status map_compare_or_equal(NodeContext& ctx);  // LessOrEqual, GreaterOrEqual
Status map_binary(NodeContext& ctx);       // Add, Sub, Mul, Div, Equal, Less, Greater, And, Or
Status map_pow(NodeContext& ctx);
Status map_variadic(NodeContext& ctx);     // Max, Min, Sum, Mean
Status map_where(NodeContext& ctx);
// conv_pool.cpp
Status map_conv(NodeContext& ctx);
Status map_pool(NodeContext& ctx);         // MaxPool, AveragePool, LpPool
Status map_global_pool(NodeContext& ctx);  // GlobalAveragePool, GlobalMaxPool, GlobalLpPool
Status map_conv_transpose(NodeContext& ctx);
// resize.cpp
Status map_resize(NodeContext& ctx);       // Resize, Upsample
// vision_ops.cpp
Status map_pad(NodeContext& ctx);
Status map_depth_to_space(NodeContext& ctx);
Status map_space_to_depth(NodeContext& ctx);
// norm_ops.cpp
Status map_instance_norm(NodeContext& ctx);
Status map_group_norm(NodeContext& ctx);
Status map_lp_norm(NodeContext& ctx);
Status map_mvn(NodeContext& ctx);          // MeanVarianceNormalization
Status map_lrn(NodeContext& ctx);
Status map_rms_norm(NodeContext& ctx);
// reduce.cpp
Status map_reduce(NodeContext& ctx);       // ReduceMean, ReduceSum, ReduceMax, ReduceMin
// matmul.cpp
Status map_gemm(NodeContext& ctx);
Status map_matmul(NodeContext& ctx);
// shape_ops.cpp
Status map_reshape(NodeContext& ctx);
Status map_flatten(NodeContext& ctx);
Status map_squeeze(NodeContext& ctx);
Status map_unsqueeze(NodeContext& ctx);
Status map_transpose(NodeContext& ctx);
Status map_concat(NodeContext& ctx);
Status map_gather(NodeContext& ctx);
Status map_shape(NodeContext& ctx);
Status map_identity(NodeContext& ctx);     // Identity, Dropout (inference)
// constant_ops.cpp
Status map_constant(NodeContext& ctx);
Status map_constant_of_shape(NodeContext& ctx);
Status map_range(NodeContext& ctx);
Status map_size(NodeContext& ctx);
// split.cpp
Status map_split(NodeContext& ctx);
// slice_expand.cpp
Status map_slice(NodeContext& ctx);
Status map_expand(NodeContext& ctx);
// normalization.cpp
Status map_batch_norm(NodeContext& ctx);
Status map_layer_norm(NodeContext& ctx);
// softmax.cpp
Status map_softmax(NodeContext& ctx);      // Softmax, LogSoftmax
// math_ops.cpp
Status map_reduce_composed(NodeContext& ctx);  // ReduceL1/L2/LogSum/LogSumExp/Prod/SumSquare
Status map_mod(NodeContext& ctx);
Status map_xor(NodeContext& ctx);
Status map_math_composed(NodeContext& ctx);    // Elu Selu Celu Softplus ... Sign IsNaN IsInf Sinh ... PRelu
// index_ops.cpp
Status map_argminmax(NodeContext& ctx);    // ArgMax, ArgMin
Status map_hardmax(NodeContext& ctx);
Status map_topk(NodeContext& ctx);
Status map_cumsum(NodeContext& ctx);  // CumSum, CumProd
Status map_gather_elements(NodeContext& ctx);
Status map_gather_nd(NodeContext& ctx);
Status map_trilu(NodeContext& ctx);
Status map_tile(NodeContext& ctx);
Status map_one_hot(NodeContext& ctx);
Status map_eye_like(NodeContext& ctx);
Status map_einsum(NodeContext& ctx);  // einsum.cpp
Status map_scatter(NodeContext& ctx);  // scatter.cpp: ScatterElements, Scatter, ScatterND
Status map_bitwise(NodeContext& ctx);  // bitwise.cpp: BitShift, BitwiseAnd/Or/Xor/Not
Status map_compress(NodeContext& ctx);  // select_ops.cpp
Status map_nonzero(NodeContext& ctx);   // select_ops.cpp

}  // namespace kiln::frontend
