// Lowering of the trigonometric ops (Sin .. Atan) and the scatter ops
// (ScatterElements, ScatterND), run and compared with naive C++ references.
#include <cmath>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;

using LowerTrigScatterTest = OneNodeTest;

TEST_F(LowerTrigScatterTest, Trigonometry) {
  HostTensor wide = HostTensor::random(DType::kF32, {3, 37}, 3, -50, 50);
  HostTensor unit = HostTensor::random(DType::kF32, {3, 37}, 4, -1, 1);
  struct Case {
    OpKind op;
    const HostTensor* in;
    double (*ref)(double);
  };
  for (const Case& c : {Case{OpKind::kSin, &wide, [](double v) { return std::sin(v); }},
                        Case{OpKind::kCos, &wide, [](double v) { return std::cos(v); }},
                        Case{OpKind::kTan, &unit, [](double v) { return std::tan(v); }},
                        Case{OpKind::kAsin, &unit, [](double v) { return std::asin(v); }},
                        Case{OpKind::kAcos, &unit, [](double v) { return std::acos(v); }},
                        Case{OpKind::kAtan, &wide, [](double v) { return std::atan(v); }}}) {
    std::vector<double> want;
    for (double v : c.in->values()) want.push_back(static_cast<float>(c.ref(v)));
    check_node(node(c.op, {*c.in}), {*c.in}, want, 2e-6);
  }
}

TEST_F(LowerTrigScatterTest, ScatterElementsAxisNegativeIndicesAndReductions) {
  HostTensor data = HostTensor::of(DType::kF32, {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  // Along axis 1; -1 is the last column; row 0 hits column 1 twice.
  HostTensor idx = HostTensor::of(DType::kI64, {2, 3}, {1, -1, 1, 0, 2, -4});
  HostTensor upd = HostTensor::of(DType::kF32, {2, 3}, {10, 20, 30, 40, 50, 60});
  Attrs axis1 = Attrs().set("axis", int64_t{1});
  // none: the later update wins.
  check_node(node(OpKind::kScatterElements, {data, idx, upd}, axis1), {data, idx, upd}, {1, 30, 3, 20, 60, 6, 50, 8});
  auto with = [&](int64_t r) { return Attrs().set("axis", int64_t{1}).set("reduction", r); };
  check_node(node(OpKind::kScatterElements, {data, idx, upd}, with(1)), {data, idx, upd}, {1, 42, 3, 24, 105, 6, 57, 8});
  check_node(node(OpKind::kScatterElements, {data, idx, upd}, with(2)), {data, idx, upd}, {1, 600, 3, 80, 12000, 6, 350, 8});
  check_node(node(OpKind::kScatterElements, {data, idx, upd}, with(3)), {data, idx, upd}, {1, 30, 3, 20, 60, 6, 50, 8});
  check_node(node(OpKind::kScatterElements, {data, idx, upd}, with(4)), {data, idx, upd}, {1, 2, 3, 4, 5, 6, 7, 8});
  // Axis 0 with int32 indices smaller than data.
  HostTensor idx0 = HostTensor::of(DType::kI32, {1, 2}, {1, 0});
  HostTensor upd0 = HostTensor::of(DType::kF32, {1, 2}, {-1, -2});
  check_node(node(OpKind::kScatterElements, {data, idx0, upd0}), {data, idx0, upd0}, {1, -2, 3, 4, -1, 6, 7, 8});
}

TEST_F(LowerTrigScatterTest, ScatterNDRowsElementsAndReductions) {
  HostTensor data = HostTensor::of(DType::kI64, {3, 2}, {1, 2, 3, 4, 5, 6});
  // Whole rows: indices [2, 1] -> updates [2, 2]; row -1 is row 2.
  HostTensor rows = HostTensor::of(DType::kI64, {2, 1}, {-1, 0});
  HostTensor rupd = HostTensor::of(DType::kI64, {2, 2}, {10, 20, 30, 40});
  check_node(node(OpKind::kScatterND, {data, rows, rupd}), {data, rows, rupd}, {30, 40, 3, 4, 10, 20}, 0);
  // Single elements, one hit twice, with add and max.
  HostTensor elems = HostTensor::of(DType::kI64, {3, 2}, {0, 1, 2, 0, 0, 1});
  HostTensor eupd = HostTensor::of(DType::kI64, {3}, {7, 9, 11});
  check_node(node(OpKind::kScatterND, {data, elems, eupd}, Attrs().set("reduction", int64_t{1})), {data, elems, eupd},
             {1, 20, 3, 4, 14, 6}, 0);
  check_node(node(OpKind::kScatterND, {data, elems, eupd}, Attrs().set("reduction", int64_t{3})), {data, elems, eupd},
             {1, 11, 3, 4, 9, 6}, 0);
  check_node(node(OpKind::kScatterND, {data, elems, eupd}, Attrs().set("reduction", int64_t{2})), {data, elems, eupd},
             {1, 154, 3, 4, 45, 6}, 0);
}

TEST_F(LowerTrigScatterTest, ScatterShapeErrors) {
  ir::Graph g;
  auto* d = g.add_input("d", ir::TensorType{DType::kF32, {2, 3}});
  auto* i = g.add_input("i", ir::TensorType{DType::kI64, {2, 2}});
  auto* u = g.add_input("u", ir::TensorType{DType::kF32, {2, 3}});
  auto bad = g.add_node(OpKind::kScatterElements, "se", {d, i, u}, {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.status().message().find("must have one shape"), std::string::npos) << bad.status().message();
  auto* k = g.add_input("k", ir::TensorType{DType::kI64, {2, 3}});
  auto bad_nd = g.add_node(OpKind::kScatterND, "snd", {d, k, u}, {});
  ASSERT_FALSE(bad_nd.has_value());
  EXPECT_NE(bad_nd.status().message().find("do not index data"), std::string::npos) << bad_nd.status().message();
}

}  // namespace
}  // namespace kiln::ops::testing
