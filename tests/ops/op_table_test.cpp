// op_info(): every core op has type inference and the lowering its class needs.
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ops/op_info.h"

namespace kiln::ops {
namespace {

TEST(OpTableTest, EveryOpHasItsFunctions) {
#define KILN_OP(Name, str, kind)                                                  \
  {                                                                               \
    ir::OpKind op = ir::OpKind::k##Name;                                          \
    const OpInfo& info = op_info(op);                                             \
    EXPECT_NE(info.infer, nullptr) << str;                                        \
    bool complex = ir::op_class(op) == ir::OpClass::kComplex;                     \
    EXPECT_EQ(info.lower != nullptr, complex) << str;                             \
    EXPECT_EQ(info.element != nullptr, !complex) << str;                          \
  }
#include "ir/ops.def"
#undef KILN_OP
}

TEST(OpTableTest, BroadcastHelpers) {
  auto s = broadcast_shapes({4, 1, 3}, {5, 1});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (ir::Shape{4, 5, 3}));
  EXPECT_EQ(row_major_strides({2, 3, 4}), (std::vector<int64_t>{12, 4, 1}));
  std::vector<kir::Expr> idx = {kir::var("a"), kir::var("b"), kir::var("c")};
  std::vector<kir::Expr> b = broadcast_index(idx, {1, 3});
  ASSERT_EQ(b.size(), 2u);
  ASSERT_NE(kir::as_const_int(b[0]), nullptr);
  EXPECT_EQ(*kir::as_const_int(b[0]), 0);
  EXPECT_TRUE(b[1].same_as(idx[2]));
  EXPECT_FALSE(broadcast_shapes({2}, {3}).has_value());
}

}  // namespace
}  // namespace kiln::ops
