// bfloat16, the float8 family and float4e2m1: their formats, and conversions
// to and from float32 exactly as ONNX Cast defines them (onnx/reference
// op_cast.py: ml_dtypes' astype, round to nearest even). These are the
// compile-time reference; codegen emits the same algorithm inline
// (src/codegen/llvm/emit_narrow.cpp), and kernels hold such values as float32.
#pragma once

#include <cstdint>

#include "ir/dtype.h"

namespace kiln {

// An IEEE-like binary format with `exp_bits` exponent and `man_bits` fraction
// bits (float8e8m0, a bare exponent, is not one: see the e8m0 functions).
struct NarrowFloatFormat {
  int exp_bits;
  int man_bits;
  int bias;
  enum class Nan : uint8_t {
    kIeee,     // exponent all ones, fraction nonzero; all ones with fraction 0 is inf (bfloat16, e5m2)
    kAllOnes,  // only S.1111.111 is NaN; no inf (e4m3fn)
    kNegZero,  // 0x80 ("negative zero") is the only NaN; no inf, no -0 (the fnuz types)
    kNone,     // no NaN, no inf (float4e2m1)
  } nan;
  uint32_t max_bits;    // float32 bits of the largest finite value
  uint32_t nan_code;    // the NaN a conversion writes (sign added for kIeee/kAllOnes)

  int total_bits() const { return 1 + exp_bits + man_bits; }
  // Smallest normal exponent (unbiased).
  int min_exp() const { return 1 - bias; }
  bool has_inf() const { return nan == Nan::kIeee; }
};

// The format of a narrow float type other than float8e8m0.
const NarrowFloatFormat& narrow_float_format(DType t);

// The value of narrow float type `t` nearest to `x` (ties to even), as a float32
// that holds it exactly. Beyond the largest finite value: inf where the type has
// one (bfloat16, e5m2), else NaN (e4m3fn, the fnuz types; inf becomes NaN too),
// else the largest value (float4e2m1). NaN stays NaN (float4e2m1, which has none:
// a zero with the NaN's sign flipped, as ml_dtypes does). The fnuz types have no -0.
// float8e8m0: ONNX's round_mode "up" with saturation (see e8m0_round).
float narrow_float_round(DType t, float x);
// The bits of `v`, a value of `t` (a narrow_float_round result), in the low bits.
uint32_t narrow_float_encode(DType t, float v);
// The float32 value of the bits of `t`.
float narrow_float_decode(DType t, uint32_t bits);
// The largest finite value of `t`.
float narrow_float_max(DType t);

// float8e8m0 holds 2^(e-127) for e in 0..254 and NaN (255); it has no sign.
// ONNX Cast rounds with `round_mode` up (default: a fraction takes the next
// exponent), down (drops it) or nearest, and `saturate` keeps 2^127 from
// rounding up into NaN. NaN and inf become NaN.
enum class E8M0Round : uint8_t { kUp, kDown, kNearest };
float e8m0_round(float x, E8M0Round mode, bool saturate);

// `v` rounded to float32 with round-to-odd (an inexact result gets its lowest
// fraction bit set), so that rounding it again to a type with fewer fraction
// bits gives the correctly rounded result of `v`.
float f32_round_odd(double v);

// Bit casts.
uint32_t f32_bits(float x);
float f32_from_bits(uint32_t u);

}  // namespace kiln
