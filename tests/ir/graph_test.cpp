// Graph IR: construction, type inference errors, editing, printing.
#include <gtest/gtest.h>

#include "ir/graph.h"

namespace kiln::ir {
namespace {

TEST(Graph, BuildsAndPrints) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {1, 4}});
  Value* w = g.add_constant("w", Tensor::from_f32({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
  auto y = g.add(OpKind::kMatMul, "mm", {x, w});
  ASSERT_TRUE(y) << y.status().message();
  EXPECT_EQ((*y)->type.shape, (Shape{1, 2}));
  auto r = g.add(OpKind::kRelu, "relu", {*y});
  ASSERT_TRUE(r);
  g.add_output("out", *r);
  EXPECT_TRUE(g.verify().is_ok());
  std::string s = g.str();
  EXPECT_NE(s.find("MatMul(%x, $w)"), std::string::npos) << s;
  EXPECT_NE(s.find("return out=%"), std::string::npos) << s;
}

TEST(Graph, TypeErrorNamesNode) {
  Graph g;
  Value* a = g.add_input("a", {DType::kF32, {2, 3}});
  Value* b = g.add_input("b", {DType::kF32, {4, 5}});
  auto y = g.add(OpKind::kAdd, "bad_add", {a, b});
  ASSERT_FALSE(y);
  EXPECT_NE(y.status().message().find("Add 'bad_add'"), std::string::npos) << y.status().message();
  EXPECT_EQ(y.status().exit_code(), 2);
}

TEST(Graph, ReplaceUsesKeepsOutputName) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {3}});
  auto a = g.add(OpKind::kRelu, "a", {x});
  auto b = g.add(OpKind::kNeg, "b", {*a});
  g.add_output("y", *b);
  g.replace_all_uses(*b, *a);
  EXPECT_EQ(g.outputs()[0].name, "y");
  EXPECT_EQ(g.outputs()[0].value, *a);
  EXPECT_EQ(g.users(*a).size(), 1u);
}

TEST(Graph, TopoSortRestoresOrder) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF32, {3}});
  auto a = g.add(OpKind::kRelu, "a", {x});
  auto b = g.add(OpKind::kNeg, "b", {x});
  // Rewire a to consume b: a now depends on a later node.
  (*a)->producer->inputs[0] = *b;
  g.add_output("y", *a);
  g.topo_sort();
  EXPECT_EQ(g.nodes()[0]->name, "b");
  EXPECT_TRUE(g.verify().is_ok());
}

TEST(Tensor, ConvertsElements) {
  Tensor t = Tensor::from_i64({3}, {-1, 5, 7});
  EXPECT_EQ(t.to_i64_vector(), (std::vector<int64_t>{-1, 5, 7}));
  EXPECT_DOUBLE_EQ(t.get_f64(1), 5.0);
  Tensor f = Tensor::from_f32({2}, {1.5f, -2.f});
  EXPECT_EQ(f.type().str(), "float32[2]");
  EXPECT_EQ(Tensor::scalar_f32(3).type().str(), "float32[]");
}

}  // namespace
}  // namespace kiln::ir
