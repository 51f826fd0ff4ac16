// pack_weights: which constant weights get packed at which kernel level, and
// that packed nodes still type-check with their logical shapes.
#include <gtest/gtest.h>

#include "graph_util.h"
#include "ir/graph.h"
#include "ops/weight_layout.h"
#include "passes/pack_weights.h"

namespace kiln::passes {
namespace {

using kiln::DType;
using ir::Attrs;
using ir::Graph;
using ir::OpKind;
using ir::Tensor;
using ir::Value;
using Ints = std::vector<int64_t>;

using testing::must;

Tensor iota(const ir::Shape& shape) {
  return testing::f32_tensor(shape, [](int64_t i) { return static_cast<float>(i); });
}

ops::KernelOptions avx2(int level) {
  ops::KernelOptions o;
  o.level = level;
  o.f32_lanes = 8;
  o.vector_registers = 16;
  return o;
}

// x -> conv3x3 (packed) -> depthwise (kept) -> conv1x1 wide rows (tile-packed) -> matmul with constant B (packed).
struct Net {
  Graph g;
  ir::Node *conv, *dw, *pw, *mm, *mm_var;
  Net() {
    Value* x = g.add_input("x", {DType::kF32, {1, 3, 8, 20}});
    Value* c = must(g.add(OpKind::kConv, "conv", {x, g.add_constant("w", iota({20, 3, 3, 3}))},
                          Attrs().set("pads", Ints{1, 1, 1, 1})));
    Value* d = must(g.add(OpKind::kConv, "dw", {c, g.add_constant("wd", iota({20, 1, 3, 3}))},
                          Attrs().set("pads", Ints{1, 1, 1, 1}).set("group", int64_t{20})));
    Value* p = must(g.add(OpKind::kConv, "pw", {d, g.add_constant("wp", iota({16, 20, 1, 1}))}));
    Value* r = must(g.add(OpKind::kReshape, "flat", {p}, Attrs().set("shape", Ints{16, 160})));
    Value* m = must(g.add(OpKind::kMatMul, "mm", {r, g.add_constant("b", iota({160, 37}))}));
    Value* b = g.add_input("b_var", {DType::kF32, {37, 5}});
    Value* mv = must(g.add(OpKind::kMatMul, "mm_var", {m, b}));
    g.add_output("y", mv);
    conv = c->producer, dw = d->producer, pw = p->producer, mm = m->producer, mm_var = mv->producer;
  }
};

TEST(PackWeights, PacksTiledConvAndMatMulWeightsAtLevel3) {
  Net net;
  pack_weights(net.g, avx2(3));
  ASSERT_TRUE(net.g.verify().is_ok()) << net.g.verify().message();

  auto conv = ops::packed_weight(*net.conv);
  ASSERT_TRUE(conv.has_value());
  EXPECT_EQ(conv->layout, "ohwi16o");
  EXPECT_EQ(conv->logical, (ir::Shape{20, 3, 3, 3}));
  EXPECT_EQ(net.conv->inputs[1]->type.shape, (ir::Shape{2, 3, 3, 3, 16}));
  EXPECT_EQ(net.conv->outputs[0]->type.shape, (ir::Shape{1, 20, 8, 20}));
  // Element (oc 17, ic 2, kh 1, kw 0) sits in block 1, lane 1.
  EXPECT_EQ(net.conv->inputs[1]->constant->data<float>()[((1 * 3 + 1) * 3 + 0) * 3 * 16 + 2 * 16 + 1],
            static_cast<float>(((17 * 3 + 2) * 3 + 1) * 3 + 0));

  auto mm = ops::packed_weight(*net.mm);
  ASSERT_TRUE(mm.has_value());
  EXPECT_EQ(mm->layout, "kn16n");
  EXPECT_EQ(net.mm->inputs[1]->type.shape, (ir::Shape{3, 160, 16}));
  EXPECT_EQ(net.mm->outputs[0]->type.shape, (ir::Shape{16, 37}));

  // The wide-row 1x1 conv's weights are its GEMM's A, tile by tile: 16 rows
  // in AVX2 tiles of 6, 5 and 5 rows, each stored k-major.
  auto pw = ops::packed_weight(*net.pw);
  ASSERT_TRUE(pw.has_value());
  EXPECT_EQ(pw->layout, "rowtile6");
  EXPECT_EQ(net.pw->inputs[1]->type.shape, (ir::Shape{320}));
  // Element (oc 7, ic 4): row 1 of the tile of 5 rows from row 6.
  EXPECT_EQ(net.pw->inputs[1]->constant->data<float>()[6 * 20 + 4 * 5 + 1], static_cast<float>(7 * 20 + 4));

  // Depthwise kernels read plain OIHW weights; a non-constant B stays as it is.
  EXPECT_FALSE(ops::packed_weight(*net.dw).has_value());
  EXPECT_FALSE(ops::packed_weight(*net.mm_var).has_value());
  EXPECT_EQ(net.mm_var->inputs[1]->name, "b_var");
}

TEST(PackWeights, BlockFollowsTheTargetAndLevel2IsUntouched) {
  Net wide;
  ops::KernelOptions avx512 = avx2(3);
  avx512.f32_lanes = 16;
  avx512.vector_registers = 32;
  pack_weights(wide.g, avx512);
  EXPECT_EQ(ops::packed_weight(*wide.conv)->layout, "ohwi32o");
  EXPECT_EQ(wide.conv->inputs[1]->type.shape, (ir::Shape{1, 3, 3, 3, 32}));

  Net plain;
  pack_weights(plain.g, avx2(2));
  for (ir::Node* n : {plain.conv, plain.dw, plain.pw, plain.mm}) EXPECT_FALSE(n->attrs.has("packed")) << n->name;
  EXPECT_EQ(plain.conv->inputs[1]->type.shape, (ir::Shape{20, 3, 3, 3}));
}

}  // namespace
}  // namespace kiln::passes
