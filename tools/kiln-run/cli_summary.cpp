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

double element(int32_t dtype, const void* p, size_t i) { return npy::element_value(dtype, p, i); }

std::string format_value(int32_t dtype, double v) {
  char buf[48];
  const bool integral = dtype == KILN_I64 || dtype == KILN_I32 || dtype == KILN_I16 || dtype == KILN_U8 ||
                        dtype == KILN_I8 || dtype == KILN_BOOL || dtype == KILN_U16 || dtype == KILN_U32 ||
                        dtype == KILN_U64 || dtype == KILN_I4 || dtype == KILN_U4 || dtype == KILN_I2 ||
                        dtype == KILN_U2;
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
