// One-line value summaries of `kiln run` outputs: first values, min/max/mean.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli_common.h"
#include "kiln/model_abi.h"

namespace kiln::cli {
namespace {

constexpr size_t kShownValues = 6;

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const int exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) return (sign ? -1.0f : 1.0f) * std::ldexp(float(mant), -24);
  uint32_t bits = exp == 31 ? sign | 0x7f800000 | (mant << 13)
                            : sign | uint32_t(exp - 15 + 127) << 23 | (mant << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

double element(int32_t dtype, const void* p, size_t i) {
  switch (dtype) {
    case KILN_F32: return static_cast<const float*>(p)[i];
    case KILN_F64: return static_cast<const double*>(p)[i];
    case KILN_F16: return half_to_float(static_cast<const uint16_t*>(p)[i]);
    case KILN_I64: return double(static_cast<const int64_t*>(p)[i]);
    case KILN_I32: return static_cast<const int32_t*>(p)[i];
    case KILN_U8: case KILN_BOOL: return static_cast<const uint8_t*>(p)[i];
    case KILN_I8: return static_cast<const int8_t*>(p)[i];
    default: return 0;
  }
}

std::string format_value(int32_t dtype, double v) {
  char buf[48];
  const bool integral = dtype == KILN_I64 || dtype == KILN_I32 || dtype == KILN_U8 ||
                        dtype == KILN_I8 || dtype == KILN_BOOL;
  std::snprintf(buf, sizeof(buf), integral ? "%.0f" : "%.6g", v);
  return buf;
}

}  // namespace

void print_summary(const Tensor& t, const void* data) {
  const size_t size = npy::dtype_size(t.dtype);
  const size_t count = size ? t.num_bytes / size : 0;
  std::string first;
  for (size_t i = 0; i < count && i < kShownValues; ++i)
    first += (i ? ", " : "") + format_value(t.dtype, element(t.dtype, data, i));
  if (count > kShownValues) first += ", ...";
  std::printf("output '%s': %s\n  values: [%s]\n", t.name.c_str(), describe(t.dtype, t.shape).c_str(),
              first.c_str());
  if (count == 0) return;
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  size_t nans = 0;
  for (size_t i = 0; i < count; ++i) {
    const double v = element(t.dtype, data, i);
    if (std::isnan(v)) {
      ++nans;
      continue;
    }
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    sum += v;
  }
  const size_t finite = count - nans;
  std::printf("  min %s  max %s  mean %.6g", finite ? format_value(t.dtype, lo).c_str() : "nan",
              finite ? format_value(t.dtype, hi).c_str() : "nan", finite ? sum / double(finite) : NAN);
  if (nans) std::printf("  (%zu NaN)", nans);
  std::printf("\n");
}

}  // namespace kiln::cli
