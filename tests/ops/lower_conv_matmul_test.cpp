// Lowering of Conv and MatMul, run and compared with naive C++ references.
#include "conv_reference.h"
#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

using LowerConvMatMulTest = OneNodeTest;

TEST_F(LowerConvMatMulTest, Conv) {
  std::vector<ConvCase> cases = {
      {1, 3, 9, 11, 4, 3, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},      // same padding
      {2, 4, 13, 21, 6, 3, 3, 1, {2, 2}, {1, 0, 2, 1}, {1, 1}, false},    // strides, asymmetric pads
      {1, 2, 12, 20, 3, 3, 2, 1, {1, 1}, {2, 2, 2, 2}, {2, 3}, true},     // dilations
      {1, 6, 8, 19, 4, 3, 3, 2, {1, 2}, {1, 1, 1, 1}, {1, 1}, true},      // groups
      {1, 8, 10, 26, 8, 3, 3, 8, {1, 1}, {1, 1, 1, 1}, {1, 1}, true},     // depthwise
      {1, 5, 7, 17, 7, 1, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, false},     // 1x1
  };
  uint32_t seed = 100;
  for (const ConvCase& p : cases) {
    HostTensor x = HostTensor::random(DType::kF32, {p.n, p.c, p.h, p.w}, seed++);
    HostTensor w = HostTensor::random(DType::kF32, {p.m, p.c / p.group, p.kh, p.kw}, seed++);
    HostTensor b = HostTensor::random(DType::kF32, {p.m}, seed++);
    std::vector<HostTensor> ins = {x, w};
    if (p.bias) ins.push_back(b);
    const ir::Node& n = node(OpKind::kConv, ins,
                             Attrs().set("strides", p.strides).set("pads", p.pads).set("dilations", p.dilations)
                                 .set("group", p.group));
    SCOPED_TRACE("conv group " + std::to_string(p.group) + " out " + n.outputs[0]->type.str());
    check_node(n, ins, conv_ref(p, x, w, p.bias ? &b : nullptr, n.outputs[0]->type.shape), 1e-5);
  }
}

TEST_F(LowerConvMatMulTest, ConvLevel2IsParallelAndVectorized) {
  HostTensor x = HostTensor::random(DType::kF32, {1, 4, 16, 32}, 1);
  HostTensor w = HostTensor::random(DType::kF32, {8, 4, 3, 3}, 2);
  const ir::Node& n = node(OpKind::kConv, {x, w}, Attrs().set("pads", Ints{1, 1, 1, 1}));
  kir::Func f = lower_node(n, 2);
  EXPECT_EQ(count_loops(f.body, kir::ForKind::kParallel), 1) << kir::to_string(f);
  EXPECT_GE(count_loops(f.body, kir::ForKind::kVectorized), 1) << kir::to_string(f);
  EXPECT_EQ(count_loops(lower_node(n, 1).body, kir::ForKind::kVectorized), 0);
}

// Naive batched matmul on already-2-D-ified operands with broadcast batches.
std::vector<double> matmul_ref(const HostTensor& a, const HostTensor& b, const ir::Shape& out_batch, int64_t m,
                               int64_t k, int64_t n) {
  ir::Shape ab(a.type.shape.begin(), a.type.shape.end() - std::min<size_t>(2, a.type.shape.size()));
  ir::Shape bb(b.type.shape.begin(), b.type.shape.end() - std::min<size_t>(2, b.type.shape.size()));
  int64_t batches = 1;
  for (int64_t d : out_batch) batches *= d;
  std::vector<double> y;
  for (int64_t bi = 0; bi < batches; ++bi) {
    std::vector<int64_t> idx = unflatten(bi, out_batch);
    int64_t ao = ab.empty() ? 0 : flatten_bcast(idx, ab), bo = bb.empty() ? 0 : flatten_bcast(idx, bb);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) acc += a.get(ao * m * k + i * k + kk) * b.get(bo * k * n + kk * n + j);
        y.push_back(acc);
      }
  }
  return y;
}

TEST_F(LowerConvMatMulTest, MatMul2D) {
  HostTensor a = HostTensor::random(DType::kF32, {5, 7}, 1);
  HostTensor b = HostTensor::random(DType::kF32, {7, 19}, 2);
  check_node(node(OpKind::kMatMul, {a, b}), {a, b}, matmul_ref(a, b, {}, 5, 7, 19));
}

TEST_F(LowerConvMatMulTest, MatMulBatchBroadcast) {
  HostTensor a = HostTensor::random(DType::kF32, {2, 1, 3, 6}, 3);
  HostTensor b = HostTensor::random(DType::kF32, {4, 6, 10}, 4);
  check_node(node(OpKind::kMatMul, {a, b}), {a, b}, matmul_ref(a, b, {2, 4}, 3, 6, 10));
}

TEST_F(LowerConvMatMulTest, MatMulVectorOperands) {
  HostTensor v = HostTensor::random(DType::kF32, {6}, 5);
  HostTensor b = HostTensor::random(DType::kF32, {2, 6, 9}, 6);
  check_node(node(OpKind::kMatMul, {v, b}), {v, b}, matmul_ref(v, b, {2}, 1, 6, 9));
  HostTensor a = HostTensor::random(DType::kF32, {3, 4, 6}, 7);
  check_node(node(OpKind::kMatMul, {a, v}), {a, v}, matmul_ref(a, v, {3}, 4, 6, 1));
  check_node(node(OpKind::kMatMul, {v, v}), {v, v}, matmul_ref(v, v, {}, 1, 6, 1));
}

TEST_F(LowerConvMatMulTest, MatMulSingleRowIsParallelOverColumns) {
  HostTensor a = HostTensor::random(DType::kF32, {1, 64}, 8);
  HostTensor b = HostTensor::random(DType::kF32, {64, 300}, 9);
  const ir::Node& n = node(OpKind::kMatMul, {a, b});
  kir::Func f = lower_node(n, 2);
  EXPECT_EQ(count_loops(f.body, kir::ForKind::kParallel), 1) << kir::to_string(f);
  EXPECT_EQ(count_loops(f.body, kir::ForKind::kVectorized), 1) << kir::to_string(f);
  check_node(n, {a, b}, matmul_ref(a, b, {}, 1, 64, 300), 1e-5);
}

TEST_F(LowerConvMatMulTest, MatMulInt64) {
  HostTensor a = HostTensor::of(DType::kI64, {2, 2}, {1, 2, 3, 4});
  HostTensor b = HostTensor::of(DType::kI64, {2, 2}, {5, 6, 7, 8});
  check_node(node(OpKind::kMatMul, {a, b}), {a, b}, {19, 22, 43, 50});
}

}  // namespace
}  // namespace kiln::ops::testing
