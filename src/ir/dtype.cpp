// Sizes and names of element types.
#include "ir/dtype.h"

#include "base/check.h"

namespace kiln {

std::optional<DType> dtype_from_code(int64_t code) {
  switch (static_cast<DType>(code)) {
    case DType::kF32:
    case DType::kU8:
    case DType::kI8:
    case DType::kU16:
    case DType::kI16:
    case DType::kI32:
    case DType::kI64:
    case DType::kBool:
    case DType::kF16:
    case DType::kF64:
    case DType::kU32:
    case DType::kU64:
    case DType::kBF16:
    case DType::kF8E4M3FN:
    case DType::kF8E4M3FNUZ:
    case DType::kF8E5M2:
    case DType::kF8E5M2FNUZ:
    case DType::kU4:
    case DType::kI4:
    case DType::kF4E2M1:
    case DType::kF8E8M0:
    case DType::kU2:
    case DType::kI2:
      if (code >= 0 && code <= 255) return static_cast<DType>(code);
      break;
  }
  return std::nullopt;
}

int dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kU8: return 1;
    case DType::kI8: return 1;
    case DType::kU16: return 2;
    case DType::kI16: return 2;
    case DType::kI32: return 4;
    case DType::kI64: return 8;
    case DType::kBool: return 1;
    case DType::kF16: return 2;
    case DType::kF64: return 8;
    case DType::kU32: return 4;
    case DType::kU64: return 8;
    case DType::kBF16: return 2;
    case DType::kF8E4M3FN:
    case DType::kF8E4M3FNUZ:
    case DType::kF8E5M2:
    case DType::kF8E5M2FNUZ:
    case DType::kF8E8M0:
    case DType::kU4:
    case DType::kI4:
    case DType::kF4E2M1:
    case DType::kU2:
    case DType::kI2: return 1;
  }
  KILN_UNREACHABLE("bad dtype " << static_cast<int>(t));
}

int dtype_bits(DType t) {
  switch (t) {
    case DType::kBool: return 1;
    case DType::kU4:
    case DType::kI4:
    case DType::kF4E2M1: return 4;
    case DType::kU2:
    case DType::kI2: return 2;
    default: return 8 * dtype_size(t);
  }
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kU8: return "uint8";
    case DType::kI8: return "int8";
    case DType::kU16: return "uint16";
    case DType::kI16: return "int16";
    case DType::kI32: return "int32";
    case DType::kI64: return "int64";
    case DType::kBool: return "bool";
    case DType::kF16: return "float16";
    case DType::kF64: return "float64";
    case DType::kU32: return "uint32";
    case DType::kU64: return "uint64";
    case DType::kBF16: return "bfloat16";
    case DType::kF8E4M3FN: return "float8e4m3fn";
    case DType::kF8E4M3FNUZ: return "float8e4m3fnuz";
    case DType::kF8E5M2: return "float8e5m2";
    case DType::kF8E5M2FNUZ: return "float8e5m2fnuz";
    case DType::kU4: return "uint4";
    case DType::kI4: return "int4";
    case DType::kF4E2M1: return "float4e2m1";
    case DType::kF8E8M0: return "float8e8m0";
    case DType::kU2: return "uint2";
    case DType::kI2: return "int2";
  }
  return "invalid";
}

bool dtype_is_float(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kF64 || dtype_is_narrow_float(t);
}

bool dtype_is_unsigned(DType t) {
  switch (t) {
    case DType::kU8:
    case DType::kU16:
    case DType::kU32:
    case DType::kU64:
    case DType::kU4:
    case DType::kU2: return true;
    default: return false;
  }
}

bool dtype_is_narrow_float(DType t) {
  switch (t) {
    case DType::kBF16:
    case DType::kF8E4M3FN:
    case DType::kF8E4M3FNUZ:
    case DType::kF8E5M2:
    case DType::kF8E5M2FNUZ:
    case DType::kF8E8M0:
    case DType::kF4E2M1: return true;
    default: return false;
  }
}

bool dtype_is_storage_only(DType t) {
  return (dtype_is_narrow_float(t) && t != DType::kBF16) || t == DType::kU4 || t == DType::kI4 || t == DType::kU2 ||
         t == DType::kI2;
}

}  // namespace kiln
