// Quantization lowering (DESIGN.md "graph passes"): QDQ models to integer
// kernels, and each kernel's precision for model.json / `kiln inspect`.
#pragma once

#include <string>

#include "ir/graph.h"
#include "ops/op_info.h"
#include "lower/kernel_builder.h"

namespace kiln::passes {

// Runs before constant folding (which would dequantize constant weights).
// Assumes the frontend's forms: QuantizeLinear / DequantizeLinear scales and
// zero points broadcast against x (per-tensor ones have rank 0).
//  1. Carries data movement in int8: a Reshape, Transpose, Slice, Gather (so
//     Resize nearest, which the frontend maps to Gathers), Expand, Identity,
//     Concat (all inputs of one scale and zero point) or
//     MaxPool (positive scale) of a per-tensor DequantizeLinear runs on the
//     integers and the DequantizeLinear moves after it (a Transpose also moves
//     a per-axis one, permuting its parameters).
//  2. Cancels QuantizeLinear(DequantizeLinear(q)) of the same parameters and
//     type: it is q. (A QuantizeLinear -> DequantizeLinear pair on a float
//     value rounds it, so it stays.)
//  3. A float Conv or MatMul whose activation is a per-tensor DequantizeLinear
//     (uint8/int8) and whose weights are a DequantizeLinear of constants
//     (per-tensor or per output channel, possibly through Transposes; float
//     constants quantized by a QuantizeLinear count as constants) becomes
//     ConvInteger / MatMulInteger, plus an int32 Add of the bias (a
//     dequantized int32 or a float constant, in accumulator units), plus:
//     when a per-tensor QuantizeLinear follows (through at most one Relu or
//     Clip, which become the clamp), Requantize by x_scale * w_scale / y_scale
//     computed in float32; otherwise a DequantizeLinear of the accumulator
//     (int8 compute, float output).
// On targets with FMA (opts.fma) every QuantizeLinear gets ops::kQuantizeByReciprocal:
// one constant scale then divides by multiply + FMA corrections (ops/quantize.cpp).
// "Best type for the hardware": at kernel level >= 3 a depthwise or narrow
// grouped Conv (group > 1, fewer than 4 output channels per group) stays float with
// dequantized weights: the tiled int8 kernel needs channel blocks, and the
// fp32 depthwise kernel beats int8 plain loops.
// Layers left in float (everything else in a quantized model: "mixed") keep
// their Q/DQ at the edges; a Conv/MatMul that step 3 declined carries the
// reason in its attribute kWhyFp32.
// Leaves: no Conv/MatMul of step 3's form; every integer layer accumulates
// sum((x - x_zero_point) * (w - w_zero_point)) exactly in int32.
void lower_qdq(ir::Graph& g, const ops::KernelOptions& opts = {});

// The attribute on a float Conv/MatMul of a quantized model that says why it stays float.
inline constexpr const char* kWhyFp32 = "why_fp32";

// True when `g` holds quantization ops (QuantizeLinear, DequantizeLinear,
// Requantize, ConvInteger, MatMulInteger).
bool has_quantization(const ir::Graph& g);

struct LayerPrecision {
  std::string precision;  // "int8", "fp32", "fp16", or the dtype name of integer data
  std::string reason;
};

// A fused kernel's precision and why; `quantized` is has_quantization of its graph.
LayerPrecision layer_precision(const lower::FusedGroup& group, bool quantized);

}  // namespace kiln::passes
