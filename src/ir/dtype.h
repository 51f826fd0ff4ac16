// Element types of graph values, and their sizes and names.
#pragma once

#include <cstdint>
#include <string>

#include "kiln/model_abi.h"

namespace kiln {

// Values match kiln_dtype in model_abi.h so metadata needs no translation.
enum class DType : uint8_t {
  kF32 = KILN_F32,
  kU8 = KILN_U8,
  kI8 = KILN_I8,
  kI32 = KILN_I32,
  kI64 = KILN_I64,
  kBool = KILN_BOOL,
  kF16 = KILN_F16,
  kF64 = KILN_F64,
};

// Bytes per element (bool is one byte).
int dtype_size(DType t);
// "float32", "uint8", "int8", "int32", "int64", "bool", "float16", "float64".
const char* dtype_name(DType t);
bool dtype_is_float(DType t);

}  // namespace kiln
