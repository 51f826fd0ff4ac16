// bfloat16, float8 and float4 conversions (ir/narrow_float.h) at the edges:
// ties to even, subnormals, overflow to inf/NaN/max, NaN, negative zero. The
// expected bits are what ml_dtypes' astype (onnx's reference for Cast) gives.
// Also: every code of every type survives decode -> round -> encode, and
// ir::Tensor's element access for every dtype.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ir/graph.h"
#include "ir/narrow_float.h"

namespace kiln {
namespace {

uint32_t cast_bits(DType t, float x) { return narrow_float_encode(t, narrow_float_round(t, x)); }

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(NarrowFloat, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(cast_bits(DType::kBF16, 1.0f + std::ldexp(1.0f, -8)), 0x3F80u);        // tie -> even (down)
  EXPECT_EQ(cast_bits(DType::kBF16, 1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82u);    // tie -> even (up)
  EXPECT_EQ(cast_bits(DType::kBF16, 1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81u);  // above tie
  EXPECT_EQ(cast_bits(DType::kBF16, -(1.0f + std::ldexp(1.0f, -8))), 0xBF80u);
  EXPECT_EQ(cast_bits(DType::kBF16, 3.3895314e38f), 0x7F7Fu);  // the largest value
  EXPECT_EQ(cast_bits(DType::kBF16, 3.3961776e38f), 0x7F80u);  // rounds past it: inf
  EXPECT_EQ(cast_bits(DType::kBF16, 1e-40f), 0x0001u);         // float32 subnormal -> bfloat16 subnormal
  EXPECT_EQ(cast_bits(DType::kBF16, -1e-45f), 0x8000u);        // -0
  EXPECT_EQ(cast_bits(DType::kBF16, kNan), 0x7FC0u);
  EXPECT_EQ(cast_bits(DType::kBF16, -kNan), 0xFFC0u);
  EXPECT_EQ(cast_bits(DType::kBF16, -kInf), 0xFF80u);
  EXPECT_EQ(narrow_float_decode(DType::kBF16, 0x4049), 3.140625f);
  EXPECT_TRUE(std::isnan(narrow_float_decode(DType::kBF16, 0x7FC1)));
}

TEST(NarrowFloat, Float8E4M3FN) {
  const DType t = DType::kF8E4M3FN;
  EXPECT_EQ(narrow_float_max(t), 448.0f);
  EXPECT_EQ(cast_bits(t, 448.0f), 0x7Eu);
  EXPECT_EQ(cast_bits(t, 463.9f), 0x7Eu);
  EXPECT_EQ(cast_bits(t, 464.0f), 0x7Eu);  // tie between 448 and 480 (not a value): even
  EXPECT_EQ(cast_bits(t, 480.0f), 0x7Fu);  // overflow: NaN (no inf)
  EXPECT_EQ(cast_bits(t, kInf), 0x7Fu);
  EXPECT_EQ(cast_bits(t, -kInf), 0xFFu);
  EXPECT_EQ(cast_bits(t, -kNan), 0xFFu);
  EXPECT_EQ(cast_bits(t, -0.0f), 0x80u);
  const float s = std::ldexp(1.0f, -9);  // smallest subnormal
  EXPECT_EQ(cast_bits(t, 0.5f * s), 0x00u);
  EXPECT_EQ(cast_bits(t, 1.5f * s), 0x02u);
  EXPECT_EQ(cast_bits(t, 2.5f * s), 0x02u);
  EXPECT_EQ(cast_bits(t, -0.5f * s), 0x80u);
  EXPECT_EQ(cast_bits(t, std::ldexp(1.0f, -6) * (1 - std::ldexp(1.0f, -5))), 0x08u);  // up to the smallest normal
  EXPECT_EQ(cast_bits(t, 0.2f), 0x25u);
  EXPECT_EQ(cast_bits(t, 6.5f), 0x4Du);
  EXPECT_TRUE(std::isnan(narrow_float_decode(t, 0x7F)));
  EXPECT_EQ(narrow_float_decode(t, 0x01), s);
  EXPECT_EQ(narrow_float_decode(t, 0xFE), -448.0f);
}

TEST(NarrowFloat, Float8E4M3FNUZHasOneNanAndNoNegativeZero) {
  const DType t = DType::kF8E4M3FNUZ;
  EXPECT_EQ(narrow_float_max(t), 240.0f);
  EXPECT_EQ(cast_bits(t, 247.0f), 0x7Fu);
  EXPECT_EQ(cast_bits(t, 248.0f), 0x80u);  // tie rounds to even = 256: overflow, NaN
  EXPECT_EQ(cast_bits(t, -0.0f), 0x00u);
  EXPECT_EQ(cast_bits(t, -1e-9f), 0x00u);
  EXPECT_EQ(cast_bits(t, kNan), 0x80u);
  EXPECT_EQ(cast_bits(t, -kInf), 0x80u);
  EXPECT_EQ(cast_bits(t, 0.0009765625f), 0x01u);  // smallest subnormal 2^-10
  EXPECT_EQ(cast_bits(t, 6.5f), 0x55u);
  EXPECT_TRUE(std::isnan(narrow_float_decode(t, 0x80)));
  EXPECT_EQ(narrow_float_decode(t, 0xFF), -240.0f);
}

TEST(NarrowFloat, Float8E5M2HasInfinities) {
  const DType t = DType::kF8E5M2;
  EXPECT_EQ(narrow_float_max(t), 57344.0f);
  EXPECT_EQ(cast_bits(t, 61439.0f), 0x7Bu);
  EXPECT_EQ(cast_bits(t, 61440.0f), 0x7Cu);  // tie past the largest value: inf
  EXPECT_EQ(cast_bits(t, kInf), 0x7Cu);
  EXPECT_EQ(cast_bits(t, -1e9f), 0xFCu);
  EXPECT_EQ(cast_bits(t, kNan), 0x7Eu);
  EXPECT_EQ(cast_bits(t, -kNan), 0xFEu);
  EXPECT_EQ(cast_bits(t, 6.5f), 0x46u);   // tie -> even (6)
  EXPECT_EQ(cast_bits(t, 0.2f), 0x32u);
  EXPECT_EQ(narrow_float_decode(t, 0xFC), -kInf);
  EXPECT_TRUE(std::isnan(narrow_float_decode(t, 0x7D)));
  EXPECT_EQ(narrow_float_decode(t, 0x01), std::ldexp(1.0f, -16));
}

TEST(NarrowFloat, Float8E5M2FNUZ) {
  const DType t = DType::kF8E5M2FNUZ;
  EXPECT_EQ(narrow_float_max(t), 57344.0f);
  EXPECT_EQ(cast_bits(t, 57344.0f), 0x7Fu);
  EXPECT_EQ(cast_bits(t, 61440.0f), 0x80u);
  EXPECT_EQ(cast_bits(t, kInf), 0x80u);
  EXPECT_EQ(cast_bits(t, -0.0f), 0x00u);
  EXPECT_EQ(cast_bits(t, 448.0f), 0x63u);
  EXPECT_EQ(cast_bits(t, std::ldexp(1.0f, -17)), 0x01u);
}

TEST(NarrowFloat, Float4E2M1SaturatesAndHasNoNan) {
  const DType t = DType::kF4E2M1;
  EXPECT_EQ(narrow_float_max(t), 6.0f);
  EXPECT_EQ(cast_bits(t, 0.25f), 0x0u);   // tie between 0 and 0.5: even
  EXPECT_EQ(cast_bits(t, 0.75f), 0x2u);   // tie between 0.5 and 1: even (1)
  EXPECT_EQ(cast_bits(t, 5.0f), 0x6u);    // tie between 4 and 6: 4
  EXPECT_EQ(cast_bits(t, 7.0f), 0x7u);    // beyond 6: 6
  EXPECT_EQ(cast_bits(t, 1e6f), 0x7u);
  EXPECT_EQ(cast_bits(t, kInf), 0x7u);
  EXPECT_EQ(cast_bits(t, -kInf), 0xFu);
  EXPECT_EQ(cast_bits(t, -3.5f), 0xEu);   // tie between -3 and -4: -4
  EXPECT_EQ(cast_bits(t, -0.0f), 0x8u);
  EXPECT_EQ(cast_bits(t, kNan), 0x8u);    // as ml_dtypes: a zero of the other sign
  EXPECT_EQ(cast_bits(t, -kNan), 0x0u);
  const float values[] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (uint32_t c = 0; c < 8; ++c) {
    EXPECT_EQ(narrow_float_decode(t, c), values[c]) << c;
    EXPECT_EQ(narrow_float_decode(t, c | 8), -values[c]) << c;
  }
}

TEST(NarrowFloat, Float8E8M0RoundModes) {
  const float x[] = {0.0f, 1.0f, 1.5f, 3.0f, 0.75f, std::ldexp(1.5f, 127), std::ldexp(1.0f, 127), kInf, kNan, -4.0f,
                     1e-40f, std::ldexp(1.25f, -127)};
  // onnx.numpy_helper.to_float8e8m0(x, saturate, round_mode), as bits.
  const uint32_t up_sat[] = {0, 127, 128, 129, 127, 254, 254, 255, 255, 129, 1, 1};
  const uint32_t up[] = {0, 127, 128, 129, 127, 255, 254, 255, 255, 129, 1, 1};
  const uint32_t down[] = {0, 127, 127, 128, 126, 254, 254, 255, 255, 129, 0, 0};
  const uint32_t nearest_sat[] = {0, 127, 128, 129, 127, 254, 254, 255, 255, 129, 0, 1};
  for (size_t i = 0; i < std::size(x); ++i) {
    auto bits = [&](E8M0Round m, bool s) { return narrow_float_encode(DType::kF8E8M0, e8m0_round(x[i], m, s)); };
    EXPECT_EQ(bits(E8M0Round::kUp, true), up_sat[i]) << x[i];
    EXPECT_EQ(bits(E8M0Round::kUp, false), up[i]) << x[i];
    EXPECT_EQ(bits(E8M0Round::kDown, true), down[i]) << x[i];
    EXPECT_EQ(bits(E8M0Round::kNearest, true), nearest_sat[i]) << x[i];
    EXPECT_EQ(cast_bits(DType::kF8E8M0, x[i]), up_sat[i]) << x[i];  // Cast's defaults
  }
  EXPECT_EQ(narrow_float_decode(DType::kF8E8M0, 0), std::ldexp(1.0f, -127));
  EXPECT_EQ(narrow_float_decode(DType::kF8E8M0, 254), std::ldexp(1.0f, 127));
  EXPECT_TRUE(std::isnan(narrow_float_decode(DType::kF8E8M0, 255)));
}

TEST(NarrowFloat, EveryCodeRoundTrips) {
  const DType types[] = {DType::kBF16,        DType::kF8E4M3FN, DType::kF8E4M3FNUZ, DType::kF8E5M2,
                         DType::kF8E5M2FNUZ, DType::kF8E8M0,   DType::kF4E2M1};
  for (DType t : types) {
    uint32_t codes = t == DType::kBF16 ? 0x10000 : t == DType::kF4E2M1 ? 16 : 256;
    for (uint32_t c = 0; c < codes; ++c) {
      float v = narrow_float_decode(t, c);
      uint32_t back = cast_bits(t, v);
      if (t == DType::kF8E8M0 && c == 0) {
        // 2^-127 is a float32 subnormal: its fraction bits make round-up take 2^-126
        // (onnx.numpy_helper.to_float8e8m0 does the same).
        EXPECT_EQ(back, 1u);
      } else if (std::isnan(v)) {
        EXPECT_TRUE(std::isnan(narrow_float_decode(t, back))) << dtype_name(t) << " code " << c;
      } else {
        EXPECT_EQ(back, c) << dtype_name(t) << " code " << c << " value " << v;
      }
    }
  }
}

TEST(NarrowFloat, RoundToOddKeepsTheSecondRoundingCorrect) {
  // 1 + 2^-8 + 2^-40 lies just above the bfloat16 tie 1 + 2^-8: rounding via a
  // nearest-even float32 loses the 2^-40 and gives 1.0; round-to-odd keeps it.
  double v = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40);
  EXPECT_EQ(cast_bits(DType::kBF16, f32_round_odd(v)), 0x3F81u);
  EXPECT_EQ(cast_bits(DType::kBF16, static_cast<float>(v)), 0x3F80u);
  // Just below a tie, where float32's nearest rounds up onto the tie (which
  // then goes to the even neighbour above).
  double w = 1.0 + 3 * std::ldexp(1.0, -8) - std::ldexp(1.0, -40);
  EXPECT_EQ(cast_bits(DType::kBF16, f32_round_odd(w)), 0x3F81u);
  EXPECT_EQ(cast_bits(DType::kBF16, static_cast<float>(w)), 0x3F82u);
  EXPECT_EQ(f32_round_odd(0.5), 0.5f);
  EXPECT_TRUE(std::isinf(f32_round_odd(1e300)));
}

TEST(NarrowFloat, TensorElementsOfEveryType) {
  ir::Tensor t(ir::TensorType{DType::kBF16, {3}});
  t.set_f64(0, 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40));  // rounded once from float64
  t.set_f64(1, -2.5);
  t.set_i64(2, 7);
  EXPECT_EQ(t.data<uint16_t>()[0], 0x3F81);
  EXPECT_EQ(t.get_f64(1), -2.5);
  EXPECT_EQ(t.get_i64(2), 7);

  ir::Tensor f8(ir::TensorType{DType::kF8E4M3FN, {2}});
  f8.set_f64(0, 1000.0);  // non-saturating: NaN
  f8.set_f64(1, -0.2);
  EXPECT_EQ(f8.data<uint8_t>()[0], 0x7F);
  EXPECT_EQ(f8.data<uint8_t>()[1], 0xA5);
  EXPECT_TRUE(std::isnan(f8.get_f64(0)));

  ir::Tensor i4(ir::TensorType{DType::kI4, {3}});
  i4.set_i64(0, -1);
  i4.set_i64(1, 9);  // wraps to -7
  i4.set_f64(2, 7.9);
  EXPECT_EQ(i4.data<uint8_t>()[0], 0x0F);  // one per byte, the low bits
  EXPECT_EQ(i4.get_i64(0), -1);
  EXPECT_EQ(i4.get_i64(1), -7);
  EXPECT_EQ(i4.get_i64(2), 7);

  ir::Tensor u64(ir::TensorType{DType::kU64, {2}});
  u64.set_f64(0, 18446744073709549568.0);  // 2^64 - 2^11
  u64.set_i64(1, -1);
  EXPECT_EQ(u64.data<uint64_t>()[0], 18446744073709549568ull);
  EXPECT_EQ(u64.get_f64(1), 18446744073709551615.0);

  ir::Tensor i16(ir::TensorType{DType::kI16, {2}});
  i16.set_i64(0, 40000);
  i16.set_f64(1, -3.9);
  EXPECT_EQ(i16.get_i64(0), 40000 - 65536);
  EXPECT_EQ(i16.get_i64(1), -3);

  ir::Tensor h(ir::TensorType{DType::kF16, {3}});
  h.set_f64(0, 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40));
  h.set_f64(1, 70000.0);
  h.set_f64(2, std::ldexp(1.0, -25) * 3);  // 1.5 subnormal steps: to even (2)
  EXPECT_EQ(h.data<uint16_t>()[0], 0x3C01);
  EXPECT_EQ(h.data<uint16_t>()[1], 0x7C00);
  EXPECT_EQ(h.data<uint16_t>()[2], 0x0002);
}

TEST(DType, NamesSizesAndCodes) {
  EXPECT_STREQ(dtype_name(DType::kF8E4M3FNUZ), "float8e4m3fnuz");
  EXPECT_EQ(dtype_size(DType::kU64), 8);
  EXPECT_EQ(dtype_size(DType::kBF16), 2);
  EXPECT_EQ(dtype_size(DType::kI2), 1);
  EXPECT_EQ(dtype_bits(DType::kU4), 4);
  EXPECT_EQ(dtype_from_code(16), DType::kBF16);
  EXPECT_EQ(dtype_from_code(26), DType::kI2);
  EXPECT_FALSE(dtype_from_code(8));  // STRING
  EXPECT_FALSE(dtype_from_code(300));
  EXPECT_TRUE(dtype_is_storage_only(DType::kF8E5M2));
  EXPECT_FALSE(dtype_is_storage_only(DType::kBF16));
  EXPECT_TRUE(dtype_is_float(DType::kBF16));
  EXPECT_TRUE(dtype_is_unsigned(DType::kU2));
  EXPECT_FALSE(dtype_is_unsigned(DType::kBool));
}

}  // namespace
}  // namespace kiln
