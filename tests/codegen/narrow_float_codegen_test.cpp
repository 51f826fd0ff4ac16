// JIT-run casts to and from bfloat16, the float8 family and float4e2m1 against
// the compile-time reference (ir/narrow_float.cpp, itself checked against
// ml_dtypes in tests/ir): every code decoded, every tie between neighbours and
// the floats just beside it, specials and random bit patterns; scalar and
// vector code; float64 and float16 sources; arithmetic rounded per operation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "codegen/codegen.h"
#include "jit_harness.h"
#include "ir/narrow_float.h"
#include "kernel/ir.h"

namespace kiln::codegen {
namespace {

using namespace kiln::kir;  // NOLINT: tests build IR by hand

using testing::make_jit;
using testing::run;

const DType kTypes[] = {DType::kBF16,        DType::kF8E4M3FN, DType::kF8E4M3FNUZ, DType::kF8E5M2,
                        DType::kF8E5M2FNUZ, DType::kF8E8M0,   DType::kF4E2M1};

uint32_t num_codes(DType t) { return t == DType::kBF16 ? 0x10000 : t == DType::kF4E2M1 ? 16 : 256; }

// Values that exercise the rounding of type t: its values, the midpoints of
// neighbours and the floats beside them, specials, and random float32 bits.
std::vector<float> probe_values(DType t) {
  std::vector<float> vals;
  std::vector<float> codes;
  for (uint32_t c = 0; c < num_codes(t); ++c) {
    float v = narrow_float_decode(t, c);
    if (!std::isnan(v)) codes.push_back(v);
  }
  std::sort(codes.begin(), codes.end());
  for (size_t i = 0; i < codes.size(); ++i) {
    vals.push_back(codes[i]);
    if (i + 1 < codes.size() && std::isfinite(codes[i]) && std::isfinite(codes[i + 1])) {
      float mid = static_cast<float>((static_cast<double>(codes[i]) + codes[i + 1]) / 2);
      vals.insert(vals.end(), {mid, std::nextafter(mid, INFINITY), std::nextafter(mid, -INFINITY)});
    }
  }
  float top = narrow_float_max(t);
  vals.insert(vals.end(), {top * 1.0625f, top * 1.125f, -top * 1.2f, top * 4, 0.0f, -0.0f, INFINITY, -INFINITY, NAN,
                           -NAN, 1e-30f, -1e-30f, 1e-40f, 3.0e38f, -3.4e38f});
  std::mt19937 rng(7);
  for (int i = 0; i < 4000; ++i) {
    uint32_t u = rng();
    float f;
    std::memcpy(&f, &u, 4);
    vals.push_back(f);
    // Random values in the type's range, where rounding decisions are dense.
    vals.push_back(std::ldexp(std::uniform_real_distribution<float>(-2, 2)(rng),
                              std::uniform_int_distribution<int>(-20, 16)(rng)));
  }
  while (vals.size() % 8) vals.push_back(1.0f);
  return vals;
}

// Runs a loop of n elements as serial and as 8-lane vector code.
void for_both(const std::function<void(ForKind, const std::string&)>& fn) {
  fn(ForKind::kSerial, "_s");
  fn(ForKind::kVectorized, "_v");
}

TEST(NarrowFloatCodegen, CastFromFloat32MatchesReference) {
  for (DType t : kTypes) {
    SCOPED_TRACE(dtype_name(t));
    std::vector<float> x = probe_values(t);
    const int n = static_cast<int>(x.size());
    for_both([&](ForKind kind, const std::string& sfx) {
      Buffer in = make_buffer("in", DType::kF32), out = make_buffer("out", t), back = make_buffer("back", DType::kF32);
      Expr o = var("o"), i = var("i");
      Expr idx = o * 8 + i;
      Func f{std::string("to_") + dtype_name(t) + sfx, {in, out, back},
             for_loop(o, 0, n / 8, ForKind::kSerial,
                      for_loop(i, 0, 8, kind,
                               block({store(out, idx, cast(Type{t, 1}, load(in, idx))),
                                      store(back, idx, cast(f32(), cast(Type{t, 1}, load(in, idx))))})))};
      std::vector<uint8_t> bytes(n * dtype_size(t));
      std::vector<float> round_trip(n);
      auto jit = make_jit();
      run(*jit, f, {x.data(), bytes.data(), round_trip.data()});
      int bad = 0;
      for (int k = 0; k < n && bad < 5; ++k) {
        uint32_t got = dtype_size(t) == 2 ? reinterpret_cast<uint16_t*>(bytes.data())[k] : bytes[k];
        uint32_t want = narrow_float_encode(t, narrow_float_round(t, x[k]));
        float want_f = narrow_float_round(t, x[k]);
        bool same_f = std::isnan(want_f) ? std::isnan(round_trip[k])
                                         : std::memcmp(&want_f, &round_trip[k], 4) == 0;
        if (got != want || !same_f) {
          ++bad;
          ADD_FAILURE() << sfx << " x=" << x[k] << " (bits 0x" << std::hex << f32_bits(x[k]) << "): got 0x" << got
                        << " want 0x" << want << std::dec << "; as float32 got " << round_trip[k] << " want " << want_f;
        }
      }
    });
  }
}

TEST(NarrowFloatCodegen, EveryCodeDecodes) {
  for (DType t : kTypes) {
    SCOPED_TRACE(dtype_name(t));
    int n = static_cast<int>(num_codes(t));
    std::vector<uint8_t> codes(n * dtype_size(t));
    for (int c = 0; c < n; ++c) {
      if (dtype_size(t) == 2) {
        reinterpret_cast<uint16_t*>(codes.data())[c] = static_cast<uint16_t>(c);
      } else {
        codes[c] = static_cast<uint8_t>(c);
      }
    }
    for_both([&](ForKind kind, const std::string& sfx) {
      Buffer in = make_buffer("in", t), out = make_buffer("out", DType::kF32), h = make_buffer("h", DType::kF64);
      Expr o = var("o"), i = var("i");
      Expr idx = o * 8 + i;
      Func f{std::string("from_") + dtype_name(t) + sfx, {in, out, h},
             for_loop(o, 0, n / 8, ForKind::kSerial,
                      for_loop(i, 0, 8, kind,
                               block({store(out, idx, cast(f32(), load(in, idx))),
                                      store(h, idx, cast(Type{DType::kF64, 1}, load(in, idx)))})))};
      std::vector<float> got(n);
      std::vector<double> got64(n);
      auto jit = make_jit();
      run(*jit, f, {codes.data(), got.data(), got64.data()});
      for (int c = 0; c < n; ++c) {
        float want = narrow_float_decode(t, c);
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(got[c]) && std::isnan(got64[c])) << sfx << " code " << c;
        } else {
          EXPECT_EQ(f32_bits(got[c]), f32_bits(want)) << sfx << " code " << c;
          EXPECT_EQ(got64[c], static_cast<double>(want)) << sfx << " code " << c;
        }
      }
    });
  }
}

TEST(NarrowFloatCodegen, Float64AndFloat16SourcesRoundOnce) {
  // 1 + 2^-8 + 2^-40 is just above a bfloat16 tie: a float64 -> float32 -> bf16
  // path rounding to nearest twice would give 1.0.
  std::vector<double> d{1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40), 1.0 + 3 * std::ldexp(1.0, -8) - std::ldexp(1.0, -40),
                        -300.0, 1e300, 464.00000001, 0.0, -1e-300, 6.5};
  std::vector<uint16_t> half{0x3C00, 0x5BD0 /* 250 */, 0x7C00, 0xFC00, 0x0001, 0x8000, 0x4680 /* 6.5 */, 0x7E00};
  for_both([&](ForKind kind, const std::string& sfx) {
    Buffer in = make_buffer("in", DType::kF64), b = make_buffer("b", DType::kBF16), e = make_buffer("e", DType::kF8E4M3FN);
    Buffer hi = make_buffer("hi", DType::kF16), he = make_buffer("he", DType::kF8E5M2), hb = make_buffer("hb", DType::kF16);
    Expr i = var("i");
    Func f{"wide_sources" + sfx, {in, b, e, hi, he, hb},
           for_loop(i, 0, 8, kind,
                    block({store(b, i, cast(Type{DType::kBF16, 1}, load(in, i))),
                           store(e, i, cast(Type{DType::kF8E4M3FN, 1}, load(in, i))),
                           store(he, i, cast(Type{DType::kF8E5M2, 1}, load(hi, i))),
                           store(hb, i, cast(Type{DType::kF16, 1}, load(he, i)))}))};
    std::vector<uint16_t> rb(8), rhb(8);
    std::vector<uint8_t> re(8), rhe(8);
    auto jit = make_jit();
    run(*jit, f, {d.data(), rb.data(), re.data(), half.data(), rhe.data(), rhb.data()});
    EXPECT_EQ(rb[0], 0x3F81) << sfx;
    EXPECT_EQ(rb[1], 0x3F81) << sfx;
    for (int k = 2; k < 8; ++k) {
      EXPECT_EQ(rb[k], narrow_float_encode(DType::kBF16, narrow_float_round(DType::kBF16, f32_round_odd(d[k])))) << k;
      EXPECT_EQ(re[k], narrow_float_encode(DType::kF8E4M3FN, narrow_float_round(DType::kF8E4M3FN, f32_round_odd(d[k]))))
          << k;
    }
    EXPECT_EQ(re[4], 0x7F) << "464.00000001 is above the 448/480 tie: 480, which is NaN in e4m3fn";
    const uint8_t want_e5m2[] = {0x3C, 0x5C, 0x7C, 0xFC, 0x00, 0x80, 0x46, 0x7E};
    const uint16_t want_back[] = {0x3C00, 0x5C00, 0x7C00, 0xFC00, 0x0000, 0x8000, 0x4600, 0x7E00};
    for (int k = 0; k < 8; ++k) {
      EXPECT_EQ(rhe[k], want_e5m2[k]) << sfx << " " << k;
      if (k != 7) EXPECT_EQ(rhb[k], want_back[k]) << sfx << " " << k;
    }
    EXPECT_EQ(rhb[7] & 0x7C00, 0x7C00) << "NaN stays NaN";
    EXPECT_NE(rhb[7] & 0x03FF, 0);
  });
}

TEST(NarrowFloatCodegen, ArithmeticRoundsToTheTypeAfterEachOperation) {
  // bf16: 1 + 2^-8 is a tie that rounds to 1 (even); (a + b) - a is then 0.
  std::vector<uint16_t> a{0x3F80, 0x4040, 0x7F7F, 0xC000}, b{0x3B80, 0x3F80, 0x7F7F, 0x4000};  // b[0] = 2^-8
  Buffer ba = make_buffer("a", DType::kBF16), bb = make_buffer("b", DType::kBF16), o = make_buffer("o", DType::kBF16);
  Buffer m = make_buffer("m", DType::kF32), lt = make_buffer("lt", DType::kBool);
  Expr i = var("i");
  Func f{"bf16_math", {ba, bb, o, m, lt},
         for_loop(i, 0, 4, ForKind::kVectorized,
                  block({store(o, i, (load(ba, i) + load(bb, i)) - load(ba, i)),
                         store(m, i, cast(f32(), load(ba, i) * load(bb, i))),
                         store(lt, i, load(ba, i) < load(bb, i))}))};
  std::vector<uint16_t> ro(4);
  std::vector<float> rm(4);
  std::vector<uint8_t> rlt(4);
  auto jit = make_jit();
  run(*jit, f, {a.data(), b.data(), ro.data(), rm.data(), rlt.data()});
  EXPECT_EQ(ro[0], 0x0000);  // (1 + 2^-8 -> 1) - 1
  EXPECT_EQ(ro[1], 0x3F80);  // (3 + 1) - 3 = 1
  EXPECT_EQ(ro[2], 0x7F80);  // max + max overflows to inf; inf - max = inf
  EXPECT_EQ(rm[0], std::ldexp(1.0f, -8));
  EXPECT_EQ(rm[1], 3.0f);
  EXPECT_TRUE(std::isinf(rm[2]));
  EXPECT_EQ(rm[3], -4.0f);
  EXPECT_EQ(rlt[0], 0);
  EXPECT_EQ(rlt[3], 1);
  // Constants are rounded to the type when built.
  Expr c = float_imm(0.1, Type{DType::kBF16, 1});
  EXPECT_EQ(c.as<FloatImm>()->value, static_cast<double>(narrow_float_round(DType::kBF16, 0.1f)));
  Expr e = cast(Type{DType::kF8E4M3FN, 1}, float_imm(1000.0, f32()));
  EXPECT_TRUE(std::isnan(e.as<FloatImm>()->value));
}

}  // namespace
}  // namespace kiln::codegen
