// The quantization ops against exact references: QuantizeLinear /
// DequantizeLinear / Requantize with ONNX's rounding (half to even) and
// saturation, and the integer Conv / MatMul with their bias + Requantize
// epilogue fused into one kernel, bit for bit against int64 accumulation, at
// every kernel level and register-tile option set (interpreter, vectorized
// interpreter and JIT).
#include <algorithm>
#include <cmath>
#include <map>

#include "lower/kernel_builder.h"
#include "lower_harness.h"
#include "ops/quant_types.h"
#include "passes/fuse_elementwise.h"

namespace kiln::ops::testing {
namespace {

using ir::OpKind;

// Levels 1 and 2 and the three level-3 tile shapes.
std::vector<KernelOptions> all_option_sets() {
  KernelOptions l1, l2;
  l1.level = 1;
  l2.level = 2;
  std::vector<KernelOptions> sets{l1, l2};
  for (const KernelOptions& o : level3_option_sets()) sets.push_back(o);
  return sets;
}

// ONNX's Requantize of an exact accumulator (what the kernels must produce).
int64_t requantize_ref(int64_t acc, float mult, int64_t zp, int64_t lo, int64_t hi) {
  EXPECT_TRUE(acc >= INT32_MIN && acc <= INT32_MAX) << "accumulator " << acc << " overflows int32";
  float r = std::nearbyint(static_cast<float>(static_cast<int32_t>(acc)) * mult) + static_cast<float>(zp);
  if (!(r >= static_cast<float>(lo))) return lo;
  if (r > static_cast<float>(hi)) return hi;
  return static_cast<int64_t>(r);
}

using QuantizeTest = OneNodeTest;

TEST_F(QuantizeTest, QuantizeLinearRoundsHalfToEvenAndSaturates) {
  // x / 0.5 hits exact ties (k + 0.5), the extremes saturate, NaN goes to the minimum.
  std::vector<double> xs{0.25, 0.75, 1.25, -0.25, -0.75, -1.25, 63.0, 200.0, -200.0, 1e30, -1e30, NAN, 0.0, 10.74};
  for (DType t : {DType::kU8, DType::kI8}) {
    int64_t zp = t == DType::kU8 ? 128 : -3;
    HostTensor x = HostTensor::of(DType::kF32, {static_cast<int64_t>(xs.size())}, xs);
    HostTensor s = HostTensor::of(DType::kF32, {}, {0.5});
    HostTensor z = HostTensor::of(t, {}, {static_cast<double>(zp)});
    std::vector<double> want;
    for (double v : xs) want.push_back(static_cast<double>(quantize_value(static_cast<float>(v), 0.5f, zp, t)));
    EXPECT_EQ(want[0], static_cast<double>(zp));      // 0.5 -> 0 (even)
    EXPECT_EQ(want[1], static_cast<double>(zp + 2));  // 1.5 -> 2
    EXPECT_EQ(want[2], static_cast<double>(zp + 2));  // 2.5 -> 2
    check_node(node(OpKind::kQuantizeLinear, {x, s, z}), {x, s, z}, want, 0);
  }
}

TEST_F(QuantizeTest, QuantizeLinearByAConstantScaleIsTheRoundedQuotient) {
  // One constant scale, by_reciprocal set: x / s runs as Markstein's multiply + FMA corrections;
  // the quantized values must be those of the division, also within a few ulps
  // of every tie (k + 0.5) * s, and for infinities, NaN, huge and subnormal x.
  for (float sv : {0.5f, 0.0123f, 0.3f, 7.77f, 1e-3f, 3.1e-5f, 0.04f}) {
    std::vector<double> xs{INFINITY, -INFINITY, NAN, 3e38, -3e38, 1e-40, -1e-42, 0.0};
    for (int k = -140; k <= 140; ++k) {
      float tie = static_cast<float>((k + 0.5) * static_cast<double>(sv));
      float below = tie, above = tie;
      for (int ulp = 0; ulp < 3; ++ulp) {
        xs.push_back(below);
        xs.push_back(above);
        below = std::nextafter(below, -INFINITY);
        above = std::nextafter(above, INFINITY);
      }
    }
    for (DType t : {DType::kU8, DType::kI8}) {
      int64_t zp = t == DType::kU8 ? 128 : 0;
      ir::Graph g;
      ir::Value* x = g.add_input("x", ir::TensorType{DType::kF32, {static_cast<int64_t>(xs.size())}});
      ir::Value* s = g.add_constant("s", ir::Tensor::from_f32({}, {sv}));
      ir::Tensor zt(ir::TensorType{t, {}});
      if (t == DType::kU8) zt.mutable_data<uint8_t>()[0] = static_cast<uint8_t>(zp);
      else zt.mutable_data<int8_t>()[0] = static_cast<int8_t>(zp);
      ir::Value* z = g.add_constant("z", zt);
      // By the reciprocal (lower_qdq's choice on targets with FMA) and by division.
      for (int64_t by_reciprocal : {1, 0}) {
        auto q = g.add_node(OpKind::kQuantizeLinear, "q" + std::to_string(by_reciprocal), {x, s, z},
                            ir::Attrs().set(kQuantizeByReciprocal, by_reciprocal));
        ASSERT_TRUE(q.has_value()) << q.status().message();
        std::vector<double> want;
        for (double v : xs) want.push_back(static_cast<double>(quantize_value(static_cast<float>(v), sv, zp, t)));
        check_node(**q, {HostTensor::of(DType::kF32, {static_cast<int64_t>(xs.size())}, xs),
                         HostTensor::of(DType::kF32, {}, {sv}), HostTensor::of(t, {}, {static_cast<double>(zp)})},
                   want, 0);
      }
    }
  }
}

TEST_F(QuantizeTest, QuantizeLinearPerAxis) {
  ir::Shape shape{2, 3, 4};
  HostTensor x = HostTensor::random(DType::kF32, shape, 7, -3, 3);
  HostTensor s = HostTensor::of(DType::kF32, {1, 3, 1}, {0.01, 0.02, 0.05});
  HostTensor z = HostTensor::of(DType::kI8, {1, 3, 1}, {-5, 0, 7});
  std::vector<double> want;
  for (int64_t i = 0; i < 24; ++i) {
    int64_t c = unflatten(i, shape)[1];
    want.push_back(static_cast<double>(quantize_value(static_cast<float>(x.get(i)), static_cast<float>(s.get(c)),
                                                      static_cast<int64_t>(z.get(c)), DType::kI8)));
  }
  check_node(node(OpKind::kQuantizeLinear, {x, s, z}), {x, s, z}, want, 0);
}

TEST_F(QuantizeTest, DequantizeLinear) {
  HostTensor x = HostTensor::of(DType::kU8, {2, 3}, {0, 1, 127, 128, 254, 255});
  HostTensor s = HostTensor::of(DType::kF32, {}, {0.125});
  HostTensor z = HostTensor::of(DType::kU8, {}, {128});
  std::vector<double> want;
  for (double v : x.values()) want.push_back(static_cast<double>(static_cast<float>(v - 128) * 0.125f));
  ir::Attrs to = ir::Attrs().set("to", static_cast<int64_t>(DType::kF32));
  check_node(node(OpKind::kDequantizeLinear, {x, s, z}, to), {x, s, z}, want, 0);

  // int32 (a bias) with a per-channel scale.
  HostTensor b = HostTensor::of(DType::kI32, {3}, {-100000, 0, 123456});
  HostTensor bs = HostTensor::of(DType::kF32, {3}, {0.001, 0.5, 2e-5});
  HostTensor bz = HostTensor::of(DType::kI32, {}, {0});
  std::vector<double> bw;
  for (int i = 0; i < 3; ++i)
    bw.push_back(static_cast<double>(static_cast<float>(b.get(i)) * static_cast<float>(bs.get(i))));
  check_node(node(OpKind::kDequantizeLinear, {b, bs, bz}, to), {b, bs, bz}, bw, 0);
}

TEST_F(QuantizeTest, RequantizeWithClamp) {
  std::vector<double> accs{-70000, -1, 0, 1, 2, 3, 5, 100, 511, 512, 513, 70000, 2147483647, -2147483647};
  HostTensor acc = HostTensor::of(DType::kI32, {static_cast<int64_t>(accs.size())}, accs);
  HostTensor m = HostTensor::of(DType::kF32, {}, {0.25});  // ties at odd multiples of 2
  HostTensor z = HostTensor::of(DType::kU8, {}, {10});
  for (auto [lo, hi] : {std::pair<int64_t, int64_t>{0, 255}, {10, 255}, {10, 40}}) {
    ir::Attrs clamp;
    if (lo != 0 || hi != 255) clamp.set("min", lo).set("max", hi);
    std::vector<double> want;
    for (double a : accs)
      want.push_back(static_cast<double>(requantize_ref(static_cast<int64_t>(a), 0.25f, 10, lo, hi)));
    check_node(node(OpKind::kRequantize, {acc, m, z}, clamp), {acc, m, z}, want, 0);
  }
}

// A Requantize dequantized in place (passes/lower_qdq folds its only user, a
// DequantizeLinear, into it): float32 (y - z') * s' of the saturated y, for z'
// equal to and other than the requantizing zero point.
TEST_F(QuantizeTest, RequantizeDequantizedInPlace) {
  std::vector<double> accs{-70000, -1, 0, 1, 2, 3, 5, 100, 511, 512, 513, 70000, 2147483647, -2147483647};
  HostTensor acc = HostTensor::of(DType::kI32, {static_cast<int64_t>(accs.size())}, accs);
  HostTensor m = HostTensor::of(DType::kF32, {}, {0.25});
  HostTensor z = HostTensor::of(DType::kU8, {}, {10});
  ir::Tensor zc(z.type, std::vector<uint8_t>(z.bytes.begin(), z.bytes.begin() + 1));
  for (int64_t dz : {10, 3}) {
    for (auto [lo, hi] : {std::pair<int64_t, int64_t>{0, 255}, {10, 40}}) {
      ir::Attrs attrs;
      attrs.set("min", lo).set("max", hi).set(kDequantizeScale, 0.3).set(kDequantizeZero, dz);
      std::vector<ir::Value*> ins{g_.add_input("acc" + std::to_string(count_), acc.type),
                                  g_.add_input("m" + std::to_string(count_), m.type),
                                  g_.add_constant("z" + std::to_string(count_), zc)};
      auto n = g_.add_node(OpKind::kRequantize, "t" + std::to_string(count_++), ins, attrs);
      ASSERT_TRUE(n) << n.status().message();
      EXPECT_EQ((*n)->outputs[0]->type.dtype, DType::kF32);
      std::vector<double> want;
      for (double a : accs)
        want.push_back(static_cast<float>(requantize_ref(static_cast<int64_t>(a), 0.25f, 10, lo, hi) - dz) *
                       static_cast<float>(0.3));
      check_node_with(**n, {acc, m, z}, want, 0, all_option_sets());
      // y - z' is an integer: a zero is +0.0 (acc -1 rounds to -0.0 first).
      for (const KernelOptions& opts : all_option_sets())
        for (Runner r : runners())
          for (double v : run_node(**n, {acc, m, z}, opts, r))
            EXPECT_FALSE(v == 0 && std::signbit(v)) << runner_name(r) << " level " << opts.level;
    }
  }
}

TEST_F(QuantizeTest, RejectsBadTypes) {
  ir::Graph g;
  ir::Value* x = g.add_input("x", ir::TensorType{DType::kF32, {4}});
  ir::Value* s = g.add_input("s", ir::TensorType{DType::kF32, {}});
  ir::Value* zf = g.add_input("zf", ir::TensorType{DType::kF32, {}});
  ir::Value* s3 = g.add_input("s3", ir::TensorType{DType::kF32, {3}});
  ir::Value* z = g.add_input("z", ir::TensorType{DType::kU8, {}});
  auto bad_zero = g.add_node(OpKind::kQuantizeLinear, "q", {x, s, zf});
  ASSERT_FALSE(bad_zero.has_value());
  EXPECT_NE(bad_zero.status().message().find("zero point"), std::string::npos) << bad_zero.status().message();
  auto bad_axis = g.add_node(OpKind::kQuantizeLinear, "q", {x, s3, z});
  ASSERT_FALSE(bad_axis.has_value());
  EXPECT_NE(bad_axis.status().message().find("does not broadcast"), std::string::npos) << bad_axis.status().message();
}

// --- integer Conv / MatMul ---------------------------------------------------

struct ConvCase {
  DType xt, wt;
  int64_t n, c, h, w, m, k, stride, pad, dil, group;
  bool per_channel_zero;
  bool full_range;  // x all at its max and w at its min: the AVX2 vpmaddubsw saturation hazard
};

// A quantized conv layer as the QDQ pass builds it: ConvInteger -> Add(bias) ->
// Requantize(per-channel multiplier, clamp), one fused kernel.
void check_conv_layer(const ConvCase& cc, uint32_t seed) {
  ir::Graph g;
  int64_t cg = cc.c / cc.group;
  ir::Shape xs{cc.n, cc.c, cc.h, cc.w}, ws{cc.m, cg, cc.k, cc.k};
  auto lo_of = [](DType t) { return static_cast<double>(quantized_min(t)); };
  auto hi_of = [](DType t) { return static_cast<double>(quantized_max(t)) + 1; };
  HostTensor x = HostTensor::random(cc.xt, xs, seed, lo_of(cc.xt), hi_of(cc.xt));
  HostTensor w = HostTensor::random(cc.wt, ws, seed + 1, lo_of(cc.wt), hi_of(cc.wt));
  if (cc.full_range) {
    x = HostTensor::of(cc.xt, xs, std::vector<double>(ir::TensorType{cc.xt, xs}.num_elements(), lo_of(cc.xt) + 255));
    w = HostTensor::of(cc.wt, ws, std::vector<double>(ir::TensorType{cc.wt, ws}.num_elements(), lo_of(cc.wt)));
  }
  int64_t xz = cc.full_range ? static_cast<int64_t>(lo_of(cc.xt)) : (cc.xt == DType::kU8 ? 131 : -7);
  std::vector<int64_t> wz(cc.m, 0);
  std::vector<double> wz_d(cc.m), mult(cc.m), bias(cc.m);
  std::mt19937 gen(seed + 2);
  for (int64_t o = 0; o < cc.m; ++o) {
    wz[o] = cc.per_channel_zero ? static_cast<int64_t>(gen() % 9) - 4 + (cc.wt == DType::kU8 ? 128 : 0) : 0;
    wz_d[o] = static_cast<double>(wz[o]);
    mult[o] = static_cast<float>(std::ldexp(1.0 + (gen() % 1000) / 1000.0, -12 - static_cast<int>(gen() % 4)));
    bias[o] = static_cast<double>(static_cast<int64_t>(gen() % 20001) - 10000);
  }
  DType yt = DType::kU8;
  int64_t yz = 77, clamp_lo = 77, clamp_hi = 250;
  if (cc.full_range) {  // keep the (large negative) results inside the output range
    yz = 200, clamp_lo = 0, clamp_hi = 255;
    for (double& v : mult) v = std::ldexp(1.0, -16);
  }

  ir::Value* xv = g.add_input("x", x.type);
  auto cst = [&](const std::string& name, DType t, const ir::Shape& s, const std::vector<double>& v) {
    HostTensor h = HostTensor::of(t, s, v);
    return g.add_constant(
        name, ir::Tensor(h.type, std::vector<uint8_t>(h.bytes.begin(), h.bytes.begin() + h.type.num_bytes())));
  };
  ir::Value* wv = g.add_constant(
      "w", ir::Tensor(w.type, std::vector<uint8_t>(w.bytes.begin(), w.bytes.begin() + w.type.num_bytes())));
  ir::Value* xzv = cst("xz", cc.xt, {}, {static_cast<double>(xz)});
  ir::Value* wzv = cc.per_channel_zero ? cst("wz", cc.wt, {cc.m}, wz_d) : cst("wz", cc.wt, {}, {0});
  ir::Attrs attrs;
  attrs.set("strides", std::vector<int64_t>{cc.stride, cc.stride})
      .set("pads", std::vector<int64_t>{cc.pad, cc.pad, cc.pad, cc.pad})
      .set("dilations", std::vector<int64_t>{cc.dil, cc.dil})
      .set("group", cc.group);
  auto acc = g.add(OpKind::kConvInteger, "conv", {xv, wv, xzv, wzv}, attrs);
  ASSERT_TRUE(acc.has_value()) << acc.status().message();
  auto biased = g.add(OpKind::kAdd, "bias", {*acc, cst("b", DType::kI32, {cc.m, 1, 1}, bias)});
  ASSERT_TRUE(biased.has_value()) << biased.status().message();
  auto y = g.add(OpKind::kRequantize, "rq",
                 {*biased, cst("m", DType::kF32, {cc.m, 1, 1}, mult), cst("yz", yt, {}, {static_cast<double>(yz)})},
                 ir::Attrs().set("min", clamp_lo).set("max", clamp_hi));
  ASSERT_TRUE(y.has_value()) << y.status().message();
  g.add_output("y", *y);

  // The exact reference: int64 accumulation, then ONNX's rounding.
  const ir::Shape& ys = (*y)->type.shape;
  int64_t oh = ys[2], ow = ys[3];
  std::vector<double> want((*y)->type.num_elements());
  for (int64_t n = 0; n < cc.n; ++n)
    for (int64_t o = 0; o < cc.m; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          int64_t a = 0, gi = o / (cc.m / cc.group);
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t kh = 0; kh < cc.k; ++kh)
              for (int64_t kw = 0; kw < cc.k; ++kw) {
                int64_t ih = i * cc.stride + kh * cc.dil - cc.pad, iw = j * cc.stride + kw * cc.dil - cc.pad;
                if (ih < 0 || ih >= cc.h || iw < 0 || iw >= cc.w) continue;
                int64_t xval = static_cast<int64_t>(x.get(((n * cc.c + gi * cg + ic) * cc.h + ih) * cc.w + iw)) - xz;
                int64_t wval = static_cast<int64_t>(w.get(((o * cg + ic) * cc.k + kh) * cc.k + kw)) - wz[o];
                a += xval * wval;
              }
          a += static_cast<int64_t>(bias[o]);
          want[((n * cc.m + o) * oh + i) * ow + j] =
              static_cast<double>(requantize_ref(a, static_cast<float>(mult[o]), yz, clamp_lo, clamp_hi));
        }

  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(g);
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(lower::describe_group(groups[0]), "ConvInteger+Add+Requantize");
  for (const KernelOptions& opts : all_option_sets()) {
    static int counter = 0;
    Expected<lower::Kernel> k = lower::build_kernel(groups[0], "qconv_" + std::to_string(counter++), opts);
    ASSERT_TRUE(k.has_value()) << k.status().message();
    for (Runner r : runners()) {
      kir::Func f = r == Runner::kInterpreter ? k->func : kir::vectorize_loops(k->func);
      f.name += "_" + std::to_string(static_cast<int>(r));
      std::map<const ir::Value*, HostTensor> data{{xv, x}};
      for (const ir::Value* v : k->param_values)
        if (v->is_constant()) {
          HostTensor h{v->type,
                       std::vector<uint8_t>(v->constant->bytes(), v->constant->bytes() + v->constant->num_bytes())};
          h.bytes.resize(h.bytes.size() + 64);
          data.emplace(v, h);
        }
      HostTensor out{(*y)->type, std::vector<uint8_t>((*y)->type.num_bytes() + 64, 0xEE)};
      auto buffer = [&](const ir::Value* v) -> HostTensor& { return v == *y ? out : data.at(v); };
      if (r == Runner::kJit) {
        codegen::Jit* jit = shared_jit();
        ASSERT_NE(jit, nullptr);
        ASSERT_TRUE(jit->add(f).is_ok());
        std::vector<void*> args;
        for (const ir::Value* v : k->param_values) args.push_back(buffer(v).bytes.data());
        ASSERT_TRUE(jit->run(f.name, args).is_ok());
      } else {
        KirInterpreter interp;
        for (size_t i = 0; i < f.params.size(); ++i)
          interp.bind(f.params[i], buffer(k->param_values[i]).bytes.data(), k->param_values[i]->type.num_elements());
        interp.run(f.body);
        for (const std::string& e : interp.errors()) ADD_FAILURE() << runner_name(r) << ": " << e;
      }
      std::vector<double> got = out.values();
      if (cc.full_range)
        EXPECT_LT(*std::min_element(got.begin(), got.end()), 150.0) << "the values saturate the output";
      int bad = 0;
      for (size_t i = 0; i < want.size() && bad < 5; ++i)
        if (got[i] != want[i])
          ++bad, ADD_FAILURE() << runner_name(r) << " level " << opts.level << " lanes " << opts.f32_lanes
                               << ": element " << i << " is " << got[i] << ", want " << want[i];
    }
  }
}

TEST(QuantizedConvTest, U8S8PerChannelStridedPaddedDilatedGrouped) {
  check_conv_layer({DType::kU8, DType::kI8, 1, 8, 9, 11, 6, 3, 2, 1, 1, 2, true, false}, 11);
  check_conv_layer({DType::kU8, DType::kI8, 2, 4, 7, 9, 4, 3, 1, 2, 2, 1, false, false}, 12);
}

TEST(QuantizedConvTest, DepthwiseAndPointwise) {
  check_conv_layer({DType::kU8, DType::kI8, 1, 16, 10, 10, 16, 3, 1, 1, 1, 16, true, false}, 13);
  check_conv_layer({DType::kU8, DType::kI8, 1, 24, 7, 9, 40, 1, 1, 0, 1, 1, true, false}, 14);
}

TEST(QuantizedConvTest, OtherTypeCombinations) {
  check_conv_layer({DType::kI8, DType::kI8, 1, 5, 8, 8, 4, 3, 1, 1, 1, 1, true, false}, 15);
  check_conv_layer({DType::kU8, DType::kU8, 1, 5, 8, 8, 4, 3, 2, 0, 1, 1, true, false}, 16);
}

TEST(QuantizedConvTest, FullRangeProductsDoNotSaturate) {
  // 255 * -128 in every product (and pairs of them): a 16-bit pairwise sum would saturate.
  check_conv_layer({DType::kU8, DType::kI8, 1, 32, 5, 5, 4, 3, 1, 1, 1, 1, false, true}, 17);
}

// MatMulInteger with per-row and per-column zero points, batch broadcasting,
// then Requantize per column (as QLinearMatMul and the QDQ pass build it).
TEST_F(QuantizeTest, MatMulIntegerPerRowPerColumnZeroPointsBatched) {
  for (auto [at, bt] :
       {std::pair{DType::kU8, DType::kI8}, std::pair{DType::kI8, DType::kI8}, std::pair{DType::kU8, DType::kU8}}) {
    ir::Graph g;
    int64_t bsz = 2, m = 5, k = 37, n = 19;
    HostTensor a =
        HostTensor::random(at, {bsz, m, k}, 21, static_cast<double>(quantized_min(at)), quantized_max(at) + 1.0);
    HostTensor b = HostTensor::random(bt, {k, n}, 22, static_cast<double>(quantized_min(bt)), quantized_max(bt) + 1.0);
    std::vector<double> az(m), bz(n), mult(n);
    for (int64_t i = 0; i < m; ++i) az[i] = static_cast<double>(quantized_min(at) + 100 + i);
    for (int64_t j = 0; j < n; ++j) bz[j] = static_cast<double>(quantized_min(bt) + 120 + (j % 5));
    for (int64_t j = 0; j < n; ++j) mult[j] = static_cast<float>(std::ldexp(1.0 + j / 19.0, -11));
    HostTensor azh = HostTensor::of(at, {m}, az), bzh = HostTensor::of(bt, {n}, bz);
    HostTensor mh = HostTensor::of(DType::kF32, {n}, mult), yz = HostTensor::of(DType::kI8, {}, {-3});
    std::vector<double> want_acc, want;
    for (int64_t bi = 0; bi < bsz; ++bi)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          int64_t s = 0;
          for (int64_t kk = 0; kk < k; ++kk)
            s += (static_cast<int64_t>(a.get((bi * m + i) * k + kk)) - static_cast<int64_t>(az[i])) *
                 (static_cast<int64_t>(b.get(kk * n + j)) - static_cast<int64_t>(bz[j]));
          want_acc.push_back(static_cast<double>(s));
          want.push_back(static_cast<double>(requantize_ref(s, static_cast<float>(mult[j]), -3, -128, 127)));
        }
    const ir::Node& mm = node(OpKind::kMatMulInteger, {a, b, azh, bzh});
    EXPECT_EQ(mm.outputs[0]->type, (ir::TensorType{DType::kI32, {bsz, m, n}}));
    check_node_with(mm, {a, b, azh, bzh}, want_acc, 0, all_option_sets());
    HostTensor acc = HostTensor::of(DType::kI32, {bsz, m, n}, want_acc);
    check_node(node(OpKind::kRequantize, {acc, mh, yz}), {acc, mh, yz}, want, 0);
  }
}

TEST_F(QuantizeTest, ConvIntegerAloneMatchesInt64Reference) {
  HostTensor x = HostTensor::random(DType::kU8, {1, 3, 6, 7}, 31, 0, 256);
  HostTensor w = HostTensor::random(DType::kI8, {4, 3, 2, 3}, 32, -128, 128);
  HostTensor xz = HostTensor::of(DType::kU8, {}, {3});
  HostTensor wz = HostTensor::of(DType::kI8, {4}, {0, 1, -2, 5});
  ir::Attrs attrs = ir::Attrs().set("pads", std::vector<int64_t>{1, 0, 0, 2});
  const ir::Node& conv = node(OpKind::kConvInteger, {x, w, xz, wz}, attrs);
  const ir::Shape& ys = conv.outputs[0]->type.shape;
  ASSERT_EQ(ys, (ir::Shape{1, 4, 6, 7}));
  std::vector<double> want;
  for (int64_t o = 0; o < 4; ++o)
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < 7; ++j) {
        int64_t s = 0;
        for (int64_t c = 0; c < 3; ++c)
          for (int64_t kh = 0; kh < 2; ++kh)
            for (int64_t kw = 0; kw < 3; ++kw) {
              int64_t ih = i + kh - 1, iw = j + kw;
              if (ih < 0 || ih >= 6 || iw >= 7) continue;
              s += (static_cast<int64_t>(x.get((c * 6 + ih) * 7 + iw)) - 3) *
                   (static_cast<int64_t>(w.get(((o * 3 + c) * 2 + kh) * 3 + kw)) - static_cast<int64_t>(wz.get(o)));
            }
        want.push_back(static_cast<double>(s));
      }
  check_node_with(conv, {x, w, xz, wz}, want, 0, all_option_sets());
}

}  // namespace
}  // namespace kiln::ops::testing
