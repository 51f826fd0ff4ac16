// The storage-only element types (float8, float4, 4-/2-bit integers) flow through
// Cast and data movement only: Graph::add_node refuses them elsewhere, naming
// the node and the type.
#include <gtest/gtest.h>

#include "ir/graph.h"

namespace kiln::ir {
namespace {

TEST(StorageTypes, CastAndDataMovementOnly) {
  Graph g;
  Value* x = g.add_input("x", {DType::kF8E4M3FN, {2, 3}});
  Value* c = g.add_input("c", {DType::kBool, {2, 3}});
  EXPECT_TRUE(g.add(OpKind::kIdentity, "id", {x}));
  EXPECT_TRUE(g.add(OpKind::kReshape, "rs", {x}, Attrs().set("shape", std::vector<int64_t>{3, 2})));
  EXPECT_TRUE(g.add(OpKind::kTranspose, "tr", {x}, Attrs().set("perm", std::vector<int64_t>{1, 0})));
  EXPECT_TRUE(g.add(OpKind::kWhere, "where", {c, x, x}));
  auto f = g.add(OpKind::kCast, "widen", {x}, Attrs().set("to", static_cast<int64_t>(DType::kF32)));
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)->type.str(), "float32[2x3]");
  auto back = g.add(OpKind::kCast, "narrow", {*f}, Attrs().set("to", static_cast<int64_t>(DType::kI4)));
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)->type.str(), "int4[2x3]");

  auto add = g.add(OpKind::kAdd, "add8", {x, x});
  ASSERT_FALSE(add);
  EXPECT_EQ(add.status().exit_code(), 2);
  EXPECT_NE(add.status().message().find("Add 'add8'"), std::string::npos) << add.status().message();
  EXPECT_NE(add.status().message().find("does not compute in float8e4m3fn"), std::string::npos);
  auto relu = g.add(OpKind::kRelu, "relu4", {*back});
  ASSERT_FALSE(relu);
  EXPECT_NE(relu.status().message().find("does not compute in int4"), std::string::npos);
}

TEST(StorageTypes, BFloat16AndTheWiderIntegersCompute) {
  Graph g;
  Value* b = g.add_input("b", {DType::kBF16, {4}});
  Value* u = g.add_input("u", {DType::kU64, {4}});
  EXPECT_TRUE(g.add(OpKind::kAdd, "badd", {b, b}));
  EXPECT_TRUE(g.add(OpKind::kExp, "bexp", {b}));
  EXPECT_TRUE(g.add(OpKind::kMod, "umod", {u, u}));
  auto lt = g.add(OpKind::kLess, "ult", {u, u});
  ASSERT_TRUE(lt);
  EXPECT_EQ((*lt)->type.str(), "bool[4]");
}

}  // namespace
}  // namespace kiln::ir
