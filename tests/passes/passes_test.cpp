// Graph passes: before/after checks on built graphs.
#include <gtest/gtest.h>

#include "graph_util.h"
#include "ir/graph.h"
#include "passes/dead_code.h"
#include "passes/fold_scale_into_conv.h"
#include "passes/fuse_elementwise.h"
#include "passes/materialize_outputs.h"
#include "passes/plan_memory.h"

namespace kiln::passes {
namespace {

using kiln::DType;
using ir::Graph;
using ir::OpKind;
using ir::Tensor;
using ir::Value;

using testing::must;

TEST(DeadCode, RemovesUnusedChains) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {4}});
  Value* live = must(g.add(OpKind::kRelu, "live", {x}));
  Value* dead = must(g.add(OpKind::kExp, "dead", {x}));
  must(g.add(OpKind::kNeg, "dead2", {dead}));
  g.add_output("y", live);
  eliminate_dead_code(g);
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0]->name, "live");
}

TEST(FoldScaleIntoConv, FoldsMulAndAdd) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1, 1, 3, 3}});
  Value* w = g.add_constant("w", Tensor::from_f32({2, 1, 1, 1}, {1.f, 2.f}));
  ir::Attrs attrs;
  attrs.set("strides", std::vector<int64_t>{1, 1}).set("pads", std::vector<int64_t>{0, 0, 0, 0});
  attrs.set("dilations", std::vector<int64_t>{1, 1}).set("group", int64_t{1});
  Value* y = must(g.add(OpKind::kConv, "conv", {x, w}, attrs));
  Value* s = g.add_constant("s", Tensor::from_f32({2, 1, 1}, {3.f, 4.f}));
  Value* t = g.add_constant("t", Tensor::from_f32({1, 2, 1, 1}, {0.5f, -1.f}));
  Value* m = must(g.add(OpKind::kMul, "bn_mul", {y, s}));
  Value* a = must(g.add(OpKind::kAdd, "bn_add", {t, m}));
  g.add_output("out", a);
  fold_scale_into_conv(g);
  ASSERT_EQ(g.nodes().size(), 1u);
  ir::Node* conv = g.nodes()[0].get();
  EXPECT_EQ(conv->op, OpKind::kConv);
  ASSERT_EQ(conv->inputs.size(), 3u);
  const float* nw = conv->inputs[1]->constant->data<float>();
  EXPECT_FLOAT_EQ(nw[0], 3.f);
  EXPECT_FLOAT_EQ(nw[1], 8.f);
  const float* nb = conv->inputs[2]->constant->data<float>();
  EXPECT_FLOAT_EQ(nb[0], 0.5f);
  EXPECT_FLOAT_EQ(nb[1], -1.f);
  EXPECT_EQ(g.outputs()[0].value, y);
}

TEST(FoldScaleIntoConv, LeavesSpatiallyVaryingScale) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1, 1, 2, 2}});
  Value* w = g.add_constant("w", Tensor::from_f32({1, 1, 1, 1}, {1.f}));
  ir::Attrs attrs;
  attrs.set("strides", std::vector<int64_t>{1, 1}).set("pads", std::vector<int64_t>{0, 0, 0, 0});
  attrs.set("dilations", std::vector<int64_t>{1, 1}).set("group", int64_t{1});
  Value* y = must(g.add(OpKind::kConv, "conv", {x, w}, attrs));
  Value* s = g.add_constant("s", Tensor::from_f32({2, 2}, {1, 2, 3, 4}));
  g.add_output("out", must(g.add(OpKind::kMul, "mul", {y, s})));
  fold_scale_into_conv(g);
  EXPECT_EQ(g.nodes().size(), 2u);
}

// MatMul+bias -> relu -> {sigmoid(relu), relu + sigmoid(relu)}: relu has two users.
struct DiamondGraph {
  Graph g;
  Value* relu = nullptr;
  Value* sum = nullptr;
  DiamondGraph() {
    Value* x = g.add_input("x", {DType::kF32, {2, 8}});
    Value* w = g.add_constant("w", Tensor(ir::TensorType{DType::kF32, {8, 8}}));
    Value* b = g.add_constant("b", Tensor(ir::TensorType{DType::kF32, {8}}));
    Value* mm = must(g.add(OpKind::kMatMul, "mm", {x, w}));
    Value* add = must(g.add(OpKind::kAdd, "bias", {mm, b}));
    relu = must(g.add(OpKind::kRelu, "relu", {add}));
    Value* side = must(g.add(OpKind::kSigmoid, "side", {relu}));
    sum = must(g.add(OpKind::kAdd, "sum", {relu, side}));
    g.add_output("y", sum);
  }
};

TEST(Fusion, DiamondsJoinTheGroup) {
  DiamondGraph d;
  auto groups = fuse_elementwise(d.g);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(lower::describe_group(groups[0]), "MatMul+Add+Relu+Sigmoid+Add");
  EXPECT_EQ(groups[0].result(), d.sum);
}

TEST(Fusion, ErfGeluFusesIntoItsMatMul) {
  // x * (1 + erf(x / sqrt2)) * 0.5, x = MatMul + bias (the exported nn.GELU).
  Graph g;
  Value* in = g.add_input("in", {DType::kF32, {4, 8}});
  Value* w = g.add_constant("w", Tensor(ir::TensorType{DType::kF32, {8, 16}}));
  Value* b = g.add_constant("b", Tensor(ir::TensorType{DType::kF32, {16}}));
  Value* sqrt2 = g.add_constant("sqrt2", Tensor::from_f32({}, {1.41421356f}));
  Value* one = g.add_constant("one", Tensor::from_f32({}, {1.0f}));
  Value* half = g.add_constant("half", Tensor::from_f32({}, {0.5f}));
  Value* x = must(g.add(OpKind::kAdd, "bias", {must(g.add(OpKind::kMatMul, "mm", {in, w})), b}));
  Value* erf = must(g.add(OpKind::kErf, "erf", {must(g.add(OpKind::kDiv, "div", {x, sqrt2}))}));
  Value* y = must(g.add(OpKind::kMul, "mul", {x, must(g.add(OpKind::kAdd, "one_plus", {erf, one}))}));
  g.add_output("y", must(g.add(OpKind::kMul, "half", {y, half})));
  auto groups = fuse_elementwise(g);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(lower::describe_group(groups[0]), "MatMul+Add+Div+Erf+Add+Mul+Mul");
}

TEST(Fusion, ADiamondsMiddleValueThatIsAGraphOutputIsStored) {
  DiamondGraph d;
  d.g.add_output("r", d.relu);
  auto groups = fuse_elementwise(d.g);
  // relu must be written: its group ends there, and sigmoid's group reads it.
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(lower::describe_group(groups[0]), "MatMul+Add+Relu");
  EXPECT_EQ(lower::describe_group(groups[1]), "Sigmoid+Add");
}

TEST(Fusion, ADiamondsMiddleValueWithAnOutsideUserIsStored) {
  DiamondGraph d;
  Value* w2 = d.g.add_constant("w2", Tensor(ir::TensorType{DType::kF32, {8, 8}}));
  d.g.add_output("z", must(d.g.add(OpKind::kMatMul, "mm2", {d.relu, w2})));
  auto groups = fuse_elementwise(d.g);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(lower::describe_group(groups[0]), "MatMul+Add+Relu");
  EXPECT_EQ(lower::describe_group(groups[1]), "Sigmoid+Add");
  EXPECT_EQ(lower::describe_group(groups[2]), "MatMul");
}

TEST(Fusion, ANodeReadingAValueComputedAfterTheGroupDoesNotJoinIt) {
  // s = sigmoid(x); y = s + matmul(relu(s), w): the Add reads s and a value
  // computed from s outside the group, so it runs after that MatMul.
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {2, 8}});
  Value* w = g.add_constant("w", Tensor(ir::TensorType{DType::kF32, {8, 8}}));
  Value* s = must(g.add(OpKind::kSigmoid, "s", {x}));
  Value* r = must(g.add(OpKind::kRelu, "r", {s}));
  Value* m = must(g.add(OpKind::kMatMul, "m", {r, w}));
  Value* y = must(g.add(OpKind::kAdd, "y", {s, m}));
  g.add_output("y", y);
  auto groups = fuse_elementwise(g);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(lower::describe_group(groups[0]), "Sigmoid");
  EXPECT_EQ(lower::describe_group(groups[1]), "Relu");
  EXPECT_EQ(lower::describe_group(groups[2]), "MatMul+Add");
  EXPECT_EQ(groups[2].result(), y);
}

TEST(Fusion, DequantizedSideInputsJoinTheirUsersGroup) {
  // exp(x) -> Q -> DQ (a chain) + DQ(q) (a side input) -> Q; and DQ(q) twice into one Mul.
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {2, 8}});
  Value* q = g.add_input("q", {DType::kU8, {2, 8}});
  Value* s = g.add_constant("s", Tensor::from_f32({}, {0.5f}));
  Tensor zt(ir::TensorType{DType::kU8, {}});
  Value* z = g.add_constant("z", zt);
  ir::Attrs to;
  to.set("to", static_cast<int64_t>(DType::kF32));
  Value* e = must(g.add(OpKind::kExp, "exp", {x}));
  Value* eq = must(g.add(OpKind::kQuantizeLinear, "q_exp", {e, s, z}));
  Value* side = must(g.add(OpKind::kDequantizeLinear, "dq_q", {q, s, z}, to));
  Value* ef = must(g.add(OpKind::kDequantizeLinear, "dq_exp", {eq, s, z}, to));
  Value* sum = must(g.add(OpKind::kAdd, "sum", {ef, side}));
  g.add_output("y", must(g.add(OpKind::kQuantizeLinear, "q_sum", {sum, s, z})));
  Value* twice = must(g.add(OpKind::kDequantizeLinear, "dq_twice", {q, s, z}, to));
  g.add_output("sq", must(g.add(OpKind::kMul, "square", {twice, twice})));
  auto groups = fuse_elementwise(g);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(lower::describe_group(groups[0]),
            "Exp+QuantizeLinear+DequantizeLinear+DequantizeLinear+Add+QuantizeLinear");
  EXPECT_EQ(groups[0].nodes[3]->name, "dq_q");
  EXPECT_EQ(lower::describe_group(groups[1]), "DequantizeLinear+Mul");
}

TEST(MemoryPlan, ReusesDeadBuffersAndAliasesReshape) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1024}});
  Value* a = must(g.add(OpKind::kExp, "a", {x}));
  Value* b = must(g.add(OpKind::kLog, "b", {a}));   // a dies here
  Value* c = must(g.add(OpKind::kTanh, "c", {b}));  // b dies here: c may reuse a's space
  ir::Attrs shape;
  shape.set("shape", std::vector<int64_t>{32, 32});
  Value* r = must(g.add(OpKind::kReshape, "r", {c}, shape));
  Value* d = must(g.add(OpKind::kTranspose, "d", {r}, ir::Attrs().set("perm", std::vector<int64_t>{1, 0})));
  g.add_output("y", d);
  ASSERT_TRUE(materialize_outputs(g).is_ok());
  // Unfused groups so that every value is stored.
  std::vector<lower::FusedGroup> groups;
  for (const auto& n : g.nodes())
    if (n->op != OpKind::kReshape) groups.push_back({{n.get()}});
  MemoryPlan plan = plan_memory(g, groups);
  using K = codegen::KernelArg::Kind;
  EXPECT_EQ(plan.location.at(x).kind, K::kInput);
  EXPECT_EQ(plan.location.at(d).kind, K::kOutput);
  EXPECT_EQ(plan.location.at(r).value, plan.location.at(c).value);  // alias
  EXPECT_NE(plan.location.at(a).value, plan.location.at(b).value);   // live together
  EXPECT_EQ(plan.location.at(c).value, plan.location.at(a).value);   // reuse
  EXPECT_EQ(plan.arena_bytes, 2 * 4096);
}

TEST(MemoryPlan, EmptyConstantLiesInsideTheWeights) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {2}});
  Value* empty = g.add_constant("empty", Tensor(ir::TensorType{DType::kF32, {0}}));
  Value* c = must(g.add(OpKind::kConcat, "cat", {x, empty}, ir::Attrs().set("axis", int64_t{0})));
  g.add_output("y", c);
  ASSERT_TRUE(materialize_outputs(g).is_ok());
  MemoryPlan plan = plan_memory(g, {{{g.nodes()[0].get()}}});
  const codegen::KernelArg& loc = plan.location.at(empty);
  EXPECT_EQ(loc.kind, codegen::KernelArg::Kind::kWeights);
  EXPECT_LT(loc.value, static_cast<int64_t>(plan.weights.size()));
  EXPECT_EQ(plan.weights.size() % kBufferAlignment, 0u);
}

TEST(MaterializeOutputs, CopiesInputsAndDuplicates) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {4}});
  Value* r = must(g.add(OpKind::kRelu, "r", {x}));
  g.add_output("a", x);
  g.add_output("b", r);
  g.add_output("c", r);
  ASSERT_TRUE(materialize_outputs(g).is_ok());
  EXPECT_EQ(g.outputs()[0].value->producer->op, OpKind::kIdentity);
  EXPECT_EQ(g.outputs()[1].value, r);
  EXPECT_EQ(g.outputs()[2].value->producer->op, OpKind::kIdentity);
}

}  // namespace
}  // namespace kiln::passes
