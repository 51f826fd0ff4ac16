// Narrow float formats and their float32 conversions (see narrow_float.h). The
// algorithm works on float32 bits so that codegen can emit it step by step.
#include "ir/narrow_float.h"

#include <cmath>
#include <cstring>

#include "base/check.h"

namespace kiln {
namespace {

using Nan = NarrowFloatFormat::Nan;

constexpr NarrowFloatFormat kBF16{8, 7, 127, Nan::kIeee, 0x7f7f0000u, 0x7fc0u};
constexpr NarrowFloatFormat kE4M3FN{4, 3, 7, Nan::kAllOnes, 0x43e00000u, 0x7fu};        // 448
constexpr NarrowFloatFormat kE4M3FNUZ{4, 3, 8, Nan::kNegZero, 0x43700000u, 0x80u};      // 240
constexpr NarrowFloatFormat kE5M2{5, 2, 15, Nan::kIeee, 0x47600000u, 0x7eu};            // 57344
constexpr NarrowFloatFormat kE5M2FNUZ{5, 2, 16, Nan::kNegZero, 0x47600000u, 0x80u};     // 57344
constexpr NarrowFloatFormat kE2M1{2, 1, 1, Nan::kNone, 0x40c00000u, 0u};                // 6

constexpr uint32_t kSign = 0x80000000u;
constexpr uint32_t kInfBits = 0x7f800000u;

}  // namespace

uint32_t f32_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

float f32_from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

float f32_round_odd(double v) {
  float f = static_cast<float>(v);
  if (!std::isfinite(f) || static_cast<double>(f) == v) return f;
  // Truncate toward zero first, then mark the lost bits in the lowest bit.
  uint32_t u = f32_bits(f);
  if (std::fabs(static_cast<double>(f)) > std::fabs(v)) --u;
  return f32_from_bits(u | 1);
}

const NarrowFloatFormat& narrow_float_format(DType t) {
  switch (t) {
    case DType::kBF16: return kBF16;
    case DType::kF8E4M3FN: return kE4M3FN;
    case DType::kF8E4M3FNUZ: return kE4M3FNUZ;
    case DType::kF8E5M2: return kE5M2;
    case DType::kF8E5M2FNUZ: return kE5M2FNUZ;
    case DType::kF4E2M1: return kE2M1;
    default: break;
  }
  KILN_UNREACHABLE("narrow_float_format of " << dtype_name(t));
}

float e8m0_round(float x, E8M0Round mode, bool saturate) {
  // onnx.numpy_helper.to_float8e8m0, on the float32 bits (the sign is ignored).
  uint32_t u = f32_bits(x);
  uint32_t e = (u >> 23) & 0xff;
  if (e == 0xff) return NAN;
  bool up = false;
  if (mode == E8M0Round::kUp) {
    up = (u & 0x7fffff) != 0;
  } else if (mode == E8M0Round::kNearest) {
    bool g = u & 0x400000, r = u & 0x200000, s = u & 0x1fffff, lsb = e > 0;
    up = g && (r || s || lsb);
  }
  if (up && !(saturate && e == 0xfe)) ++e;
  if (e == 0xff) return NAN;
  return e == 0 ? f32_from_bits(0x00400000u) : f32_from_bits(e << 23);
}

float narrow_float_round(DType t, float x) {
  if (t == DType::kF8E8M0) return e8m0_round(x, E8M0Round::kUp, true);
  const NarrowFloatFormat& f = narrow_float_format(t);
  uint32_t u = f32_bits(x);
  uint32_t sign = u & kSign;
  uint32_t a = u & ~kSign;
  if (a > kInfBits) return f.nan == Nan::kNone ? f32_from_bits(sign ^ kSign) : x;
  uint32_t r;
  if (t != DType::kBF16 && a < static_cast<uint32_t>(127 + f.min_exp()) << 23) {
    // Below the smallest normal (bfloat16's subnormals are float32's: the bit
    // rounding below covers them): a multiple of the subnormal step 2^(min_exp - man_bits).
    // Adding 2^(min_exp - man_bits + 23) makes float32's own rounding (to nearest
    // even) round there, since that sum's ulp is the step.
    float big = std::ldexp(1.0f, f.min_exp() - f.man_bits + 23);
    r = f32_bits((std::fabs(x) + big) - big);
  } else {
    // Round the float32 fraction to man_bits, ties to even; a carry moves into
    // the exponent, which is the right result.
    int shift = 23 - f.man_bits;
    uint32_t half = (1u << (shift - 1)) - 1 + ((a >> shift) & 1);
    r = (a + half) & ~((1u << shift) - 1);
  }
  if (r > f.max_bits) {
    switch (f.nan) {
      case Nan::kIeee: r = kInfBits; break;
      case Nan::kNone: r = f.max_bits; break;
      default: return f32_from_bits(0x7fc00000u | sign);  // NaN (keeps the sign, as ml_dtypes)
    }
  }
  if (f.nan == Nan::kNegZero && r == 0) return 0.0f;
  return f32_from_bits(r | sign);
}

uint32_t narrow_float_encode(DType t, float v) {
  uint32_t u = f32_bits(v);
  if (t == DType::kF8E8M0) return (u >> 23) & 0xff;  // 2^-127 (0x00400000) is 0; NaN is 0xff
  if (t == DType::kBF16) return std::isnan(v) ? (u >> 16 & 0x8000) | 0x7fc0 : u >> 16;  // subnormals align too
  const NarrowFloatFormat& f = narrow_float_format(t);
  uint32_t sign = (u >> 31) << (f.total_bits() - 1);
  uint32_t a = u & ~kSign;
  if (a > kInfBits) return f.nan == Nan::kNegZero ? f.nan_code : f.nan_code | sign;
  uint32_t code;
  if (a == kInfBits) {
    code = ((1u << f.exp_bits) - 1) << f.man_bits;
  } else if (a < static_cast<uint32_t>(127 + f.min_exp()) << 23) {
    code = static_cast<uint32_t>(std::fabs(v) * std::ldexp(1.0f, f.man_bits - f.min_exp()));
  } else {
    code = (a >> (23 - f.man_bits)) - (static_cast<uint32_t>(127 - f.bias) << f.man_bits);
  }
  if (f.nan == Nan::kNegZero && code == 0) return 0;
  return code | sign;
}

float narrow_float_decode(DType t, uint32_t bits) {
  if (t == DType::kF8E8M0) {
    bits &= 0xff;
    if (bits == 0xff) return NAN;
    return bits == 0 ? f32_from_bits(0x00400000u) : f32_from_bits(bits << 23);
  }
  if (t == DType::kBF16) return f32_from_bits((bits & 0xffff) << 16);
  const NarrowFloatFormat& f = narrow_float_format(t);
  bits &= (1u << f.total_bits()) - 1;
  uint32_t sign = bits >> (f.total_bits() - 1);
  uint32_t mag = bits & ((1u << (f.total_bits() - 1)) - 1);
  uint32_t exp_field = mag >> f.man_bits;
  uint32_t all_ones = (1u << f.exp_bits) - 1;
  switch (f.nan) {
    case Nan::kIeee:
      if (exp_field == all_ones) {
        float special = (mag & ((1u << f.man_bits) - 1)) ? NAN : INFINITY;
        return sign ? -special : special;
      }
      break;
    case Nan::kAllOnes:
      if (mag == (1u << (f.total_bits() - 1)) - 1) return NAN;
      break;
    case Nan::kNegZero:
      if (bits == 1u << (f.total_bits() - 1)) return NAN;
      break;
    case Nan::kNone: break;
  }
  float v;
  if (exp_field == 0) {
    v = static_cast<float>(mag) * std::ldexp(1.0f, f.min_exp() - f.man_bits);
  } else {
    v = f32_from_bits((mag << (23 - f.man_bits)) + (static_cast<uint32_t>(127 - f.bias) << 23));
  }
  return sign ? -v : v;
}

float narrow_float_max(DType t) {
  if (t == DType::kF8E8M0) return f32_from_bits(0x7f000000u);  // 2^127
  return f32_from_bits(narrow_float_format(t).max_bits);
}

}  // namespace kiln
