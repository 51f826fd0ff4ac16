// Lowering of the elementwise and data-movement ops, run and compared with
// C++ references (see lower_harness.h for the runners).
#include <cmath>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

using LowerElementwiseTest = OneNodeTest;

TEST_F(LowerElementwiseTest, UnaryOpsMatchStd) {
  // 3x37: a vector body and a scalar tail at level 2.
  HostTensor x = HostTensor::random(DType::kF32, {3, 37}, 1, -3, 3);
  HostTensor pos = HostTensor::random(DType::kF32, {3, 37}, 2, 0.1, 4);
  struct Case {
    OpKind op;
    const HostTensor* in;
    double (*ref)(double);
    Attrs attrs;
  };
  std::vector<Case> cases = {
      {OpKind::kIdentity, &x, [](double v) { return v; }, {}},
      {OpKind::kRelu, &x, [](double v) { return std::max(v, 0.0); }, {}},
      {OpKind::kLeakyRelu, &x, [](double v) { return v < 0 ? 0.1 * v : v; }, Attrs().set("alpha", 0.1)},
      {OpKind::kClip, &x, [](double v) { return std::min(std::max(v, -0.5), 1.5); }, Attrs().set("min", -0.5).set("max", 1.5)},
      {OpKind::kClip, &x, [](double v) { return std::max(v, 0.0); }, Attrs().set("min", 0.0)},
      {OpKind::kSigmoid, &x, [](double v) { return 1 / (1 + std::exp(-v)); }, {}},
      {OpKind::kTanh, &x, [](double v) { return std::tanh(v); }, {}},
      {OpKind::kHardSigmoid, &x, [](double v) { return std::max(0.0, std::min(1.0, 0.2 * v + 0.5)); }, {}},
      {OpKind::kHardSwish, &x, [](double v) { return v * std::max(0.0, std::min(1.0, v / 6 + 0.5)); }, {}},
      {OpKind::kExp, &x, [](double v) { return std::exp(v); }, {}},
      {OpKind::kLog, &pos, [](double v) { return std::log(v); }, {}},
      {OpKind::kSqrt, &pos, [](double v) { return std::sqrt(v); }, {}},
      {OpKind::kNeg, &x, [](double v) { return -v; }, {}},
      {OpKind::kAbs, &x, [](double v) { return std::fabs(v); }, {}},
      {OpKind::kErf, &x, [](double v) { return std::erf(v); }, {}},
      {OpKind::kReciprocal, &pos, [](double v) { return 1 / v; }, {}},
      {OpKind::kFloor, &x, [](double v) { return std::floor(v); }, {}},
      {OpKind::kCeil, &x, [](double v) { return std::ceil(v); }, {}},
  };
  for (const Case& c : cases) {
    std::vector<double> want;
    for (double v : c.in->values()) want.push_back(static_cast<float>(c.ref(v)));
    check_node(node(c.op, {*c.in}, c.attrs), {*c.in}, want, 2e-5);
  }
}

TEST_F(LowerElementwiseTest, CastAndNot) {
  HostTensor x = HostTensor::of(DType::kF32, {6}, {-2.7, -0.5, 0, 0.5, 3.9, 100.2});
  check_node(node(OpKind::kCast, {x}, Attrs().set("to", int64_t(DType::kI32))), {x}, {-2, 0, 0, 0, 3, 100});
  check_node(node(OpKind::kCast, {x}, Attrs().set("to", int64_t(DType::kBool))), {x}, {1, 1, 0, 1, 1, 1});
  HostTensor b = HostTensor::of(DType::kBool, {3}, {1, 0, 1});
  check_node(node(OpKind::kCast, {b}, Attrs().set("to", int64_t(DType::kF32))), {b}, {1, 0, 1});
  check_node(node(OpKind::kNot, {b}), {b}, {0, 1, 0});
  HostTensor i = HostTensor::of(DType::kI64, {3}, {-5, 0, 7});
  check_node(node(OpKind::kAbs, {i}), {i}, {5, 0, 7});
}

TEST_F(LowerElementwiseTest, BinaryBroadcasting) {
  HostTensor a = HostTensor::random(DType::kF32, {2, 3, 20}, 3, -2, 2);
  HostTensor b = HostTensor::random(DType::kF32, {3, 1}, 4, 0.5, 2);
  ir::Shape out = {2, 3, 20};
  struct Case {
    OpKind op;
    double (*ref)(double, double);
  };
  std::vector<Case> cases = {
      {OpKind::kAdd, [](double x, double y) { return x + y; }},
      {OpKind::kSub, [](double x, double y) { return x - y; }},
      {OpKind::kMul, [](double x, double y) { return x * y; }},
      {OpKind::kDiv, [](double x, double y) { return x / y; }},
      {OpKind::kPow, [](double x, double y) { return std::pow(std::fabs(x), y); }},
      {OpKind::kMax, [](double x, double y) { return std::max(x, y); }},
      {OpKind::kMin, [](double x, double y) { return std::min(x, y); }},
      {OpKind::kLess, [](double x, double y) { return double(x < y); }},
      {OpKind::kGreater, [](double x, double y) { return double(x > y); }},
  };
  std::vector<double> av = a.values(), bv = b.values();
  HostTensor abs_a = a;
  for (int64_t i = 0; i < a.type.num_elements(); ++i) abs_a.set(i, std::fabs(av[i]));
  for (const Case& c : cases) {
    const HostTensor& lhs = c.op == OpKind::kPow ? abs_a : a;
    std::vector<double> want(a.type.num_elements());
    for (size_t i = 0; i < want.size(); ++i) {
      std::vector<int64_t> idx = unflatten(i, out);
      want[i] = static_cast<float>(c.ref(av[i], bv[flatten_bcast(idx, b.type.shape)]));
    }
    check_node(node(c.op, {lhs, b}), {lhs, b}, want, 2e-5);
  }
}

TEST_F(LowerElementwiseTest, IntegerDivTruncatesAndPow) {
  HostTensor a = HostTensor::of(DType::kI64, {4}, {7, -7, 7, -7});
  HostTensor b = HostTensor::of(DType::kI64, {4}, {2, 2, -2, -2});
  check_node(node(OpKind::kDiv, {a, b}), {a, b}, {3, -3, -3, 3});
  HostTensor e = HostTensor::of(DType::kI64, {4}, {2, 3, 0, 1});
  check_node(node(OpKind::kPow, {a, e}), {a, e}, {49, -343, 1, -7});
  check_node(node(OpKind::kEqual, {a, b}), {a, b}, {0, 0, 0, 0});
}

TEST_F(LowerElementwiseTest, LogicAndWhere) {
  HostTensor p = HostTensor::of(DType::kBool, {2, 2}, {1, 1, 0, 0});
  HostTensor q = HostTensor::of(DType::kBool, {2}, {1, 0});
  check_node(node(OpKind::kAnd, {p, q}), {p, q}, {1, 0, 0, 0});
  check_node(node(OpKind::kOr, {p, q}), {p, q}, {1, 1, 1, 0});
  HostTensor c = HostTensor::of(DType::kBool, {2, 1}, {1, 0});
  HostTensor x = HostTensor::of(DType::kF32, {3}, {1, 2, 3});
  HostTensor y = HostTensor::of(DType::kF32, {2, 3}, {-1, -2, -3, -4, -5, -6});
  check_node(node(OpKind::kWhere, {c, x, y}), {c, x, y}, {1, 2, 3, -4, -5, -6});
}

TEST_F(LowerElementwiseTest, Transpose) {
  ir::Shape s = {2, 3, 4, 5};
  HostTensor x = HostTensor::random(DType::kF32, s, 5);
  Ints perm = {2, 0, 3, 1};
  const ir::Node& n = node(OpKind::kTranspose, {x}, Attrs().set("perm", perm));
  ir::Shape out = n.outputs[0]->type.shape;
  std::vector<double> xv = x.values(), want(xv.size());
  for (size_t i = 0; i < want.size(); ++i) {
    std::vector<int64_t> o = unflatten(i, out), src(4);
    for (int d = 0; d < 4; ++d) src[perm[d]] = o[d];
    want[i] = xv[flatten_bcast(src, s)];
  }
  check_node(n, {x}, want);
}

TEST_F(LowerElementwiseTest, TransposesThatBlockTheInputsInnermostDimension) {
  // Layout transposes (NHWC <-> NCHW) whose input's innermost dimension is blocked
  // by a cache line next to the vector loop: block 16, 8 and 4 (20 channels), the
  // vector dimension split in two-vector blocks (64 and 32 wide) or not (24, 7),
  // a uint8 input (block 64), and a 3-channel one that stays unblocked.
  struct Case {
    DType dtype;
    ir::Shape shape;
    Ints perm;
  };
  std::vector<Case> cases = {
      {DType::kF32, {1, 6, 7, 64}, {0, 3, 1, 2}}, {DType::kF32, {1, 64, 6, 8}, {0, 2, 3, 1}},
      {DType::kF32, {2, 24, 3, 20}, {0, 3, 1, 2}}, {DType::kF32, {1, 3, 5, 7}, {0, 2, 3, 1}},
      {DType::kF32, {2, 16, 24}, {0, 2, 1}},       {DType::kU8, {1, 4, 3, 128}, {0, 3, 1, 2}},
      {DType::kF32, {3, 32, 5}, {2, 0, 1}},
  };
  KernelOptions l2, avx2, avx512;
  l2.level = 2;
  avx2.f32_lanes = 8;
  avx512.f32_lanes = 16;
  for (const Case& c : cases) {
    HostTensor x = HostTensor::random(c.dtype, c.shape, 9, 0, 200);
    const ir::Node& n = node(OpKind::kTranspose, {x}, Attrs().set("perm", c.perm));
    ir::Shape out = n.outputs[0]->type.shape;
    std::vector<double> xv = x.values(), want(xv.size());
    for (size_t i = 0; i < want.size(); ++i) {
      std::vector<int64_t> o = unflatten(i, out), src(o.size());
      for (size_t d = 0; d < o.size(); ++d) src[c.perm[d]] = o[d];
      want[i] = xv[flatten_bcast(src, c.shape)];
    }
    check_node_with(n, {x}, want, 0, {l2, avx2, avx512});
  }
}

TEST_F(LowerElementwiseTest, ConcatAlongMiddleAxis) {
  HostTensor a = HostTensor::random(DType::kF32, {2, 2, 9}, 6);
  HostTensor b = HostTensor::random(DType::kF32, {2, 3, 9}, 7);
  HostTensor c = HostTensor::random(DType::kF32, {2, 1, 9}, 8);
  const ir::Node& n = node(OpKind::kConcat, {a, b, c}, Attrs().set("axis", int64_t{1}));
  std::vector<double> want;
  for (int64_t i = 0; i < 2; ++i)
    for (const HostTensor* t : {&a, &b, &c})
      for (int64_t j = 0; j < t->type.shape[1] * 9; ++j) want.push_back(t->get(i * t->type.shape[1] * 9 + j));
  check_node(n, {a, b, c}, want);
}

TEST_F(LowerElementwiseTest, GatherWithNegativeIndices) {
  HostTensor data = HostTensor::random(DType::kF32, {3, 5, 4}, 9);
  HostTensor idx = HostTensor::of(DType::kI64, {2, 2}, {0, -1, 3, -5});
  const ir::Node& n = node(OpKind::kGather, {data, idx}, Attrs().set("axis", int64_t{1}));
  std::vector<double> want;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t k : {0, 4, 3, 0})
      for (int64_t j = 0; j < 4; ++j) want.push_back(data.get((i * 5 + k) * 4 + j));
  check_node(n, {data, idx}, want);
  HostTensor idx32 = HostTensor::of(DType::kI32, {}, {-2});
  check_node(node(OpKind::kGather, {data, idx32}), {data, idx32}, [&] {
    std::vector<double> w;
    for (int64_t j = 0; j < 20; ++j) w.push_back(data.get(20 + j));
    return w;
  }());
}

TEST_F(LowerElementwiseTest, SliceWithNegativeSteps) {
  HostTensor x = HostTensor::random(DType::kF32, {4, 20}, 10);
  Attrs a;
  a.set("starts", Ints{3, 18}).set("steps", Ints{-2, -3}).set("shape", Ints{2, 6});
  std::vector<double> want;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 6; ++j) want.push_back(x.get((3 - 2 * i) * 20 + 18 - 3 * j));
  check_node(node(OpKind::kSlice, {x}, a), {x}, want);
}

TEST_F(LowerElementwiseTest, ExpandAndReshape) {
  HostTensor x = HostTensor::of(DType::kF32, {3, 1}, {1, 2, 3});
  std::vector<double> want;
  for (int r = 0; r < 2; ++r)
    for (double v : {1, 2, 3})
      for (int j = 0; j < 4; ++j) want.push_back(v);
  check_node(node(OpKind::kExpand, {x}, Attrs().set("shape", Ints{2, 1, 4})), {x}, want);
  HostTensor y = HostTensor::random(DType::kF32, {2, 3, 4}, 11);
  check_node(node(OpKind::kReshape, {y}, Attrs().set("shape", Ints{4, 1, 6})), {y}, y.values());
}

TEST_F(LowerElementwiseTest, Level2SchedulesBigOutputs) {
  HostTensor x = HostTensor::random(DType::kF32, {64, 300}, 12);
  const ir::Node& n = node(OpKind::kRelu, {x});
  kir::Func f2 = lower_node(n, 2), f1 = lower_node(n, 1);
  EXPECT_EQ(count_loops(f2.body, kir::ForKind::kParallel), 1) << kir::to_string(f2);
  EXPECT_EQ(count_loops(f2.body, kir::ForKind::kVectorized), 1) << kir::to_string(f2);
  EXPECT_EQ(count_loops(f1.body, kir::ForKind::kParallel) + count_loops(f1.body, kir::ForKind::kVectorized), 0);
  std::vector<double> want;
  for (double v : x.values()) want.push_back(std::max(v, 0.0));
  check_node(n, {x}, want);
}

TEST_F(LowerElementwiseTest, TrailingUnitDimsStillVectorize) {
  HostTensor x = HostTensor::random(DType::kF32, {1, 20, 1, 1}, 13);
  HostTensor b = HostTensor::random(DType::kF32, {20, 1, 1}, 14);
  const ir::Node& n = node(OpKind::kAdd, {x, b});
  EXPECT_EQ(count_loops(lower_node(n, 2).body, kir::ForKind::kVectorized), 1) << kir::to_string(lower_node(n, 2));
  std::vector<double> want;
  for (int i = 0; i < 20; ++i) want.push_back(static_cast<float>(x.get(i) + b.get(i)));
  check_node(n, {x, b}, want);
}

}  // namespace
}  // namespace kiln::ops::testing
