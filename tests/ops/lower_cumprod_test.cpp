// Lowering of CumProd (cumsum.cpp) against a naive reference: a middle axis of a
// 3-D tensor, every exclusive/reverse combination, float64 and int64 inputs
// (the node tests cover 1-D/2-D float32 and int32).
#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;

using LowerCumProdTest = OneNodeTest;

std::vector<double> cumprod_ref(const HostTensor& x, int64_t axis, bool exclusive, bool reverse) {
  const ir::Shape& s = x.type.shape;
  std::vector<double> y(x.type.num_elements());
  for (int64_t i = 0; i < x.type.num_elements(); ++i) {
    std::vector<int64_t> idx = unflatten(i, s);
    double p = 1;
    for (int64_t j = 0; j < s[axis]; ++j) {
      bool take = reverse ? (exclusive ? j > idx[axis] : j >= idx[axis]) : (exclusive ? j < idx[axis] : j <= idx[axis]);
      if (!take) continue;
      std::vector<int64_t> at = idx;
      at[axis] = j;
      p *= x.get(flatten_bcast(at, s));
    }
    y[i] = p;
  }
  return y;
}

TEST_F(LowerCumProdTest, MiddleAxisAllModes) {
  for (DType t : {DType::kF32, DType::kF64, DType::kI64}) {
    HostTensor x = HostTensor::random(t, {3, 6, 10}, 5, t == DType::kI64 ? -3 : 0.5, t == DType::kI64 ? 4 : 1.5);
    for (int mode = 0; mode < 4; ++mode) {
      bool exclusive = mode & 1, reverse = mode & 2;
      Attrs a;
      a.set("axis", int64_t{1}).set("exclusive", int64_t{exclusive}).set("reverse", int64_t{reverse});
      const ir::Node& n = node(OpKind::kCumProd, {x}, a);
      check_node(n, {x}, cumprod_ref(x, 1, exclusive, reverse), 1e-5);
    }
  }
}

TEST_F(LowerCumProdTest, RejectsBoolAndBadAxis) {
  ir::Value* b = g_.add_input("b", ir::TensorType{DType::kBool, {4}});
  auto n = g_.add_node(OpKind::kCumProd, "p", {b}, Attrs().set("axis", int64_t{0}));
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.status().message(), "CumProd 'p': CumProd does not take a bool input (bool[4])");
  ir::Value* f = g_.add_input("f", ir::TensorType{DType::kF32, {4}});
  n = g_.add_node(OpKind::kCumProd, "q", {f}, Attrs().set("axis", int64_t{1}));
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.status().message(), "CumProd 'q': CumProd axis 1 is out of range for float32[4]");
}

}  // namespace
}  // namespace kiln::ops::testing
