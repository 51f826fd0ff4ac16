// Type inference of the anchor ops (conv, matmul, pools, reductions, softmax).
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ops/op_info.h"

namespace kiln::ops {
namespace {

using ir::Attrs;
using ir::OpKind;
using ir::TensorType;
using Ints = std::vector<int64_t>;

class InferComplexTest : public ::testing::Test {
 protected:
  ir::Value* in(DType t, ir::Shape s) { return g_.add_input("x" + std::to_string(n_++), TensorType{t, std::move(s)}); }
  ir::Value* f32(ir::Shape s) { return in(DType::kF32, std::move(s)); }
  ir::Shape ok(OpKind op, std::vector<ir::Value*> ins, Attrs attrs = {}) {
    auto v = g_.add(op, "n", std::move(ins), std::move(attrs));
    EXPECT_TRUE(v.has_value()) << v.status().message();
    return v ? (*v)->type.shape : ir::Shape{-1};
  }
  std::string err(OpKind op, std::vector<ir::Value*> ins, Attrs attrs = {}) {
    auto v = g_.add(op, "n", std::move(ins), std::move(attrs));
    EXPECT_FALSE(v.has_value());
    return v.status().message();
  }
  ir::Graph g_;
  int n_ = 0;
};

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST_F(InferComplexTest, Conv) {
  EXPECT_EQ(ok(OpKind::kConv, {f32({1, 3, 224, 224}), f32({64, 3, 7, 7}), f32({64})},
               Attrs().set("strides", Ints{2, 2}).set("pads", Ints{3, 3, 3, 3})),
            (ir::Shape{1, 64, 112, 112}));
  // Depthwise, dilated, asymmetric pads.
  EXPECT_EQ(ok(OpKind::kConv, {f32({2, 8, 10, 12}), f32({8, 1, 3, 3})},
               Attrs().set("group", int64_t{8}).set("dilations", Ints{2, 1}).set("pads", Ints{1, 0, 2, 1})),
            (ir::Shape{2, 8, 9, 11}));
}

TEST_F(InferComplexTest, ConvErrors) {
  std::string m = err(OpKind::kConv, {f32({1, 4, 8, 8}), f32({6, 3, 3, 3})});
  EXPECT_TRUE(has(m, "float32[1x4x8x8] has 4 channels but weights float32[6x3x3x3] with group 1 expect 3")) << m;
  m = err(OpKind::kConv, {f32({1, 4, 8, 8}), f32({5, 2, 3, 3})}, Attrs().set("group", int64_t{2}));
  EXPECT_TRUE(has(m, "5 output channels are not divisible by group 2")) << m;
  m = err(OpKind::kConv, {f32({1, 3, 8, 8}), f32({4, 3, 3, 3}), f32({5})});
  EXPECT_TRUE(has(m, "bias float32[5] must be float32[4]")) << m;
  m = err(OpKind::kConv, {f32({1, 3, 2, 2}), f32({4, 3, 3, 3})});
  EXPECT_TRUE(has(m, "larger than the padded input")) << m;
  EXPECT_TRUE(has(err(OpKind::kConv, {f32({3, 8, 8}), f32({4, 3, 3, 3})}), "2-D NCHW"));
}

TEST_F(InferComplexTest, MatMul) {
  EXPECT_EQ(ok(OpKind::kMatMul, {f32({3, 4}), f32({4, 5})}), (ir::Shape{3, 5}));
  EXPECT_EQ(ok(OpKind::kMatMul, {f32({2, 1, 3, 4}), f32({5, 4, 6})}), (ir::Shape{2, 5, 3, 6}));
  EXPECT_EQ(ok(OpKind::kMatMul, {f32({4}), f32({2, 4, 6})}), (ir::Shape{2, 6}));
  EXPECT_EQ(ok(OpKind::kMatMul, {f32({2, 3, 4}), f32({4})}), (ir::Shape{2, 3}));
  EXPECT_EQ(ok(OpKind::kMatMul, {f32({4}), f32({4})}), (ir::Shape{}));
  std::string m = err(OpKind::kMatMul, {f32({3, 4}), f32({5, 6})});
  EXPECT_TRUE(has(m, "inner dimensions differ: float32[3x4] x float32[5x6]")) << m;
  m = err(OpKind::kMatMul, {f32({2, 3, 4}), f32({3, 4, 6})});
  EXPECT_TRUE(has(m, "batch dimensions")) << m;
}

TEST_F(InferComplexTest, Pool) {
  Attrs a = Attrs().set("kernel", Ints{3, 3}).set("strides", Ints{2, 2}).set("pads", Ints{1, 1, 1, 1});
  EXPECT_EQ(ok(OpKind::kMaxPool, {f32({1, 64, 112, 112})}, a), (ir::Shape{1, 64, 56, 56}));
  // ceil_mode: 5 -> floor((5-2)/2)+1 = 2, ceil: 3.
  Attrs c = Attrs().set("kernel", Ints{2, 2}).set("strides", Ints{2, 2}).set("ceil_mode", int64_t{1});
  EXPECT_EQ(ok(OpKind::kAveragePool, {f32({1, 1, 5, 5})}, c), (ir::Shape{1, 1, 3, 3}));
  // ceil_mode with the last window starting in the trailing pad is dropped:
  // in 4, k 2, s 2, pads 1/1: ceil((4+2-2)/2)+1 = 3, (3-1)*2 = 4 >= 4+1? no -> 3.
  Attrs d = Attrs().set("kernel", Ints{2, 2}).set("strides", Ints{2, 2}).set("pads", Ints{1, 1, 1, 1}).set("ceil_mode", int64_t{1});
  EXPECT_EQ(ok(OpKind::kMaxPool, {f32({1, 1, 4, 4})}, d), (ir::Shape{1, 1, 3, 3}));
  // in 5, k 2, s 3, pads 0/1: ceil((5+1-2)/3)+1 = 3, (3-1)*3 = 6 >= 5 -> 2.
  Attrs e = Attrs().set("kernel", Ints{2, 2}).set("strides", Ints{3, 3}).set("pads", Ints{0, 0, 1, 1}).set("ceil_mode", int64_t{1});
  EXPECT_EQ(ok(OpKind::kMaxPool, {f32({1, 1, 5, 5})}, e), (ir::Shape{1, 1, 2, 2}));
}

TEST_F(InferComplexTest, PoolErrors) {
  EXPECT_TRUE(has(err(OpKind::kMaxPool, {f32({1, 1, 4, 4})}), "'kernel'"));
  EXPECT_TRUE(has(err(OpKind::kAveragePool, {f32({1, 1, 4, 4})}, Attrs().set("kernel", Ints{2, 2}).set("pads", Ints{2, 0, 0, 0})),
                  "must be smaller than the kernel"));
  EXPECT_TRUE(has(err(OpKind::kAveragePool, {in(DType::kI32, {1, 1, 4, 4})}, Attrs().set("kernel", Ints{2, 2})),
                  "float32 or float64"));
  EXPECT_EQ(ok(OpKind::kMaxPool, {in(DType::kI8, {1, 1, 4, 4})}, Attrs().set("kernel", Ints{2, 2})), (ir::Shape{1, 1, 3, 3}));
}

TEST_F(InferComplexTest, Reduce) {
  EXPECT_EQ(ok(OpKind::kReduceMean, {f32({2, 3, 4, 5})}, Attrs().set("axes", Ints{2, 3})), (ir::Shape{2, 3, 1, 1}));
  EXPECT_EQ(ok(OpKind::kReduceSum, {f32({2, 3, 4})}, Attrs().set("axes", Ints{1}).set("keepdims", int64_t{0})),
            (ir::Shape{2, 4}));
  EXPECT_EQ(ok(OpKind::kReduceMax, {f32({2, 3})}, Attrs().set("keepdims", int64_t{0})), (ir::Shape{}));
  EXPECT_EQ(ok(OpKind::kReduceMin, {in(DType::kI64, {2, 3})}), (ir::Shape{1, 1}));
  EXPECT_TRUE(has(err(OpKind::kReduceSum, {f32({2, 3})}, Attrs().set("axes", Ints{2})), "out of range for float32[2x3]"));
  EXPECT_TRUE(has(err(OpKind::kReduceSum, {f32({2, 3})}, Attrs().set("axes", Ints{1, 0})), "sorted"));
}

TEST_F(InferComplexTest, Softmax) {
  EXPECT_EQ(ok(OpKind::kSoftmax, {f32({2, 3})}, Attrs().set("axis", int64_t{0})), (ir::Shape{2, 3}));
  EXPECT_EQ(ok(OpKind::kLogSoftmax, {f32({2, 3})}), (ir::Shape{2, 3}));
  EXPECT_TRUE(has(err(OpKind::kSoftmax, {f32({2, 3})}, Attrs().set("axis", int64_t{2})), "axis 2 is out of range"));
  EXPECT_TRUE(has(err(OpKind::kSoftmax, {in(DType::kI32, {2})}), "float32 or float64"));
}

}  // namespace
}  // namespace kiln::ops
