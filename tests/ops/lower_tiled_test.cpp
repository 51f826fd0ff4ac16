// Level-3 register-tiled Conv and MatMul (ops/conv_tiled.cpp, ops/matmul_tiled.cpp)
// at the AVX2, AVX-512 and NEON tile shapes, with plain and pre-packed weights,
// against naive C++ references: tails in every dimension, strides, pads,
// dilations, groups, 1x1 (both strategies), batches.
#include "conv_reference.h"
#include "lower_harness.h"
#include "ops/weight_layout.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

HostTensor from_tensor(const ir::Tensor& t) {
  HostTensor h{t.type(), std::vector<uint8_t>(t.bytes(), t.bytes() + t.num_bytes())};
  h.bytes.resize(h.bytes.size() + 64);
  return h;
}

ir::Tensor to_tensor(const HostTensor& h) {
  return ir::Tensor(h.type, std::vector<uint8_t>(h.bytes.begin(), h.bytes.begin() + h.type.num_bytes()));
}

class LowerTiledTest : public OneNodeTest {
 protected:
  // Runs `c` with weights packed for each level-3 tile shape (also at level 2,
  // which reads packed weights too), and with plain weights (non-constant
  // weights, read with gathers) at the AVX2 shape.
  void check_conv(const ConvCase& c, uint32_t seed) {
    HostTensor x = HostTensor::random(DType::kF32, {c.n, c.c, c.h, c.w}, seed);
    HostTensor w = HostTensor::random(DType::kF32, {c.m, c.c / c.group, c.kh, c.kw}, seed + 1);
    HostTensor b = HostTensor::random(DType::kF32, {c.m}, seed + 2);
    Attrs attrs = Attrs().set("strides", c.strides).set("pads", c.pads).set("dilations", c.dilations).set("group", c.group);
    std::vector<HostTensor> ins = {x, w};
    if (c.bias) ins.push_back(b);
    const ir::Node& plain = node(OpKind::kConv, ins, attrs);
    SCOPED_TRACE("conv " + x.type.str() + " * " + w.type.str() + " group " + std::to_string(c.group) + " -> " +
                 plain.outputs[0]->type.str());
    std::vector<double> want = conv_ref(c, x, w, c.bias ? &b : nullptr, plain.outputs[0]->type.shape);
    check_node_with(plain, ins, want, conv_tolerance(c), {level3_option_sets()[0]});
    for (const KernelOptions& opts : level3_option_sets()) {
      int64_t nr = register_tile(opts).nr;
      std::vector<HostTensor> pins = ins;
      pins[1] = from_tensor(pack_conv_weight(to_tensor(w), c.group, nr));
      Attrs pattrs = attrs;
      set_packed_weight(pattrs, conv_layout_name(nr), w.type.shape);
      const ir::Node& packed = node(OpKind::kConv, pins, pattrs);
      std::vector<KernelOptions> sets = {opts};
      if (opts.f32_lanes == 8) {  // level 2 reads packed weights too (once is enough)
        sets.push_back(opts);
        sets.back().level = 2;
      }
      check_node_with(packed, pins, want, conv_tolerance(c), sets);
    }
  }

  ir::Graph g_;
};

TEST_F(LowerTiledTest, Conv) {
  std::vector<ConvCase> cases = {
      {1, 3, 9, 11, 20, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},     // same padding, channel tail
      {2, 3, 4, 37, 17, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, false},    // batch, wide rows (interior loops)
      {2, 4, 9, 21, 6, 3, 3, 1, {2, 2}, {1, 0, 2, 1}, {1, 1}, true},      // strides, asymmetric pads
      {1, 2, 12, 20, 8, 3, 2, 1, {1, 1}, {2, 2, 2, 2}, {2, 3}, true},     // dilations
      {1, 6, 8, 19, 16, 3, 3, 2, {1, 2}, {1, 1, 1, 1}, {1, 1}, true},     // groups (8 channels each)
      {1, 8, 10, 26, 8, 3, 3, 8, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},     // depthwise
      {2, 5, 13, 45, 5, 3, 3, 5, {2, 2}, {1, 1, 1, 1}, {1, 1}, false},    // depthwise, strided, panels + tails
      {1, 3, 11, 40, 3, 5, 3, 3, {1, 3}, {2, 0, 1, 2}, {1, 2}, true},     // depthwise 5x3, stride 3, dilated, odd pads
      {1, 4, 7, 7, 8, 3, 3, 4, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},       // channel multiplier 2 (level-2 loops)
      {1, 5, 7, 17, 23, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},     // 1x1 as row GEMMs, tails
      {2, 6, 5, 40, 8, 1, 1, 2, {2, 1}, {0, 0, 0, 0}, {1, 1}, true},      // 1x1 row GEMMs: groups, row stride
      {1, 5, 9, 5, 23, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},      // 1x1, short rows: rows run together
      {2, 9, 9, 9, 33, 1, 1, 1, {2, 2}, {0, 0, 0, 0}, {1, 1}, false},     // strided 1x1
      {1, 3, 15, 15, 12, 7, 7, 1, {2, 2}, {3, 3, 3, 3}, {1, 1}, true},    // 7x7 stem
      {1, 8, 6, 6, 16, 1, 1, 1, {2, 2}, {0, 0, 0, 0}, {1, 1}, false},     // short rows, 1x1 stride 2
  };
  for (const ConvCase& c : direct_conv_edge_cases()) cases.push_back(c);
  uint32_t seed = 300;
  for (const ConvCase& c : cases) {
    check_conv(c, seed);
    seed += 3;
  }
}

TEST_F(LowerTiledTest, ConvLevel3IsTiledAndParallel) {
  HostTensor x = HostTensor::random(DType::kF32, {1, 16, 16, 32}, 1);
  HostTensor w = HostTensor::random(DType::kF32, {32, 16, 3, 3}, 2);
  const ir::Node& n = node(OpKind::kConv, {x, w}, Attrs().set("pads", Ints{1, 1, 1, 1}));
  kir::Func f = lower_node(n, level3_option_sets()[0]);
  EXPECT_EQ(count_loops(f.body, kir::ForKind::kParallel), 1) << kir::to_string(f);
  // Interior tiles run in a loop, border tiles once each: several vectorized loops per row.
  EXPECT_GE(count_loops(f.body, kir::ForKind::kVectorized), 3) << kir::to_string(f);
  // The tiled kernel's accumulators live inside its vectorized loops.
  std::string text = kir::to_string(kir::vectorize_loops(f));
  EXPECT_NE(text.find("acc.v"), std::string::npos) << text;
}

TEST_F(LowerTiledTest, Conv1x1PacksStridedInputPanels) {
  // NCHW 1x1 convs whose input (B, rows a plane apart) outgrows L2 copy each
  // column panel into a local buffer that the row tiles read. Big shapes, so
  // the JIT alone runs them: a narrow last panel (64 x 66 positions), and K
  // blocks (1600 channels; packed at the AVX2 shape's 16-wide panels).
  std::vector<ConvCase> cases = {
      {1, 64, 64, 66, 45, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},
      {1, 1600, 13, 13, 20, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, false},
  };
  uint32_t seed = 700;
  for (const ConvCase& c : cases) {
    HostTensor x = HostTensor::random(DType::kF32, {c.n, c.c, c.h, c.w}, seed++);
    HostTensor w = HostTensor::random(DType::kF32, {c.m, c.c, 1, 1}, seed++);
    HostTensor b = HostTensor::random(DType::kF32, {c.m}, seed++);
    std::vector<HostTensor> ins = {x, w};
    if (c.bias) ins.push_back(b);
    const ir::Node& n = node(OpKind::kConv, ins);
    std::vector<double> want = conv_ref(c, x, w, c.bias ? &b : nullptr, n.outputs[0]->type.shape);
    for (const KernelOptions& opts : level3_option_sets()) {
      SCOPED_TRACE("conv " + x.type.str() + " lanes " + std::to_string(opts.f32_lanes));
      std::string text = kir::to_string(lower_node(n, opts));
      if (c.c == 64 || opts.f32_lanes == 8) EXPECT_NE(text.find("b_pack"), std::string::npos) << text;
      std::vector<double> got = run_node(n, ins, opts, Runner::kJit);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-4 * std::max(1.0, std::fabs(want[i]))) << "element " << i;
    }
  }
  // Two row tiles are too few to pay for the copy.
  HostTensor x = HostTensor::random(DType::kF32, {1, 64, 64, 66}, 1);
  HostTensor w = HostTensor::random(DType::kF32, {2 * register_tile(level3_option_sets()[0]).mr, 64, 1, 1}, 2);
  std::string text = kir::to_string(lower_node(node(OpKind::kConv, {x, w}), level3_option_sets()[0]));
  EXPECT_EQ(text.find("b_pack"), std::string::npos) << text;
}

std::vector<double> matmul_ref(const HostTensor& a, const HostTensor& b, int64_t batches, int64_t m, int64_t k,
                               int64_t n, bool b_batched) {
  std::vector<double> y;
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          acc += a.get((bi * m + i) * k + kk) * b.get(((b_batched ? bi : 0) * k + kk) * n + j);
        y.push_back(acc);
      }
  return y;
}

TEST_F(LowerTiledTest, MatMul) {
  struct Case {
    ir::Shape a, b;
  };
  std::vector<Case> cases = {
      {{5, 7}, {7, 19}},          // tails in m and n
      {{29, 33}, {33, 70}},       // several tiles and panels
      {{2, 3, 13, 6}, {6, 40}},   // batched A, shared B
      {{3, 9, 5}, {3, 5, 21}},    // batched A and B
      {{64, 16}, {16, 64}},       // exact tiles at 16-wide panels
      {{1, 40}, {40, 70}},        // a row vector (batch-1 classifier): one-row tiles
      {{37}, {37, 45}},           // 1-D A
      {{1, 1600}, {1600, 20}},    // a row vector with K blocks
  };
  uint32_t seed = 500;
  for (const Case& c : cases) {
    HostTensor a = HostTensor::random(DType::kF32, c.a, seed++);
    HostTensor b = HostTensor::random(DType::kF32, c.b, seed++);
    int64_t m = c.a.size() > 1 ? c.a[c.a.size() - 2] : 1, k = c.a.back(), n = c.b.back();
    int64_t batches = a.type.num_elements() / (m * k);
    bool b_batched = c.b.size() > 2;
    std::vector<double> want = matmul_ref(a, b, batches, m, k, n, b_batched);
    const ir::Node& plain = node(OpKind::kMatMul, {a, b});
    SCOPED_TRACE("matmul " + a.type.str() + " x " + b.type.str());
    check_node_with(plain, {a, b}, want, 1e-5, level3_option_sets());
    if (b_batched) continue;
    for (const KernelOptions& opts : level3_option_sets()) {
      int64_t nr = register_tile(opts).nr;
      HostTensor pb = from_tensor(pack_matmul_weight(to_tensor(b), nr));
      Attrs attrs;
      set_packed_weight(attrs, matmul_layout_name(nr), b.type.shape);
      const ir::Node& packed = node(OpKind::kMatMul, {a, pb}, attrs);
      KernelOptions l2 = opts;
      l2.level = 2;
      check_node_with(packed, {a, pb}, want, 1e-5, {opts, l2});
    }
  }
}

TEST(RegisterTileTest, FitsTheRegisterFile) {
  KernelOptions avx2, avx512, neon;
  avx2.f32_lanes = 8, avx2.vector_registers = 16;
  avx512.f32_lanes = 16, avx512.vector_registers = 32;
  neon.f32_lanes = 4, neon.vector_registers = 32;
  EXPECT_EQ(register_tile(avx2).mr, 6);
  EXPECT_EQ(register_tile(avx2).nr, 16);
  EXPECT_EQ(register_tile(avx512).mr, 14);
  EXPECT_EQ(register_tile(avx512).nr, 32);
  EXPECT_EQ(register_tile(neon).mr, 9);
  EXPECT_EQ(register_tile(neon).nr, 12);
}

TEST(WeightLayoutTest, PackedConvAndMatMulIndexMatchPacking) {
  // Packing a tensor of its own element numbers puts element e where the index helpers say.
  std::vector<float> wv(20 * 3 * 2 * 2);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<float>(i);
  ir::Tensor w = ir::Tensor::from_f32({20, 3, 2, 2}, wv);
  ir::Tensor pw = pack_conv_weight(w, 2, 8);  // 10 channels per group: blocks of 8 + 2 (padded)
  EXPECT_EQ(pw.type().shape, (ir::Shape{4, 2, 2, 3, 8}));
  EXPECT_EQ(pw.type().shape, packed_conv_shape(w.type().shape, 2, 8));
  // oc 13 = group 1, r 3 -> block 2, lane 3; ic 2, kh 1, kw 0.
  EXPECT_EQ(pw.data<float>()[(((2 * 2 + 1) * 2 + 0) * 3 + 2) * 8 + 3], static_cast<float>(((13 * 3 + 2) * 2 + 1) * 2 + 0));
  // Padding lanes of the group-0 tail block are zero.
  EXPECT_EQ(pw.data<float>()[(((1 * 2 + 0) * 2 + 0) * 3 + 0) * 8 + 5], 0.f);

  std::vector<float> bv(5 * 19);
  for (size_t i = 0; i < bv.size(); ++i) bv[i] = static_cast<float>(i + 1);
  ir::Tensor pb = pack_matmul_weight(ir::Tensor::from_f32({5, 19}, bv), 8);
  EXPECT_EQ(pb.type().shape, (ir::Shape{3, 5, 8}));
  EXPECT_EQ(pb.data<float>()[(2 * 5 + 4) * 8 + 2], static_cast<float>(4 * 19 + 18 + 1));
  EXPECT_EQ(pb.data<float>()[(2 * 5 + 4) * 8 + 3], 0.f);
}

}  // namespace
}  // namespace kiln::ops::testing
