// The cache-blocked level-3 GEMM (ops/gemm_blocking.cpp, ops/gemm_tiler.cpp)
// through MatMul and the 1x1 Conv, at the AVX2, AVX-512 and NEON tile shapes:
// the plans chosen for BERT and ResNet shapes; K blocks (K not a multiple of
// the block), M tails and M blocks, N tails, batches, row strides of 4 KiB,
// tile-packed 1x1 Conv weights, and fused epilogues applied once after the
// last K block.
// Also the row kernels of Softmax and LayerNorm (ops/row_reduce.cpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "lower_harness.h"
#include "ops/conv_params.h"
#include "ops/gemm_blocking.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"
#include "passes/pack_weights.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;
using kir::Expr;

HostTensor from_tensor(const ir::Tensor& t) {
  HostTensor h{t.type(), std::vector<uint8_t>(t.bytes(), t.bytes() + t.num_bytes())};
  h.bytes.resize(h.bytes.size() + 64);
  return h;
}

ir::Tensor to_tensor(const HostTensor& h) {
  return ir::Tensor(h.type, std::vector<uint8_t>(h.bytes.begin(), h.bytes.begin() + h.type.num_bytes()));
}

TEST(GemmPlanTest, BertShapesOnAvx512) {
  // Q/K/V and FFN-in (K = 768): one K block, all 128 rows in one M block
  // (A stays in L2), 13-row tiles, 8 work items of whole column panels.
  GemmPlan qkv = plan_gemm(128, 768, 768, 14, 32, 1);
  EXPECT_EQ(qkv.kblocks, 1);
  EXPECT_EQ(qkv.mr, 14);
  EXPECT_EQ(qkv.tiles, 10);
  EXPECT_EQ(qkv.tile_q, 12);
  EXPECT_EQ(qkv.tile_r, 8);  // 8 tiles of 13 rows, 2 of 12
  EXPECT_EQ(qkv.mblocks, 1);
  EXPECT_EQ(qkv.items(), 8);
  EXPECT_EQ(qkv.chunks * qkv.panels_per_chunk, 24);
  // FFN-out (K = 3072): K blocks of 768, full-height tiles (A's rows 12 KiB
  // apart share an L1 set, measured faster all the same); parked sums fit one
  // stack buffer.
  GemmPlan out = plan_gemm(128, 768, 3072, 14, 32, 1);
  EXPECT_EQ(out.kblocks, 4);
  EXPECT_EQ(out.kc, 768);
  EXPECT_EQ(out.mr, 14);
  EXPECT_EQ(out.tiles, 10);
  EXPECT_EQ(out.mblocks, 1);
  EXPECT_LE(out.block_rows() * out.panels_per_chunk * out.nr * 4, kGemmStackBytes);
  EXPECT_EQ(out.items() % 2, 0);  // two threads get equal work
  EXPECT_FALSE(out.rows_outer);
  // A K of 1024 stays whole, at the target's tile height.
  EXPECT_EQ(plan_gemm(64, 256, 1024, 14, 32, 1).mr, 14);
  EXPECT_EQ(plan_gemm(64, 256, 1024, 6, 16, 1).mr, 6);
  EXPECT_EQ(plan_gemm(64, 256, 1024, 14, 32, 1).kblocks, 1);
  // Attention: 12 heads share the threads; one item per head.
  EXPECT_EQ(plan_gemm(128, 128, 64, 14, 32, 12).items(), 1);
}

TEST(GemmPlanTest, OneByOneConvShapes) {
  // ResNet-50's 64 -> 256 at 56x56: K = 64 is short, so each row tile passes
  // over its chunk's panels (output planes written in long runs).
  GemmPlan expand = plan_gemm(256, 56 * 56, 64, 14, 32, 1);
  EXPECT_TRUE(expand.rows_outer);
  EXPECT_EQ(expand.items(), 8);
  // 2048 -> 512 at 7x7: K blocks.
  GemmPlan reduce = plan_gemm(512, 49, 2048, 14, 32, 1);
  EXPECT_EQ(reduce.kblocks, 3);
  EXPECT_EQ(reduce.kc, 688);
  EXPECT_EQ(reduce.mr, 14);
  EXPECT_FALSE(reduce.rows_outer);
  // Large A (512 x 1024 floats, 2 MiB): M blocks keep each A block within L2.
  GemmPlan big = plan_gemm(512, 512, 1024, 14, 32, 1);
  EXPECT_GT(big.mblocks, 1);
  EXPECT_LE(big.block_rows() * big.kc * 4, kGemmL2Bytes);
}

// K blocks whose B micro-panel fits in L1 (plan_l1_k_blocks): a K of at
// least 4 such blocks is split into them, with no more panels per chunk than
// the parked sums' stack buffer holds; a shorter K and row-outer plans stay.
TEST(GemmPlanTest, L1KBlocks) {
  constexpr int64_t kL1 = 32 * 1024;
  // ResNet-50's 1024->512 at 14x14 (8-row tiles), 2048->512 at 7x7, AVX2's 16-lane panels.
  for (auto [m, n, k, mr, nr, kc] : std::vector<std::array<int64_t, 6>>{
           {196, 512, 1024, 8, 32, 256}, {49, 512, 2048, 8, 32, 256}, {196, 512, 2048, 6, 16, 512}}) {
    GemmPlan g = plan_gemm(m, n, k, mr, nr, 1);
    int64_t items = g.items();
    plan_l1_k_blocks(g, k, kL1);
    EXPECT_EQ(g.kc, kc);
    EXPECT_EQ(g.kblocks, k / kc);
    EXPECT_GE(g.chunks * g.panels_per_chunk, g.panels);
    EXPECT_GE(g.items(), items);
    EXPECT_LE(g.block_rows() * g.panels_per_chunk * g.nr * 4, kGemmStackBytes);
  }
  GemmPlan short_k = plan_gemm(196, 1024, 512, 14, 32, 1);
  plan_l1_k_blocks(short_k, 512, kL1);
  EXPECT_EQ(short_k.kblocks, 1);
  GemmPlan rows = plan_gemm(3136, 256, 1024, 14, 32, 1);
  rows.rows_outer = true;
  plan_l1_k_blocks(rows, 1024, kL1);
  EXPECT_EQ(rows.kblocks, 1);
}

// The next-panel B prefetch (GemmPlan::prefetch_start): every row tile's
// run of `len` steps stays inside the next panel's K block (len x nr
// elements), and the tiles of an M block of several tiles cover all of it.
TEST(GemmPlanTest, PrefetchStaysInTheNextPanel) {
  struct Case {
    int64_t m, n, k, mr, nr;
  };
  // BERT's FFN (one M block; K blocks of 768), M blocks (512^3), tails and a
  // short last K block (1544 = 520 + 520 + 504), AVX2 and NEON tiles.
  for (const Case& c : std::vector<Case>{{128, 3072, 768, 14, 32}, {128, 768, 3072, 14, 32}, {512, 512, 512, 14, 32},
                                         {9, 24, 1544, 14, 32}, {33, 70, 70, 6, 16}, {40, 36, 300, 9, 12}}) {
    GemmPlan g = plan_gemm(c.m, c.n, c.k, c.mr, c.nr, 1);
    SCOPED_TRACE("M, K, N = " + std::to_string(c.m) + ", " + std::to_string(c.k) + ", " + std::to_string(c.n));
    int64_t line = std::min<int64_t>(16, g.nr), per_row = g.nr / line;
    auto first_row = [&](int64_t t) { return t * g.tile_q + std::min(t, g.tile_r); };
    for (int64_t b = 0; b < g.mblocks; ++b) {
      Expr first = g.block_tile(Expr(b)), next = g.block_tile(Expr(b + 1));
      const int64_t *t0 = kir::as_const_int(first), *t1 = kir::as_const_int(next);
      ASSERT_TRUE(t0 && t1);
      int64_t end = b + 1 == g.mblocks ? g.tiles : *t1;
      for (int64_t len : {g.kc, c.k - (g.kblocks - 1) * g.kc}) {
        std::vector<bool> seen(per_row * len, false);
        for (int64_t t = *t0; t < end; ++t) {
          Expr e = g.prefetch_start(Expr(first_row(t) - first_row(*t0)), Expr(len), line);
          const int64_t* start = kir::as_const_int(e);
          ASSERT_NE(start, nullptr);
          EXPECT_GE(*start, 0);
          EXPECT_LE((*start + len) * line, len * g.nr) << "tile " << t << " of block " << b;
          for (int64_t s = *start; s < *start + len && s < per_row * len; ++s) seen[s] = true;
        }
        if (end - *t0 >= per_row)
          EXPECT_EQ(std::count(seen.begin(), seen.end(), false), 0) << "block " << b << ", K block of " << len;
      }
    }
  }
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

class LowerGemmTest : public OneNodeTest {};

// K blocks (1560 = 520 x 3 or 1544 = 520 + 520 + 504: not a multiple of the
// block), M tails (9 rows: tiles of 5 and 4), N tails (24 = 16 + 8 or
// 2 x 12), batches with and without a batched B, rows 4 KiB apart (K = 1024).
// Sums over K > 1500 terms differ from the double reference by ~1e-5.
TEST_F(LowerGemmTest, MatMulBlockedShapes) {
  struct Case {
    ir::Shape a, b;
  };
  std::vector<Case> cases = {
      {{9, 1544}, {1544, 24}},       // K blocks, M and N tails
      {{2, 5, 1560}, {1560, 21}},    // batched A, shared B, K blocks
      {{2, 3, 1560}, {2, 1560, 19}}, // batched A and B (B not packed), K blocks
      {{10, 1024}, {1024, 19}},      // one K block, rows 4 KiB apart
      {{33, 70}, {70, 70}},          // several tiles and chunks, no K blocks
  };
  uint32_t seed = 900;
  for (const Case& c : cases) {
    HostTensor a = HostTensor::random(DType::kF32, c.a, seed++);
    HostTensor b = HostTensor::random(DType::kF32, c.b, seed++);
    int64_t m = c.a[c.a.size() - 2], k = c.a.back(), n = c.b.back();
    int64_t batches = a.type.num_elements() / (m * k);
    bool b_batched = c.b.size() > 2;
    std::vector<double> want = matmul_ref(a, b, batches, m, k, n, b_batched);
    double tol = k > 1000 ? 1e-4 : 1e-5;
    SCOPED_TRACE("matmul " + a.type.str() + " x " + b.type.str());
    const ir::Node& plain = node(OpKind::kMatMul, {a, b});
    check_node_with(plain, {a, b}, want, tol, level3_option_sets());
    if (b_batched) continue;
    // Packed B at the AVX-512 tile (the plain runs cover the other shapes).
    KernelOptions opts = level3_option_sets()[1];
    int64_t nr = register_tile(opts).nr;
    HostTensor pb = from_tensor(pack_matmul_weight(to_tensor(b), nr));
    Attrs attrs;
    set_packed_weight(attrs, matmul_layout_name(nr), b.type.shape);
    const ir::Node& packed = node(OpKind::kMatMul, {a, pb}, attrs);
    check_node_with(packed, {a, pb}, want, tol, {opts});
  }
}

// MatMul + bias + residual + Relu with K blocks: the epilogue runs once, on
// the finished sums, after the last K block (not on partial sums).
TEST(LowerGemmFusedTest, EpilogueAfterTheLastKBlock) {
  const int64_t m = 9, k = 1560, n = 40;
  HostTensor a = HostTensor::random(DType::kF32, {1, m, k}, 71);
  HostTensor w = HostTensor::random(DType::kF32, {k, n}, 72);
  HostTensor bias = HostTensor::random(DType::kF32, {n}, 73);
  HostTensor res = HostTensor::random(DType::kF32, {1, m, n}, 74);
  std::vector<double> want = matmul_ref(a, w, 1, m, k, n, false);
  for (int64_t i = 0; i < m * n; ++i) want[i] = std::max(0.0, want[i] + bias.get(i % n) + res.get(i));
  int run = 0;
  for (const KernelOptions& opts : level3_option_sets()) {
    ir::Graph g;
    ir::Value* av = g.add_input("a", a.type);
    ir::Value* rv = g.add_input("r", res.type);
    auto y = g.add(OpKind::kMatMul, "mm", {av, g.add_constant("w", to_tensor(w))});
    ASSERT_TRUE(y.has_value()) << y.status().message();
    auto biased = g.add(OpKind::kAdd, "bias", {*y, g.add_constant("b", to_tensor(bias))});
    ASSERT_TRUE(biased.has_value());
    auto sum = g.add(OpKind::kAdd, "residual", {*biased, rv});
    ASSERT_TRUE(sum.has_value());
    auto relu = g.add(OpKind::kRelu, "relu", {*sum});
    ASSERT_TRUE(relu.has_value());
    g.add_output("out", *relu);
    passes::pack_weights(g, opts);
    ASSERT_TRUE(packed_weight(*(*y)->producer).has_value());
    std::string text;
    std::vector<double> got = run_group(g, *relu, {{av, a}, {rv, res}}, opts, "gemm_fused_" + std::to_string(run++),
                                        "MatMul+Add+Add+Relu", &text);
    EXPECT_NE(text.find("c_part"), std::string::npos) << "no K blocks:\n" << text;
    // Packed B: each tile prefetches the next panel's rows.
    EXPECT_NE(text.find("prefetch("), std::string::npos) << text;
    expect_close(got, want, 1e-4, "lanes " + std::to_string(opts.f32_lanes));
  }
}

std::vector<double> conv1x1_ref(const HostTensor& x, const HostTensor& w, const HostTensor* b, int64_t group,
                                int64_t stride_h, int64_t stride_w = 1) {
  const ir::Shape& xs = x.type.shape;
  int64_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3], m = w.type.shape[0], cg = c / group, mg = m / group;
  int64_t oh = (h - 1) / stride_h + 1, ow = (wd - 1) / stride_w + 1;
  std::vector<double> y(n * m * oh * ow);
  for (int64_t bi = 0; bi < n; ++bi)
    for (int64_t oc = 0; oc < m; ++oc)
      for (int64_t r = 0; r < oh; ++r)
        for (int64_t col = 0; col < ow; ++col) {
          double acc = b ? b->get(oc) : 0;
          for (int64_t ic = 0; ic < cg; ++ic)
            acc += w.get(oc * cg + ic) *
                   x.get(((bi * c + (oc / mg) * cg + ic) * h + r * stride_h) * wd + col * stride_w);
          y[((bi * m + oc) * oh + r) * ow + col] = acc;
        }
  return y;
}

// 1x1 convs as GEMMs over the whole plane of positions (63 = 32 + 16 + 8 + 4
// + 2 + 1 at 16 lanes), with groups, batches, a long K (K blocks), a row
// stride (one GEMM per output row) and column strides (the plane one row,
// B's panels gathered into the local buffer).
TEST_F(LowerGemmTest, OneByOneConvs) {
  struct Case {
    int64_t n, c, h, w, m, group, stride_h, stride_w = 1;
  };
  std::vector<Case> cases = {
      {1, 5, 7, 9, 23, 1, 1},         // plane of 63 positions, M tails, short K (rows outer)
      {2, 6, 4, 10, 8, 2, 1},         // batch and groups
      {1, 1560, 3, 6, 9, 1, 1},       // K blocks
      {1, 8, 9, 20, 12, 1, 2},        // row stride: per-row GEMMs
      {1, 512, 7, 7, 48, 1, 1},       // 49 positions, long K: transposed (AVX2, AVX-512)
      {1, 1024, 7, 7, 64, 2, 1},      // the same with groups
      {2, 24, 15, 21, 40, 1, 2, 2},   // column stride: 88 positions, gathered panels, odd sizes
      {1, 12, 10, 23, 30, 2, 1, 3},   // column stride alone, groups
      {1, 1560, 6, 13, 20, 1, 2, 2},  // column stride with K blocks
      {1, 512, 13, 14, 48, 1, 2, 2},  // 7x7 output positions, long K: transposed, strided inputs
  };
  uint32_t seed = 1000;
  for (const Case& c : cases) {
    HostTensor x = HostTensor::random(DType::kF32, {c.n, c.c, c.h, c.w}, seed++);
    HostTensor w = HostTensor::random(DType::kF32, {c.m, c.c / c.group, 1, 1}, seed++);
    HostTensor b = HostTensor::random(DType::kF32, {c.m}, seed++);
    Attrs attrs = Attrs().set("strides", Ints{c.stride_h, c.stride_w}).set("group", c.group);
    const ir::Node& conv = node(OpKind::kConv, {x, w, b}, attrs);
    SCOPED_TRACE("conv " + x.type.str() + " * " + w.type.str() + " -> " + conv.outputs[0]->type.str());
    std::vector<double> want = conv1x1_ref(x, w, &b, c.group, c.stride_h, c.stride_w);
    double tol = c.c > 1000 ? 1e-4 : 1e-5;
    check_node_with(conv, {x, w, b}, want, tol, level3_option_sets());
    // Packed weights as passes/pack_weights packs them: tile by tile at each
    // target's tile height, or in output-channel blocks for the transposed GEMM.
    Expected<ConvParams> p = conv_params(conv);
    ASSERT_TRUE(p.has_value());
    for (const KernelOptions& opts : level3_option_sets()) {
      RegisterTile tile = register_tile(opts);
      bool transposed = conv_1x1_transposed(*p, opts);
      EXPECT_EQ(transposed, p->oh * p->ow == 49 && opts.f32_lanes > 4) << opts.f32_lanes << " lanes";
      HostTensor pw = from_tensor(transposed ? pack_conv_weight(to_tensor(w), c.group, tile.nr)
                                             : pack_gemm_rows(to_tensor(w), c.group, tile.mr));
      Attrs packed_attrs = attrs;
      set_packed_weight(packed_attrs, transposed ? conv_layout_name(tile.nr) : gemm_rows_layout_name(tile.mr),
                        w.type.shape);
      const ir::Node& packed = node(OpKind::kConv, {x, pw, b}, packed_attrs);
      check_node_with(packed, {x, pw, b}, want, tol, {opts});
    }
  }
}

// A fused epilogue that reads an input broadcast along W only ([1, C, H, 1])
// must see each position's own row: the plane is then not run as one row.
TEST(LowerGemmFusedTest, OneByOneConvEpilogueBroadcastAlongRows) {
  const int64_t c = 6, h = 5, wd = 9, m = 10;
  HostTensor x = HostTensor::random(DType::kF32, {1, c, h, wd}, 81);
  HostTensor w = HostTensor::random(DType::kF32, {m, c, 1, 1}, 82);
  for (bool per_row : {false, true}) {
    HostTensor add = HostTensor::random(DType::kF32, per_row ? ir::Shape{1, m, h, 1} : ir::Shape{1, m, h, wd}, 83);
    std::vector<double> want = conv1x1_ref(x, w, nullptr, 1, 1);
    for (int64_t i = 0; i < static_cast<int64_t>(want.size()); ++i) {
      std::vector<int64_t> idx = unflatten(i, {1, m, h, wd});
      want[i] = std::max(0.0, want[i] + add.get(flatten_bcast(idx, add.type.shape)));
    }
    int run = 0;
    for (const KernelOptions& opts : level3_option_sets()) {
      ir::Graph g;
      ir::Value* xv = g.add_input("x", x.type);
      ir::Value* av = g.add_input("a", add.type);
      auto y = g.add(OpKind::kConv, "conv", {xv, g.add_constant("w", to_tensor(w))});
      ASSERT_TRUE(y.has_value()) << y.status().message();
      auto sum = g.add(OpKind::kAdd, "add", {*y, av});
      ASSERT_TRUE(sum.has_value());
      auto relu = g.add(OpKind::kRelu, "relu", {*sum});
      ASSERT_TRUE(relu.has_value());
      g.add_output("out", *relu);
      passes::pack_weights(g, opts);
      std::string name = std::string("conv1x1_fused_") + (per_row ? "rows_" : "plane_") + std::to_string(run++);
      std::string text;
      std::vector<double> got = run_group(g, *relu, {{xv, x}, {av, add}}, opts, name, "Conv+Add+Relu", &text);
      // One GEMM per output row: a loop over the 5 rows.
      EXPECT_EQ(text.find("oh, 0, 5") != std::string::npos, per_row) << text;
      expect_close(got, want, 1e-5, name);
    }
  }
}

std::vector<double> softmax_rows_ref(const HostTensor& x, bool log) {
  int64_t len = x.type.shape.back(), rows = x.type.num_elements() / len;
  std::vector<double> y(x.type.num_elements());
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < len; ++j) mx = std::max(mx, x.get(r * len + j));
    for (int64_t j = 0; j < len; ++j) sum += std::exp(x.get(r * len + j) - mx);
    for (int64_t j = 0; j < len; ++j) {
      double v = x.get(r * len + j) - mx;
      y[r * len + j] = log ? v - std::log(sum) : std::exp(v) / sum;
    }
  }
  return y;
}

// Rows along the last axis: whole vectors plus a tail (37 = 2 x 16 + 5 or
// 4 x 8 + 5), values large enough to need the max shift, and rows with -inf.
TEST_F(LowerGemmTest, SoftmaxRows) {
  HostTensor x = HostTensor::random(DType::kF32, {3, 4, 37}, 51, -40, 40);
  x.set(5, -INFINITY);
  for (bool log : {false, true}) {
    const ir::Node& n = node(log ? OpKind::kLogSoftmax : OpKind::kSoftmax, {x}, Attrs().set("axis", int64_t{2}));
    SCOPED_TRACE(n.label());
    KernelOptions l2, l3_512;
    l2.level = 2;
    l3_512.level = 3, l3_512.f32_lanes = 16, l3_512.vector_registers = 32;
    check_node_with(n, {x}, softmax_rows_ref(x, log), 1e-5, {l2, l3_512});
    // Vectors along the row (contiguous), not across rows (stride 37).
    std::string text = kir::to_string(kir::vectorize_loops(lower_node(n, l3_512)));
    EXPECT_NE(text.find(", 1, 16)"), std::string::npos) << text;
    EXPECT_EQ(text.find(", 37, 16)"), std::string::npos) << text;
  }
}

std::vector<double> layer_norm_ref(const HostTensor& x, const HostTensor& s, const HostTensor* b, double eps) {
  int64_t len = x.type.shape.back(), rows = x.type.num_elements() / len;
  std::vector<double> y(x.type.num_elements());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < len; ++j) mean += x.get(r * len + j);
    mean /= len;
    for (int64_t j = 0; j < len; ++j) var += (x.get(r * len + j) - mean) * (x.get(r * len + j) - mean);
    var /= len;
    for (int64_t j = 0; j < len; ++j)
      y[r * len + j] = (x.get(r * len + j) - mean) / std::sqrt(var + eps) * s.get(j) + (b ? b->get(j) : 0);
  }
  return y;
}

TEST_F(LowerGemmTest, LayerNorm) {
  for (DType dt : {DType::kF32, DType::kF64}) {
    HostTensor x = HostTensor::random(dt, {2, 3, 37}, 61, -3, 5);
    HostTensor s = HostTensor::random(dt, {37}, 62);
    HostTensor b = HostTensor::random(dt, {37}, 63);
    const ir::Node& with_bias = node(OpKind::kLayerNorm, {x, s, b}, Attrs().set("epsilon", 1e-3));
    check_node(with_bias, {x, s, b}, layer_norm_ref(x, s, &b, 1e-3), 1e-5);
    const ir::Node& no_bias = node(OpKind::kLayerNorm, {x, s}, Attrs().set("epsilon", 1e-5));
    check_node(no_bias, {x, s}, layer_norm_ref(x, s, nullptr, 1e-5), 1e-5);
  }
  // A row shorter than a vector, and a single row.
  HostTensor x = HostTensor::random(DType::kF32, {5, 3}, 64);
  HostTensor s = HostTensor::random(DType::kF32, {3}, 65);
  check_node(node(OpKind::kLayerNorm, {x, s}), {x, s}, layer_norm_ref(x, s, nullptr, 1e-5), 1e-5);
  HostTensor one = HostTensor::random(DType::kF32, {40}, 66);
  HostTensor s40 = HostTensor::random(DType::kF32, {40}, 67);
  check_node(node(OpKind::kLayerNorm, {one, s40}), {one, s40}, layer_norm_ref(one, s40, nullptr, 1e-5), 1e-5);
}

TEST_F(LowerGemmTest, LayerNormTypeErrors) {
  HostTensor x = HostTensor::random(DType::kF32, {2, 8}, 1);
  HostTensor bad = HostTensor::random(DType::kF32, {4}, 2);
  std::vector<ir::Value*> vs = {g_.add_input("x", x.type), g_.add_input("s", bad.type)};
  auto n = g_.add_node(OpKind::kLayerNorm, "ln", vs);
  ASSERT_FALSE(n.has_value());
  EXPECT_NE(n.status().message().find("LayerNorm scale float32[4] must be float32[8]"), std::string::npos)
      << n.status().message();
}

}  // namespace
}  // namespace kiln::ops::testing
