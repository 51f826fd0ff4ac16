// Element types of graph values, and their sizes and names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kiln/model_abi.h"

namespace kiln {

// Values match kiln_dtype in model_abi.h (ONNX's TensorProto numbers) so metadata
// needs no translation.
enum class DType : uint8_t {
  kF32 = KILN_F32,
  kU8 = KILN_U8,
  kI8 = KILN_I8,
  kU16 = KILN_U16,
  kI16 = KILN_I16,
  kI32 = KILN_I32,
  kI64 = KILN_I64,
  kBool = KILN_BOOL,
  kF16 = KILN_F16,
  kF64 = KILN_F64,
  kU32 = KILN_U32,
  kU64 = KILN_U64,
  kBF16 = KILN_BF16,
  kF8E4M3FN = KILN_F8E4M3FN,
  kF8E4M3FNUZ = KILN_F8E4M3FNUZ,
  kF8E5M2 = KILN_F8E5M2,
  kF8E5M2FNUZ = KILN_F8E5M2FNUZ,
  kU4 = KILN_U4,
  kI4 = KILN_I4,
  kF4E2M1 = KILN_F4E2M1,
  kF8E8M0 = KILN_F8E8M0,
  kU2 = KILN_U2,
  kI2 = KILN_I2,
};

// The DType with numeric value `code`, if there is one (attributes, metadata).
std::optional<DType> dtype_from_code(int64_t code);
// Bytes per element in memory (bool, and the 4- and 2-bit types: one per byte).
int dtype_size(DType t);
// Bits of the value itself: 4 for int4/uint4/float4e2m1, 2 for int2/uint2,
// 1 for bool, else 8 * dtype_size.
int dtype_bits(DType t);
// "float32", "uint8", "int8", "int32", "int64", "bool", "float16", "float64",
// "bfloat16", "float8e4m3fn", "int4", ... (ONNX's names, lower case).
const char* dtype_name(DType t);
// Any floating-point format: float16/32/64, bfloat16, the float8 family, float4e2m1.
bool dtype_is_float(DType t);
// Unsigned integers (uint8/16/32/64, uint4, uint2); bool is neither signed nor unsigned.
bool dtype_is_unsigned(DType t);
// bfloat16, the float8 family and float4e2m1: stored as their own bits, computed
// in float32 (kernels hold them as float32 values rounded to the type).
bool dtype_is_narrow_float(DType t);
// The float8 family, float4e2m1 and the 4- and 2-bit integers: ONNX defines them
// for casts, quantization and data movement only; kiln computes nothing in them
// but Cast (other ops that are not pure data movement reject them).
bool dtype_is_storage_only(DType t);

}  // namespace kiln
