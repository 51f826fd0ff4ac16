// The NHWC kernels of layout="NHWC" nodes (--layout NHWC): Conv (tiled,
// whole-image tiles, groups, depthwise; 1x1 as GEMMs, with fused epilogues),
// MaxPool/AveragePool
// and ConvTranspose, at the AVX2, AVX-512 and NEON tile shapes, with
// pre-packed and plain weights, against naive NCHW references whose inputs
// and outputs are transposed to NHWC.
#include "conv_reference.h"
#include "lower_harness.h"
#include "ops/layout.h"
#include "ops/weight_layout.h"
#include "passes/pack_weights.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

// NCHW values of `shape` reordered as NHWC.
std::vector<double> nchw_to_nhwc(const std::vector<double>& v, const ir::Shape& s) {
  std::vector<double> out(v.size());
  int64_t n = s[0], c = s[1], h = s[2], w = s[3];
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) out[((in * h + y) * w + x) * c + ic] = v[((in * c + ic) * h + y) * w + x];
  return out;
}

HostTensor to_nhwc(const HostTensor& t) {
  const ir::Shape& s = t.type.shape;
  return HostTensor::of(t.type.dtype, {s[0], s[2], s[3], s[1]}, nchw_to_nhwc(t.values(), s));
}

HostTensor from_tensor(const ir::Tensor& t) {
  HostTensor h{t.type(), std::vector<uint8_t>(t.bytes(), t.bytes() + t.num_bytes())};
  h.bytes.resize(h.bytes.size() + 64);
  return h;
}

ir::Tensor to_tensor(const HostTensor& h) {
  return ir::Tensor(h.type, std::vector<uint8_t>(h.bytes.begin(), h.bytes.begin() + h.type.num_bytes()));
}

Attrs nhwc(Attrs a) { return a.set(kLayoutAttr, std::string(kChannelsLast)); }

class LowerNhwcTest : public OneNodeTest {
 protected:
  // Each case with plain weights (read as gathers) at the AVX2 shape, and with
  // weights packed as pack_weights packs them for every level-3 tile shape.
  void check_conv(const ConvCase& c, uint32_t seed) {
    HostTensor x = HostTensor::random(DType::kF32, {c.n, c.c, c.h, c.w}, seed);
    HostTensor w = HostTensor::random(DType::kF32, {c.m, c.c / c.group, c.kh, c.kw}, seed + 1);
    HostTensor b = HostTensor::random(DType::kF32, {c.m}, seed + 2);
    ir::Shape out = conv_out_shape(c);
    std::vector<double> want = conv_ref(c, x, w, c.bias ? &b : nullptr, out);
    want = nchw_to_nhwc(want, out);
    Attrs attrs =
        nhwc(Attrs().set("strides", c.strides).set("pads", c.pads).set("dilations", c.dilations).set("group", c.group));
    std::vector<HostTensor> ins = {to_nhwc(x), w};
    if (c.bias) ins.push_back(b);
    const ir::Node& plain = node(OpKind::kConv, ins, attrs);
    SCOPED_TRACE("NHWC conv " + ins[0].type.str() + " * " + w.type.str() + " group " + std::to_string(c.group) +
                 " -> " + plain.outputs[0]->type.str());
    EXPECT_EQ(plain.outputs[0]->type.shape, (ir::Shape{out[0], out[2], out[3], out[1]}));
    check_node_with(plain, ins, want, conv_tolerance(c), {level3_option_sets()[0]});
    bool depthwise = c.c / c.group == 1 && c.m == c.group;
    for (const KernelOptions& opts : level3_option_sets()) {
      int64_t block = depthwise ? opts.f32_lanes : register_tile(opts).nr;
      std::vector<HostTensor> pins = ins;
      pins[1] = from_tensor(pack_conv_weight(to_tensor(w), depthwise ? 1 : c.group, block));
      Attrs pattrs = attrs;
      set_packed_weight(pattrs, depthwise ? depthwise_layout_name(block) : conv_layout_name(block), w.type.shape);
      const ir::Node& packed = node(OpKind::kConv, pins, pattrs);
      check_node_with(packed, pins, want, conv_tolerance(c), {opts});
    }
  }
};

TEST_F(LowerNhwcTest, Conv) {
  std::vector<ConvCase> cases = {
      {1, 3, 9, 11, 20, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},     // stem-like: few channels, channel tail
      {2, 5, 4, 37, 17, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, false},    // batch, wide rows (interior loops)
      {2, 4, 9, 21, 6, 3, 3, 1, {2, 2}, {1, 0, 2, 1}, {1, 1}, true},      // strides, asymmetric pads
      {1, 2, 12, 20, 8, 3, 2, 1, {1, 1}, {2, 2, 2, 2}, {2, 3}, true},     // dilations
      {1, 6, 8, 19, 16, 3, 3, 2, {1, 2}, {1, 1, 1, 1}, {1, 1}, true},     // groups (8 channels each)
      {1, 4, 7, 7, 8, 3, 3, 4, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},       // channel multiplier 2
      {1, 6, 6, 7, 9, 1, 1, 3, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},       // grouped 1x1 (flat, 3 channels each)
      {1, 5, 7, 17, 23, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},     // flat 1x1: chunks + tail, channel tails
      {2, 9, 15, 7, 40, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, false},    // flat 1x1: full chunks + tail, batch
      {1, 7, 1, 200, 5, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},     // flat 1x1 on a single row
      {1, 7, 130, 1, 5, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},     // flat 1x1 on a single column
      {2, 9, 9, 9, 33, 1, 1, 1, {2, 2}, {0, 0, 0, 0}, {1, 1}, false},     // strided 1x1
      {1, 3, 15, 15, 12, 7, 7, 1, {2, 2}, {3, 3, 3, 3}, {1, 1}, true},    // 7x7 stem
      {1, 8, 10, 26, 8, 3, 3, 8, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},     // depthwise
      {2, 21, 7, 45, 21, 3, 3, 21, {2, 2}, {1, 1, 1, 1}, {1, 1}, false},  // depthwise, strided, channel tail pieces
      {1, 3, 11, 40, 3, 5, 3, 3, {1, 3}, {2, 0, 1, 2}, {1, 2}, true},     // depthwise 5x3, stride 3, dilated, odd pads
      {1, 40, 4, 3, 40, 3, 3, 40, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},    // depthwise, image smaller than a tile
      // 1x1 GEMMs (ops/conv_nhwc_1x1.cpp): positions flat over images and rows.
      {1, 12, 11, 13, 37, 1, 1, 1, {2, 3}, {0, 0, 0, 0}, {1, 1}, true},   // unequal strides, odd sizes
      {2, 8, 7, 9, 12, 1, 1, 2, {2, 2}, {0, 0, 0, 0}, {1, 1}, true},      // strided groups, batch
      {2, 7, 9, 1, 5, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, false},      // one column: positions along H
      {3, 16, 1, 1, 20, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},     // 1x1 images: positions along N
      {1, 1560, 3, 5, 20, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},   // K blocks
      {1, 8, 40, 40, 96, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},    // output beyond L2: whole rows
      {1, 200, 7, 7, 300, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, false},  // panels beyond L1: panel-outer
  };
  for (const ConvCase& c : direct_conv_edge_cases()) cases.push_back(c);
  uint32_t seed = 900;
  for (const ConvCase& c : cases) {
    check_conv(c, seed);
    seed += 3;
  }
}

// A 1x1 NHWC conv's fused epilogue: a residual of the output's shape is
// indexed by flat position; inputs broadcast along some position dimensions
// ([N, 1, 1, M] per image, [1, H, W, 1] per position) by (image, row, column).
// An input, output and residual bigger than L2 (kGemmL2Bytes) are prefetched
// a row tile ahead (GemmOperands::prefetch_a, prefetch_c); a long K is cut in
// blocks whose B micro-panels fit in L1 (plan_l1_k_blocks).
TEST(LowerNhwcFusedTest, OneByOneConvEpilogue) {
  struct Case {
    ir::Shape x;  // NCHW
    int64_t m, stride;
    ir::Shape add;  // NHWC, broadcast against the output
    bool prefetched = false;
  };
  std::vector<Case> cases = {
      {{2, 6, 5, 9}, 20, 1, {2, 5, 9, 20}},  // residual: flat
      {{2, 6, 5, 9}, 20, 1, {2, 1, 1, 20}},  // per image
      {{2, 6, 5, 9}, 20, 1, {1, 5, 9, 1}},   // per position of one image
      {{1, 10, 9, 7}, 33, 2, {1, 5, 4, 33}}, // strided, residual
      {{1, 64, 48, 48}, 64, 1, {1, 48, 48, 64}, true},  // 576 KiB each
      {{1, 1024, 3, 5}, 40, 1, {1, 3, 5, 40}},           // K blocks that fit in L1 (AVX-512, 256)
  };
  int run = 0;
  for (const Case& c : cases) {
    int64_t oh = (c.x[2] - 1) / c.stride + 1, ow = (c.x[3] - 1) / c.stride + 1;
    HostTensor x = HostTensor::random(DType::kF32, c.x, 91);
    HostTensor w = HostTensor::random(DType::kF32, {c.m, c.x[1], 1, 1}, 92);
    HostTensor b = HostTensor::random(DType::kF32, {c.m}, 93);
    HostTensor add = HostTensor::random(DType::kF32, c.add, 94);
    ConvCase cc{c.x[0], c.x[1], c.x[2], c.x[3], c.m, 1, 1, 1, {c.stride, c.stride}, {0, 0, 0, 0}, {1, 1}, true};
    ir::Shape out = {c.x[0], c.m, oh, ow};
    std::vector<double> want = nchw_to_nhwc(conv_ref(cc, x, w, &b, out), out);
    ir::Shape nhwc_out = {c.x[0], oh, ow, c.m};
    for (int64_t i = 0; i < static_cast<int64_t>(want.size()); ++i)
      want[i] = std::max(0.0, want[i] + add.get(flatten_bcast(unflatten(i, nhwc_out), c.add)));
    for (const KernelOptions& opts : level3_option_sets()) {
      ir::Graph g;
      HostTensor xt = to_nhwc(x);
      ir::Value* xv = g.add_input("x", xt.type);
      ir::Value* av = g.add_input("a", add.type);
      Attrs attrs = nhwc(Attrs().set("strides", Ints{c.stride, c.stride}));
      auto y = g.add(OpKind::kConv, "conv", {xv, g.add_constant("w", to_tensor(w)), g.add_constant("b", to_tensor(b))},
                     attrs);
      ASSERT_TRUE(y.has_value()) << y.status().message();
      auto sum = g.add(OpKind::kAdd, "add", {*y, av});
      ASSERT_TRUE(sum.has_value()) << sum.status().message();
      auto relu = g.add(OpKind::kRelu, "relu", {*sum});
      ASSERT_TRUE(relu.has_value());
      g.add_output("out", *relu);
      passes::pack_weights(g, opts);
      ASSERT_TRUE(packed_weight(*(*y)->producer).has_value());
      std::string name = "nhwc_1x1_fused_" + std::to_string(run++);
      std::string text;
      std::vector<double> got = run_group(g, *relu, {{xv, xt}, {av, add}}, opts, name, "Conv+Add+Relu", &text);
      // fp32 sums of K products against double ones.
      expect_close(got, want, 1e-5 * std::max<int64_t>(1, c.x[1] / 64), name + " add " + ir::shape_str(c.add));
      // K blocks where B's micro-panel (K x nr) is at least 4 x 32 KiB.
      bool k_blocked = c.x[1] * register_tile(opts).nr * 4 >= 4 * 32 * 1024;
      EXPECT_EQ(text.find("c_part") != std::string::npos, k_blocked) << text;
      for (const char* buffer : {"x", "a", "relu"})
        EXPECT_EQ(text.find(std::string("prefetch(") + buffer + "[") != std::string::npos, c.prefetched)
            << buffer << "\n" << text;
    }
  }
}

TEST_F(LowerNhwcTest, ConvShapesAndSchedule) {
  HostTensor x = HostTensor::random(DType::kF32, {1, 16, 16, 32}, 1);  // NHWC: 16x16 image, 32 channels
  HostTensor w = HostTensor::random(DType::kF32, {24, 32, 3, 3}, 2);
  const ir::Node& n = node(OpKind::kConv, {x, w}, nhwc(Attrs().set("pads", Ints{1, 1, 1, 1}).set("strides", Ints{2, 2})));
  EXPECT_EQ(n.outputs[0]->type.shape, (ir::Shape{1, 8, 8, 24}));
  kir::Func f = lower_node(n, level3_option_sets()[0]);
  EXPECT_EQ(count_loops(f.body, kir::ForKind::kParallel), 1) << kir::to_string(f);
  std::string text = kir::to_string(kir::vectorize_loops(f));
  EXPECT_NE(text.find("acc.v"), std::string::npos) << text;
  // A channel mismatch names both tensors.
  std::vector<ir::Value*> in = {g_.add_input("bad_x", x.type), g_.add_input("bad_w", {DType::kF32, {24, 16, 3, 3}})};
  auto bad = g_.add_node(OpKind::kConv, "bad", in, nhwc(Attrs()));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.status().message().find("has 32 channels"), std::string::npos) << bad.status().message();
}

struct PoolCase {
  OpKind op;
  ir::Shape x;  // NCHW
  Ints kernel, strides, pads, dilations;
  bool ceil_mode, count_include_pad;
};

std::vector<double> pool_ref(const PoolCase& p, const HostTensor& x, const ir::Shape& out) {
  const ir::Shape& s = p.x;
  std::vector<double> y;
  for (int64_t n = 0; n < out[0]; ++n)
    for (int64_t c = 0; c < out[1]; ++c)
      for (int64_t r = 0; r < out[2]; ++r)
        for (int64_t q = 0; q < out[3]; ++q) {
          bool max = p.op == OpKind::kMaxPool;
          double acc = max ? -1e300 : 0;
          int64_t count = 0;
          for (int64_t kh = 0; kh < p.kernel[0]; ++kh)
            for (int64_t kw = 0; kw < p.kernel[1]; ++kw) {
              int64_t ih = r * p.strides[0] - p.pads[0] + kh * p.dilations[0];
              int64_t iw = q * p.strides[1] - p.pads[1] + kw * p.dilations[1];
              bool inside = ih >= 0 && ih < s[2] && iw >= 0 && iw < s[3];
              bool counted = ih < s[2] + p.pads[2] && iw < s[3] + p.pads[3];
              if (p.count_include_pad ? counted : inside) ++count;
              if (!inside) continue;
              double v = x.get(((n * s[1] + c) * s[2] + ih) * s[3] + iw);
              acc = max ? std::max(acc, v) : acc + v;
            }
          y.push_back(max ? acc : count ? acc / count : 0);
        }
  return y;
}

TEST_F(LowerNhwcTest, Pools) {
  std::vector<PoolCase> cases = {
      {OpKind::kMaxPool, {1, 19, 9, 9}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false, false},   // ResNet stem pool
      {OpKind::kMaxPool, {2, 8, 8, 7}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, true, false},     // ceil_mode
      {OpKind::kMaxPool, {1, 5, 9, 8}, {2, 3}, {1, 2}, {1, 0, 0, 2}, {2, 2}, false, false},    // dilations
      {OpKind::kAveragePool, {1, 17, 8, 8}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, false, false},
      {OpKind::kAveragePool, {1, 12, 7, 9}, {3, 2}, {2, 2}, {1, 0, 1, 1}, {1, 1}, true, true},  // padded count, ceil
      {OpKind::kAveragePool, {2, 3, 6, 6}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, false, true},
  };
  uint32_t seed = 40;
  for (const PoolCase& c : cases) {
    HostTensor x = HostTensor::random(DType::kF32, c.x, seed++);
    Attrs a = nhwc(Attrs().set("kernel", c.kernel).set("strides", c.strides).set("pads", c.pads)
                       .set("dilations", c.dilations).set("ceil_mode", int64_t{c.ceil_mode})
                       .set("count_include_pad", int64_t{c.count_include_pad}));
    HostTensor xt = to_nhwc(x);
    const ir::Node& n = node(c.op, {xt}, a);
    const ir::Shape& o = n.outputs[0]->type.shape;  // NHWC
    ir::Shape out = {o[0], o[3], o[1], o[2]};
    SCOPED_TRACE(std::string(ir::op_name(c.op)) + " " + xt.type.str() + " -> " + n.outputs[0]->type.str());
    EXPECT_EQ(o[3], c.x[1]);
    check_node_with(n, {xt}, nchw_to_nhwc(pool_ref(c, x, out), out), 1e-5, level3_option_sets());
  }
}

struct ConvTCase {
  ir::Shape x, w;  // NCHW input, [C, M/group, kh, kw]
  int64_t group;
  Ints strides, pads, dilations, out_pad;
  bool bias;
};

std::vector<double> conv_transpose_ref(const ConvTCase& c, const HostTensor& x, const HostTensor& w,
                                       const HostTensor* b, const ir::Shape& out) {
  int64_t cg = c.x[1] / c.group, mg = c.w[1];
  std::vector<double> y(out[0] * out[1] * out[2] * out[3], 0.0);
  for (int64_t n = 0; n < c.x[0]; ++n)
    for (int64_t ic = 0; ic < c.x[1]; ++ic)
      for (int64_t ih = 0; ih < c.x[2]; ++ih)
        for (int64_t iw = 0; iw < c.x[3]; ++iw)
          for (int64_t mi = 0; mi < mg; ++mi)
            for (int64_t kh = 0; kh < c.w[2]; ++kh)
              for (int64_t kw = 0; kw < c.w[3]; ++kw) {
                int64_t oh = ih * c.strides[0] - c.pads[0] + kh * c.dilations[0];
                int64_t ow = iw * c.strides[1] - c.pads[1] + kw * c.dilations[1];
                if (oh < 0 || oh >= out[2] || ow < 0 || ow >= out[3]) continue;
                int64_t m = ic / cg * mg + mi;
                y[((n * out[1] + m) * out[2] + oh) * out[3] + ow] +=
                    x.get(((n * c.x[1] + ic) * c.x[2] + ih) * c.x[3] + iw) *
                    w.get(((ic * mg + mi) * c.w[2] + kh) * c.w[3] + kw);
              }
  if (b)
    for (size_t i = 0; i < y.size(); ++i) y[i] += b->get(static_cast<int64_t>(i) / (out[2] * out[3]) % out[1]);
  return y;
}

TEST_F(LowerNhwcTest, ConvTranspose) {
  std::vector<ConvTCase> cases = {
      {{1, 6, 4, 4}, {6, 5, 2, 2}, 1, {2, 2}, {0, 0, 0, 0}, {1, 1}, {0, 0}, true},     // U-Net up-step
      {{2, 3, 4, 5}, {3, 2, 3, 3}, 1, {3, 2}, {1, 2, 1, 0}, {1, 1}, {1, 1}, true},     // pads, output_padding
      {{1, 4, 5, 4}, {4, 3, 2, 3}, 2, {2, 2}, {0, 1, 1, 0}, {2, 1}, {0, 1}, true},     // groups, dilations
      {{1, 3, 3, 7}, {3, 37, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, {0, 0}, false},   // stride 1, channel tail
  };
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const ConvTCase& c = cases[ci];
    HostTensor x = HostTensor::random(DType::kF32, c.x, 160 + static_cast<uint32_t>(ci));
    HostTensor w = HostTensor::random(DType::kF32, c.w, 170 + static_cast<uint32_t>(ci));
    HostTensor b = HostTensor::random(DType::kF32, {c.w[1] * c.group}, 180 + static_cast<uint32_t>(ci));
    Attrs a = nhwc(Attrs().set("strides", c.strides).set("pads", c.pads).set("dilations", c.dilations)
                       .set("output_padding", c.out_pad).set("group", c.group));
    std::vector<HostTensor> ins = {to_nhwc(x), w};
    if (c.bias) ins.push_back(b);
    const ir::Node& n = node(OpKind::kConvTranspose, ins, a);
    const ir::Shape& o = n.outputs[0]->type.shape;
    ir::Shape out = {o[0], o[3], o[1], o[2]};
    SCOPED_TRACE("case " + std::to_string(ci) + " -> " + n.outputs[0]->type.str());
    std::vector<double> want = nchw_to_nhwc(conv_transpose_ref(c, x, w, c.bias ? &b : nullptr, out), out);
    check_node_with(n, ins, want, 1e-4, {level3_option_sets()[0]});
    for (const KernelOptions& opts : level3_option_sets()) {
      int64_t nr = register_tile(opts).nr;
      std::vector<HostTensor> pins = ins;
      pins[1] = from_tensor(pack_conv_transpose_weight(to_tensor(w), c.group, nr));
      Attrs pa = a;
      set_packed_weight(pa, conv_layout_name(nr), w.type.shape);
      const ir::Node& packed = node(OpKind::kConvTranspose, pins, pa);
      check_node_with(packed, pins, want, 1e-4, {opts});
    }
  }
}

}  // namespace
}  // namespace kiln::ops::testing
