// Sizes and names of element types.
#include "ir/dtype.h"

#include "base/check.h"

namespace kiln {

int dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kU8: return 1;
    case DType::kI8: return 1;
    case DType::kI32: return 4;
    case DType::kI64: return 8;
    case DType::kBool: return 1;
    case DType::kF16: return 2;
    case DType::kF64: return 8;
  }
  KILN_UNREACHABLE("bad dtype " << static_cast<int>(t));
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kU8: return "uint8";
    case DType::kI8: return "int8";
    case DType::kI32: return "int32";
    case DType::kI64: return "int64";
    case DType::kBool: return "bool";
    case DType::kF16: return "float16";
    case DType::kF64: return "float64";
  }
  return "invalid";
}

bool dtype_is_float(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kF64; }

}  // namespace kiln
