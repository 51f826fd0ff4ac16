// Type inference of the elementwise and data-movement ops, errors included.
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ops/op_info.h"

namespace kiln::ops {
namespace {

using ir::Attrs;
using ir::OpKind;
using ir::TensorType;

class InferTest : public ::testing::Test {
 protected:
  ir::Value* in(DType t, ir::Shape s) { return g_.add_input("x" + std::to_string(n_++), TensorType{t, std::move(s)}); }
  ir::Value* f32(ir::Shape s) { return in(DType::kF32, std::move(s)); }
  // The output type, or a failed test.
  TensorType ok(OpKind op, std::vector<ir::Value*> ins, Attrs attrs = {}) {
    auto v = g_.add(op, "n", std::move(ins), std::move(attrs));
    EXPECT_TRUE(v.has_value()) << v.status().message();
    return v ? (*v)->type : TensorType{};
  }
  // The error message (which names the node), or a failed test.
  std::string err(OpKind op, std::vector<ir::Value*> ins, Attrs attrs = {}) {
    auto v = g_.add(op, "n", std::move(ins), std::move(attrs));
    EXPECT_FALSE(v.has_value());
    EXPECT_EQ(v.status().kind(), ErrorKind::kInvalidInput);
    return v.status().message();
  }
  ir::Graph g_;
  int n_ = 0;
};

TensorType tt(DType t, ir::Shape s) { return TensorType{t, std::move(s)}; }

TEST_F(InferTest, UnaryKeepsType) {
  for (OpKind op : {OpKind::kIdentity, OpKind::kRelu, OpKind::kSigmoid, OpKind::kTanh, OpKind::kExp, OpKind::kLog,
                    OpKind::kSqrt, OpKind::kNeg, OpKind::kAbs, OpKind::kErf, OpKind::kReciprocal, OpKind::kFloor,
                    OpKind::kCeil, OpKind::kHardSwish, OpKind::kHardSigmoid, OpKind::kLeakyRelu, OpKind::kClip})
    EXPECT_EQ(ok(op, {f32({2, 3})}), tt(DType::kF32, {2, 3})) << ir::op_name(op);
  EXPECT_EQ(ok(OpKind::kNeg, {in(DType::kI64, {4})}), tt(DType::kI64, {4}));
  EXPECT_EQ(ok(OpKind::kNot, {in(DType::kBool, {4})}), tt(DType::kBool, {4}));
  EXPECT_EQ(ok(OpKind::kRelu, {f32({})}), tt(DType::kF32, {}));
}

TEST_F(InferTest, UnaryErrors) {
  EXPECT_NE(err(OpKind::kExp, {in(DType::kI32, {2})}).find("Exp needs a float input, got int32[2]"), std::string::npos);
  EXPECT_NE(err(OpKind::kNot, {f32({2})}).find("Not needs a bool input"), std::string::npos);
  EXPECT_NE(err(OpKind::kRelu, {f32({2}), f32({2})}).find("Relu takes 1 inputs, got 2"), std::string::npos);
  std::string m = err(OpKind::kSqrt, {in(DType::kBool, {2})});
  EXPECT_NE(m.find("Sqrt 'n'"), std::string::npos) << m;  // the node label prefixes it
}

TEST_F(InferTest, Cast) {
  EXPECT_EQ(ok(OpKind::kCast, {f32({2})}, Attrs().set("to", int64_t(DType::kI64))), tt(DType::kI64, {2}));
  EXPECT_EQ(ok(OpKind::kCast, {in(DType::kBool, {2})}, Attrs().set("to", int64_t(DType::kF32))), tt(DType::kF32, {2}));
  EXPECT_NE(err(OpKind::kCast, {f32({2})}, Attrs().set("to", int64_t{99})).find("unknown dtype value 99"),
            std::string::npos);
  EXPECT_NE(err(OpKind::kCast, {f32({2})}).find("'to'"), std::string::npos);
}

TEST_F(InferTest, BinaryBroadcasts) {
  EXPECT_EQ(ok(OpKind::kAdd, {f32({2, 1, 4}), f32({3, 1})}), tt(DType::kF32, {2, 3, 4}));
  EXPECT_EQ(ok(OpKind::kMul, {f32({}), f32({5})}), tt(DType::kF32, {5}));
  EXPECT_EQ(ok(OpKind::kLess, {f32({2, 3}), f32({3})}), tt(DType::kBool, {2, 3}));
  EXPECT_EQ(ok(OpKind::kEqual, {in(DType::kI64, {3}), in(DType::kI64, {1})}), tt(DType::kBool, {3}));
  EXPECT_EQ(ok(OpKind::kAnd, {in(DType::kBool, {3}), in(DType::kBool, {3})}), tt(DType::kBool, {3}));
  EXPECT_EQ(ok(OpKind::kPow, {f32({3}), in(DType::kI64, {})}), tt(DType::kF32, {3}));
  EXPECT_EQ(ok(OpKind::kWhere, {in(DType::kBool, {2, 1}), f32({3}), f32({1, 3})}), tt(DType::kF32, {2, 3}));
}

TEST_F(InferTest, BinaryErrors) {
  std::string m = err(OpKind::kAdd, {f32({2, 3}), f32({4})});
  EXPECT_NE(m.find("shapes 2x3 and 4 cannot be broadcast"), std::string::npos) << m;
  m = err(OpKind::kSub, {f32({2}), in(DType::kI64, {2})});
  EXPECT_NE(m.find("float32[2] and int64[2]"), std::string::npos) << m;
  EXPECT_NE(err(OpKind::kOr, {f32({2}), f32({2})}).find("needs bool inputs"), std::string::npos);
  EXPECT_NE(err(OpKind::kWhere, {f32({2}), f32({2}), f32({2})}).find("bool condition"), std::string::npos);
  EXPECT_NE(err(OpKind::kWhere, {in(DType::kBool, {2}), f32({2}), in(DType::kI32, {2})}).find("one dtype"),
            std::string::npos);
}

TEST_F(InferTest, Reshape) {
  EXPECT_EQ(ok(OpKind::kReshape, {f32({2, 3, 4})}, Attrs().set("shape", std::vector<int64_t>{6, 4})),
            tt(DType::kF32, {6, 4}));
  std::string m = err(OpKind::kReshape, {f32({2, 3})}, Attrs().set("shape", std::vector<int64_t>{4, 2}));
  EXPECT_NE(m.find("cannot reshape float32[2x3] (6 elements) to [4, 2] (8 elements)"), std::string::npos) << m;
  EXPECT_NE(err(OpKind::kReshape, {f32({2})}).find("'shape'"), std::string::npos);
}

TEST_F(InferTest, Transpose) {
  EXPECT_EQ(ok(OpKind::kTranspose, {f32({2, 3, 4})}, Attrs().set("perm", std::vector<int64_t>{1, 2, 0})),
            tt(DType::kF32, {3, 4, 2}));
  EXPECT_EQ(ok(OpKind::kTranspose, {f32({2, 3, 4})}), tt(DType::kF32, {4, 3, 2}));
  EXPECT_NE(err(OpKind::kTranspose, {f32({2, 3})}, Attrs().set("perm", std::vector<int64_t>{0, 0}))
                .find("not a permutation"),
            std::string::npos);
  EXPECT_NE(err(OpKind::kTranspose, {f32({2, 3})}, Attrs().set("perm", std::vector<int64_t>{0}))
                .find("does not match the rank"),
            std::string::npos);
}

TEST_F(InferTest, Concat) {
  EXPECT_EQ(ok(OpKind::kConcat, {f32({2, 3}), f32({2, 5}), f32({2, 1})}, Attrs().set("axis", int64_t{1})),
            tt(DType::kF32, {2, 9}));
  std::string m = err(OpKind::kConcat, {f32({2, 3}), f32({3, 3})}, Attrs().set("axis", int64_t{1}));
  EXPECT_NE(m.find("cannot join float32[2x3] and float32[3x3]"), std::string::npos) << m;
  EXPECT_NE(err(OpKind::kConcat, {f32({2})}, Attrs().set("axis", int64_t{1})).find("out of range"),
            std::string::npos);
}

TEST_F(InferTest, Gather) {
  EXPECT_EQ(ok(OpKind::kGather, {f32({5, 6, 7}), in(DType::kI64, {2, 3})}, Attrs().set("axis", int64_t{1})),
            tt(DType::kF32, {5, 2, 3, 7}));
  EXPECT_EQ(ok(OpKind::kGather, {f32({5, 6}), in(DType::kI32, {})}), tt(DType::kF32, {6}));
  EXPECT_NE(err(OpKind::kGather, {f32({5}), f32({2})}).find("int32 or int64"), std::string::npos);
}

TEST_F(InferTest, Slice) {
  Attrs a;
  a.set("starts", std::vector<int64_t>{1, 9}).set("steps", std::vector<int64_t>{2, -3}).set("shape", std::vector<int64_t>{2, 4});
  EXPECT_EQ(ok(OpKind::kSlice, {f32({5, 10})}, a), tt(DType::kF32, {2, 4}));
  a.set("shape", std::vector<int64_t>{2, 5});  // 9 - 4*3 = -3: outside
  EXPECT_NE(err(OpKind::kSlice, {f32({5, 10})}, a).find("reads outside float32[5x10]"), std::string::npos);
}

TEST_F(InferTest, Expand) {
  EXPECT_EQ(ok(OpKind::kExpand, {f32({3, 1})}, Attrs().set("shape", std::vector<int64_t>{2, 1, 4})),
            tt(DType::kF32, {2, 3, 4}));
  EXPECT_NE(err(OpKind::kExpand, {f32({3})}, Attrs().set("shape", std::vector<int64_t>{2})).find("cannot be broadcast"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln::ops
