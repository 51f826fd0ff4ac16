// The integer types quantized tensors use, and ONNX's rounding of a quantized
// value (shared by the quantization ops, the ONNX frontend and passes/lower_qdq).
#pragma once

#include <cmath>
#include <cstdint>

#include "ir/dtype.h"

namespace kiln::ops {

// uint8 and int8: the types QuantizeLinear produces and integer Conv/MatMul read.
inline bool is_quantized_type(DType t) { return t == DType::kU8 || t == DType::kI8; }
// The saturation range of a quantized type.
inline int64_t quantized_min(DType t) { return t == DType::kI8 ? -128 : 0; }
inline int64_t quantized_max(DType t) { return t == DType::kI8 ? 127 : 255; }

// The attribute (int, 1) with which passes/lower_qdq lets a QuantizeLinear by
// one constant scale divide by a multiply and FMA corrections (ops/quantize.cpp):
// only for targets with FMA instructions, where that sequence is fast.
inline constexpr const char* kQuantizeByReciprocal = "by_reciprocal";

// The attributes (float scale, int zero point) of a Requantize whose result is
// dequantized in place (ops/quantize.cpp; set by passes/lower_qdq).
inline constexpr const char* kDequantizeScale = "dequantize_scale";
inline constexpr const char* kDequantizeZero = "dequantize_zero";

// QuantizeLinear of one float32 value, exactly as ONNX defines it and as the
// generated code computes it: saturate(round_half_even(x / scale) + zero_point).
inline int64_t quantize_value(float x, float scale, int64_t zero_point, DType t) {
  float q = std::nearbyint(x / scale) + static_cast<float>(zero_point);
  if (!(q >= static_cast<float>(quantized_min(t)))) return quantized_min(t);  // NaN too
  if (q > static_cast<float>(quantized_max(t))) return quantized_max(t);
  return static_cast<int64_t>(q);
}

}  // namespace kiln::ops
