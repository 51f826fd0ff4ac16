// Level-4 Winograd F(2x2, 3x3) and F(4x4, 3x3) convolution (ops/winograd.cpp, ops/conv_winograd.cpp):
// the transform identity in exact arithmetic, the compile-time weight
// transform, and the lowered kernel against a direct double-precision conv
// at the AVX2, AVX-512 and NEON tile shapes (odd sizes, borders, pads,
// channel tails, batches, bias, NHWC) and with a fused residual-add + ReLU epilogue.
#include <cmath>
#include <random>

#include "lower/kernel_builder.h"
#include "lower_harness.h"
#include "ops/conv_params.h"
#include "ops/weight_layout.h"
#include "ops/winograd.h"
#include "passes/fuse_elementwise.h"
#include "passes/pack_weights.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

// Y = A^T [(G g) . (B^T d)] for one row, in double.
std::vector<double> winograd_1d(const WinogradTransform& t, const std::vector<double>& d, const std::vector<double>& g) {
  std::vector<double> prod(t.alpha);
  for (int p = 0; p < t.alpha; ++p) {
    double u = 0, v = 0;
    for (int k = 0; k < t.r; ++k) u += t.g_at(p, k) * g[k];
    for (int s = 0; s < t.alpha; ++s) v += t.bt_at(p, s) * d[s];
    prod[p] = u * v;
  }
  std::vector<double> y(t.m);
  for (int i = 0; i < t.m; ++i)
    for (int p = 0; p < t.alpha; ++p) y[i] += t.at_at(i, p) * prod[p];
  return y;
}

TEST(WinogradTransformTest, Is1DCorrelation) {
  for (int tile : {2, 4}) {
    const WinogradTransform& t = winograd_transform(tile);
    ASSERT_EQ(t.m, tile);
    ASSERT_EQ(t.alpha, tile + 2);
    std::mt19937 gen(7);
    std::uniform_real_distribution<double> dist(-1, 1);
    // Basis vectors (exactness of every coefficient) and random rows.
    int basis = t.alpha * t.r;
    for (int trial = 0; trial < basis + 20; ++trial) {
      std::vector<double> d(t.alpha), g(t.r);
      if (trial < basis) {
        d[trial / 3] = 1, g[trial % 3] = 1;
      } else {
        for (double& x : d) x = dist(gen);
        for (double& x : g) x = dist(gen);
      }
      std::vector<double> y = winograd_1d(t, d, g);
      for (int i = 0; i < t.m; ++i) {
        double want = d[i] * g[0] + d[i + 1] * g[1] + d[i + 2] * g[2];
        EXPECT_NEAR(y[i], want, 1e-14) << "F(" << tile << ") trial " << trial << " output " << i;
      }
    }
  }
}

TEST(WinogradTransformTest, PackedWeightsAreGgGtInPanels) {
  for (int tile : {2, 4}) {
    const WinogradTransform& t = winograd_transform(tile);
    int a = t.alpha;
    int64_t k_count = 5, c_count = 3, nr = 4;  // two panels, the second padded
    std::vector<float> wv(k_count * c_count * 9);
    std::mt19937 gen(3);
    std::uniform_real_distribution<float> dist(-1, 1);
    for (float& x : wv) x = dist(gen);
    ir::Tensor w = ir::Tensor::from_f32({k_count, c_count, 3, 3}, wv);
    ir::Tensor u = pack_winograd_weight(w, nr, t);
    ASSERT_EQ(u.type().shape, (ir::Shape{a * a, 2, c_count, nr}));
    PackedWeight pw{winograd_layout_name(nr, tile), nr, {k_count, c_count, 3, 3}};
    EXPECT_EQ(winograd_tile(pw), tile);
    EXPECT_EQ(packed_winograd_shape(pw), u.type().shape);
    const float* up = u.data<float>();
    for (int64_t k = 0; k < 2 * nr; ++k)
      for (int64_t c = 0; c < c_count; ++c)
        for (int i = 0; i < a; ++i)
          for (int j = 0; j < a; ++j) {
            double want = 0;
            if (k < k_count)
              for (int x = 0; x < 3; ++x)
                for (int y = 0; y < 3; ++y) want += t.g_at(i, x) * wv[((k * c_count + c) * 3 + x) * 3 + y] * t.g_at(j, y);
            float got = up[(((i * a + j) * 2 + k / nr) * c_count + c) * nr + k % nr];
            EXPECT_NEAR(got, want, 1e-6 * std::max(1.0, std::fabs(want)))
                << "F(" << tile << ") k " << k << " c " << c << " p " << i * a + j;
          }
  }
}

struct WinoCase {
  int64_t n, c, h, w, m;
  Ints pads;
  bool bias;
};

// Direct conv in double: x NCHW (or NHWC), w [m, c, 3, 3], stride 1.
std::vector<double> conv3x3_ref(const WinoCase& p, const HostTensor& x, const HostTensor& w, const HostTensor* b,
                                bool nhwc) {
  int64_t oh = p.h + p.pads[0] + p.pads[2] - 2, ow = p.w + p.pads[1] + p.pads[3] - 2;
  std::vector<double> y(p.n * p.m * oh * ow);
  auto xi = [&](int64_t n, int64_t c, int64_t h, int64_t ww) {
    return nhwc ? ((n * p.h + h) * p.w + ww) * p.c + c : ((n * p.c + c) * p.h + h) * p.w + ww;
  };
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t k = 0; k < p.m; ++k)
      for (int64_t r = 0; r < oh; ++r)
        for (int64_t s = 0; s < ow; ++s) {
          double acc = b ? b->get(k) : 0;
          for (int64_t c = 0; c < p.c; ++c)
            for (int64_t a = 0; a < 3; ++a)
              for (int64_t e = 0; e < 3; ++e) {
                int64_t ih = r - p.pads[0] + a, iw = s - p.pads[1] + e;
                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                acc += x.get(xi(n, c, ih, iw)) * w.get(((k * p.c + c) * 3 + a) * 3 + e);
              }
          y[nhwc ? ((n * oh + r) * ow + s) * p.m + k : ((n * p.m + k) * oh + r) * ow + s] = acc;
        }
  return y;
}

HostTensor from_tensor(const ir::Tensor& t) {
  HostTensor h{t.type(), std::vector<uint8_t>(t.bytes(), t.bytes() + t.num_bytes())};
  h.bytes.resize(h.bytes.size() + 64);
  return h;
}

ir::Tensor to_tensor(const HostTensor& h) {
  return ir::Tensor(h.type, std::vector<uint8_t>(h.bytes.begin(), h.bytes.begin() + h.type.num_bytes()));
}

std::vector<KernelOptions> level4_option_sets() {
  std::vector<KernelOptions> sets = level3_option_sets();
  for (KernelOptions& o : sets) o.level = 4;
  return sets;
}

class LowerWinogradTest : public OneNodeTest {
 protected:
  // Runs `c` with F(tile x tile, 3x3) weights for each level-4 register tile
  // shape (all three runners).
  void check(int tile, const WinoCase& c, uint32_t seed, bool nhwc = false, int64_t block = 0) {
    ir::Shape xs = nhwc ? ir::Shape{c.n, c.h, c.w, c.c} : ir::Shape{c.n, c.c, c.h, c.w};
    HostTensor x = HostTensor::random(DType::kF32, xs, seed);
    HostTensor w = HostTensor::random(DType::kF32, {c.m, c.c, 3, 3}, seed + 1);
    HostTensor b = HostTensor::random(DType::kF32, {c.m}, seed + 2);
    std::vector<double> want = conv3x3_ref(c, x, w, c.bias ? &b : nullptr, nhwc);
    for (const KernelOptions& opts : level4_option_sets()) {
      int64_t nr = register_tile(opts).nr;
      std::vector<HostTensor> ins = {x, from_tensor(pack_winograd_weight(to_tensor(w), nr, winograd_transform(tile)))};
      if (c.bias) ins.push_back(b);
      Attrs attrs = Attrs().set("pads", c.pads);
      if (nhwc) attrs.set("layout", std::string("NHWC"));
      if (block) attrs.set(kWinogradBlockAttr, block);
      set_packed_weight(attrs, winograd_layout_name(nr, tile), w.type.shape);
      const ir::Node& n = node(OpKind::kConv, ins, attrs);
      SCOPED_TRACE("winograd F(" + std::to_string(tile) + ") conv " + x.type.str() + " * " + w.type.str() + " -> " + n.outputs[0]->type.str() +
                   " lanes " + std::to_string(opts.f32_lanes));
      check_node_with(n, ins, want, 2e-5, {opts});
    }
  }
};

TEST_F(LowerWinogradTest, MatchesDirectConv) {
  std::vector<WinoCase> cases = {
      {1, 8, 8, 8, 16, {1, 1, 1, 1}, true},      // exact tiles, every tile touches the padding
      {1, 5, 11, 13, 7, {1, 1, 1, 1}, true},     // odd sizes: partial last tile row and column, channel tails
      {2, 9, 14, 10, 19, {1, 1, 1, 1}, false},   // batch, interior tiles, output channels past one panel
      {1, 4, 13, 17, 12, {0, 0, 0, 0}, true},    // no padding ("valid"): 11x15 output
      {1, 3, 9, 12, 33, {2, 0, 1, 2}, true},     // asymmetric pads
      {1, 6, 3, 5, 8, {1, 1, 1, 1}, true},       // image smaller than a tile
      {1, 17, 18, 18, 5, {1, 1, 1, 1}, true},    // more input channels than two AVX2 vectors plus a tail
  };
  for (int tile : {2, 4}) {
    uint32_t seed = 900;
    for (const WinoCase& c : cases) {
      check(tile, c, seed);
      seed += 3;
    }
  }
}

TEST_F(LowerWinogradTest, MatchesDirectConvInTileBlocks) {
  // F(4x4): 2 x 4 x 4 = 32 tiles in blocks of 14 (+ a last block of 4), and of 16 (no last block).
  check(4, {2, 5, 14, 13, 18, {1, 1, 1, 1}, true}, 940, false, 14);
  check(4, {2, 4, 16, 16, 8, {1, 1, 1, 1}, false}, 945, true, 16);
  // F(2x2): 2 x 7 x 7 = 98 tiles in blocks of 40 (+ 18), 2 x 8 x 8 = 128 in blocks of 16.
  check(2, {2, 5, 14, 13, 18, {1, 1, 1, 1}, true}, 940, false, 40);
  check(2, {2, 4, 16, 16, 8, {1, 1, 1, 1}, false}, 945, true, 16);
}

TEST_F(LowerWinogradTest, MatchesDirectConvNHWC) {
  for (int tile : {2, 4}) {
    check(tile, {1, 5, 11, 9, 13, {1, 1, 1, 1}, true}, 950, true);
    check(tile, {2, 16, 8, 12, 16, {1, 0, 2, 1}, false}, 960, true);
  }
}

TEST_F(LowerWinogradTest, ThreeParallelPhases) {
  KernelOptions opts = level4_option_sets()[0];
  HostTensor x = HostTensor::random(DType::kF32, {1, 32, 16, 16}, 1);
  HostTensor w = HostTensor::random(DType::kF32, {32, 32, 3, 3}, 2);
  int64_t nr = register_tile(opts).nr;
  Attrs attrs = Attrs().set("pads", Ints{1, 1, 1, 1});
  set_packed_weight(attrs, winograd_layout_name(nr, 4), w.type.shape);
  const ir::Node& n = node(OpKind::kConv, {x, from_tensor(pack_winograd_weight(to_tensor(w), nr, winograd_f4x4_3x3()))},
                           attrs);
  kir::Func f = lower_node(n, opts);
  // Input transform, batched GEMM, output transform: one fork-join each.
  EXPECT_EQ(count_loops(f.body, kir::ForKind::kParallel), 3) << kir::to_string(f);
  std::string text = kir::to_string(kir::vectorize_loops(f));
  EXPECT_NE(text.find("acc.v"), std::string::npos) << text;  // GEMM accumulators are vectors
}

TEST(WinogradRuleTest, WhichConvsUseWinograd) {
  ir::Graph g;
  auto conv = [&](int64_t c, int64_t m, int64_t hw, int64_t k, int64_t stride, int64_t group) -> ir::Node& {
    ir::Value* x = g.add_input("x" + std::to_string(g.inputs().size()), {DType::kF32, {1, c, hw, hw}});
    ir::Value* w = g.add_constant("w", ir::Tensor(ir::TensorType{DType::kF32, {m, c / group, k, k}}));
    auto n = g.add_node(OpKind::kConv, "conv", {x, w},
                        Attrs().set("pads", Ints{k / 2, k / 2, k / 2, k / 2}).set("strides", Ints{stride, stride})
                            .set("group", group));
    KILN_CHECK(n.has_value()) << n.status().message();
    return **n;
  };
  std::vector<KernelOptions> l4 = level4_option_sets();
  KernelOptions avx2 = l4[0], avx512 = l4[1], l3 = level3_option_sets()[1];
  auto tile = [&](const ir::Node& n, const KernelOptions& o) {
    Expected<ConvParams> p = conv_params(n);
    return p ? conv_winograd_tile(n, *p, o) : -1;
  };
  const ir::Node& resnet_stage1 = conv(64, 64, 56, 3, 1, 1);
  EXPECT_EQ(tile(resnet_stage1, avx512), 4);
  EXPECT_EQ(tile(resnet_stage1, l3), 0);                    // level 3 stays direct
  EXPECT_EQ(tile(conv(64, 64, 56, 3, 2, 1), avx512), 0);    // strided
  EXPECT_EQ(tile(conv(64, 64, 56, 1, 1, 1), avx512), 0);    // 1x1
  EXPECT_EQ(tile(conv(64, 64, 56, 3, 1, 2), avx512), 0);    // grouped
  // The cost model (winograd.cpp) on ResNet-50's 3x3 layers, at both x86 widths:
  // F(4x4) while U is read by enough tiles, F(2x2) where U at 36 points would
  // cost more to stream than its multiplies save (256 channels at 14x14).
  for (const KernelOptions& o : {avx2, avx512}) {
    SCOPED_TRACE(o.f32_lanes);
    EXPECT_EQ(tile(conv(128, 128, 28, 3, 1, 1), o), 4);
    EXPECT_EQ(tile(conv(256, 256, 14, 3, 1, 1), o), 2);
    EXPECT_EQ(tile(conv(512, 512, 4, 3, 1, 1), o), 0);      // one 4x4 tile: U costs more than it saves
    EXPECT_EQ(tile(conv(3, 64, 56, 3, 1, 1), o), 0);        // a network's first conv: the transforms cost more
    EXPECT_EQ(tile(conv(24, 32, 56, 3, 1, 1), o), 4);
  }
  // 512 at 7x7: even F(2x2)'s U costs more to stream than the 16-lane
  // multiplies it saves, not the 8-lane ones (measured 2.05 ms against 2.9).
  EXPECT_EQ(tile(conv(512, 512, 7, 3, 1, 1), avx512), 0);
  EXPECT_EQ(tile(conv(512, 512, 7, 3, 1, 1), avx2), 2);
  // 16 channels: in nr = 32 panels half the GEMM is padding (measured equal
  // to direct); in nr = 16 panels F(4x4) is 1.8x faster.
  EXPECT_EQ(tile(conv(16, 16, 56, 3, 1, 1), avx512), 0);
  EXPECT_EQ(tile(conv(16, 16, 56, 3, 1, 1), avx2), 4);
  // The schedule knob overrides the model.
  ir::Node& forced = conv(512, 512, 7, 3, 1, 1);
  forced.attrs.set(kWinogradTileAttr, int64_t{2});
  EXPECT_EQ(tile(forced, avx512), 2);
  forced.attrs.set(kWinogradTileAttr, int64_t{0});
  EXPECT_EQ(tile(resnet_stage1, avx512), 4);
  EXPECT_EQ(tile(forced, avx512), 0);
}

// The whole level-4 path through the graph, at both tiles (the schedule knob):
// pack_weights transforms the weights, fuse_elementwise puts Add (residual) +
// Relu after the conv, and the kernel builder's epilogue runs inside the
// output transform.
TEST(WinogradKernelTest, FusedResidualReluEpilogue) {
  WinoCase c{1, 32, 17, 13, 40, {1, 1, 1, 1}, true};  // 5 x 4 or 9 x 7 tiles, the last ones partial
  HostTensor x = HostTensor::random(DType::kF32, {c.n, c.c, c.h, c.w}, 11);
  HostTensor w = HostTensor::random(DType::kF32, {c.m, c.c, 3, 3}, 12);
  HostTensor b = HostTensor::random(DType::kF32, {c.m}, 13);
  HostTensor res = HostTensor::random(DType::kF32, {c.n, c.m, c.h, c.w}, 14);
  std::vector<double> conv = conv3x3_ref(c, x, w, &b, false);
  std::vector<double> want(conv.size());
  for (size_t i = 0; i < conv.size(); ++i) want[i] = std::max(0.0, conv[i] + res.get(i));

  for (int tile_size : {2, 4}) {
    for (const KernelOptions& opts : level4_option_sets()) {
      ir::Graph g;
      ir::Value* xv = g.add_input("x", x.type);
      ir::Value* rv = g.add_input("r", res.type);
      auto y = g.add(OpKind::kConv, "conv", {xv, g.add_constant("w", to_tensor(w)), g.add_constant("b", to_tensor(b))},
                     Attrs().set("pads", c.pads).set(kWinogradTileAttr, int64_t{tile_size}));
      ASSERT_TRUE(y.has_value()) << y.status().message();
      auto sum = g.add(OpKind::kAdd, "add", {*y, rv});
      ASSERT_TRUE(sum.has_value());
      auto relu = g.add(OpKind::kRelu, "relu", {*sum});
      ASSERT_TRUE(relu.has_value());
      g.add_output("out", *relu);
      passes::pack_weights(g, opts);
      const ir::Node* conv_node = (*y)->producer;
      std::optional<PackedWeight> pw = packed_weight(*conv_node);
      ASSERT_TRUE(pw.has_value());
      EXPECT_EQ(winograd_tile(*pw), tile_size) << pw->layout;
      EXPECT_EQ(pw->block, register_tile(opts).nr) << pw->layout;

      std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(g);
      ASSERT_EQ(groups.size(), 1u);
      EXPECT_EQ(lower::describe_group(groups[0]), "Conv+Add+Relu");
      Expected<lower::Kernel> k = lower::build_kernel(
          groups[0], "wino_fused_f" + std::to_string(tile_size) + "_" + std::to_string(opts.f32_lanes), opts);
      ASSERT_TRUE(k.has_value()) << k.status().message();
      kir::Func f = kir::vectorize_loops(k->func);

      std::map<const ir::Value*, HostTensor> data{{xv, x}, {rv, res}};
      for (const ir::Value* v : k->param_values)
        if (v->is_constant()) data.emplace(v, from_tensor(*v->constant));
      HostTensor out{(*relu)->type, std::vector<uint8_t>((*relu)->type.num_bytes() + 64, 0xEE)};
      std::vector<void*> args;
      for (const ir::Value* v : k->param_values) args.push_back(v == *relu ? out.bytes.data() : data.at(v).bytes.data());
      codegen::Jit* jit = shared_jit();
      ASSERT_NE(jit, nullptr);
      ASSERT_TRUE(jit->add(f).is_ok());
      ASSERT_TRUE(jit->run(f.name, args).is_ok());
      std::vector<double> got = out.values();
      int bad = 0;
      for (size_t i = 0; i < want.size() && bad < 5; ++i)
        if (std::fabs(got[i] - want[i]) > 2e-5 * std::max(1.0, std::fabs(want[i])))
          ++bad, ADD_FAILURE() << "F(" << tile_size << ") lanes " << opts.f32_lanes << " element " << i << ": "
                               << got[i] << ", want " << want[i];
    }
  }
}

}  // namespace
}  // namespace kiln::ops::testing
