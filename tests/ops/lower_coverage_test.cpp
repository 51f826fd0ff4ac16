// Lowering of the coverage ops (Mod, ArgMax/ArgMin, ReduceProd, CumSum,
// GatherElements, GatherND, TopKIndices, Round), run and compared with naive
// C++ references.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

using LowerCoverageTest = OneNodeTest;

TEST_F(LowerCoverageTest, ModIntegerSignsAndFloatFmod) {
  HostTensor a = HostTensor::of(DType::kI32, {6}, {-4, 7, 5, 4, -7, 8});
  HostTensor b = HostTensor::of(DType::kI32, {6}, {2, -3, 8, -2, 3, 0});
  // fmod=0: the result takes the divisor's sign (Python's %); x % 0 is 0.
  check_node(node(OpKind::kMod, {a, b}), {a, b}, {0, -2, 5, 0, 2, 0});
  check_node(node(OpKind::kMod, {a, b}, Attrs().set("fmod", int64_t{1})), {a, b}, {0, 1, 5, 0, -1, 0});
  HostTensor x = HostTensor::random(DType::kF32, {3, 17}, 1, -10, 10);
  HostTensor y = HostTensor::random(DType::kF32, {17}, 2, 0.5, 3);
  std::vector<double> want;
  for (int64_t i = 0; i < 51; ++i)
    want.push_back(std::fmod(static_cast<float>(x.get(i)), static_cast<float>(y.get(i % 17))));
  check_node(node(OpKind::kMod, {x, y}, Attrs().set("fmod", int64_t{1})), {x, y}, want, 1e-5);
}

TEST_F(LowerCoverageTest, ArgMaxArgMinAllAxes) {
  HostTensor x = HostTensor::random(DType::kF32, {3, 4, 11}, 3);
  // Ties: a row of equal values picks index 0, or the last with select_last_index.
  for (int i = 0; i < 4; ++i) x.set(i * 11, 0.25), x.set(i * 11 + 5, 0.25);
  const ir::Shape& s = x.type.shape;
  for (OpKind op : {OpKind::kArgMax, OpKind::kArgMin})
    for (int64_t axis = 0; axis < 3; ++axis)
      for (int64_t keep : {0, 1})
        for (int64_t last : {0, 1}) {
          std::vector<double> want;
          ir::Shape outer = s;
          outer[axis] = 1;
          for (int64_t o = 0; o < 3 * 4 * 11 / s[axis]; ++o) {
            Ints idx = unflatten(o, outer);
            int64_t best = 0;
            auto at = [&](int64_t j) {
              Ints i = idx;
              i[axis] = j;
              return x.get((i[0] * 4 + i[1]) * 11 + i[2]);
            };
            for (int64_t j = 1; j < s[axis]; ++j) {
              double v = at(j), b = at(best);
              bool wins = op == OpKind::kArgMax ? (last ? v >= b : v > b) : (last ? v <= b : v < b);
              if (wins) best = j;
            }
            want.push_back(best);
          }
          const ir::Node& n = node(op, {x}, Attrs().set("axis", axis).set("keepdims", keep).set("select_last_index", last));
          ir::Shape out = keep ? outer : ir::Shape{};
          if (!keep)
            for (int64_t d = 0; d < 3; ++d)
              if (d != axis) out.push_back(s[d]);
          EXPECT_EQ(n.outputs[0]->type, (ir::TensorType{DType::kI64, out}));
          check_node(n, {x}, want, 0);
        }
}

TEST_F(LowerCoverageTest, ReduceProd) {
  HostTensor x = HostTensor::random(DType::kF32, {2, 3, 9}, 4, 0.5, 1.5);
  std::vector<double> want(2 * 9, 1.0);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 9; ++k) want[i * 9 + k] *= x.get((i * 3 + j) * 9 + k);
  check_node(node(OpKind::kReduceProd, {x}, Attrs().set("axes", Ints{1}).set("keepdims", int64_t{0})), {x}, want);
}

TEST_F(LowerCoverageTest, CumSumExclusiveReverse) {
  HostTensor x = HostTensor::random(DType::kI64, {3, 10}, 5, -20, 20);
  for (int64_t axis : {0, 1})
    for (int64_t exclusive : {0, 1})
      for (int64_t reverse : {0, 1}) {
        std::vector<double> want(30);
        int64_t len = axis == 0 ? 3 : 10, other = axis == 0 ? 10 : 3;
        for (int64_t o = 0; o < other; ++o) {
          double acc = 0;
          for (int64_t r = 0; r < len; ++r) {
            int64_t j = reverse ? len - 1 - r : r;
            int64_t flat = axis == 0 ? j * 10 + o : o * 10 + j;
            if (exclusive) want[flat] = acc, acc += x.get(flat);
            else acc += x.get(flat), want[flat] = acc;
          }
        }
        const ir::Node& n =
            node(OpKind::kCumSum, {x}, Attrs().set("axis", axis).set("exclusive", exclusive).set("reverse", reverse));
        check_node(n, {x}, want, 0);
      }
}

TEST_F(LowerCoverageTest, GatherElementsNegativeIndices) {
  HostTensor data = HostTensor::random(DType::kF32, {3, 5}, 6);
  HostTensor ind = HostTensor::of(DType::kI64, {2, 5}, {0, 2, -1, 1, 0, 2, -3, 1, 0, 2});
  std::vector<double> want;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 5; ++j) {
      int64_t k = static_cast<int64_t>(ind.get(i * 5 + j));
      if (k < 0) k += 3;
      want.push_back(data.get(k * 5 + j));
    }
  check_node(node(OpKind::kGatherElements, {data, ind}, Attrs().set("axis", int64_t{0})), {data, ind}, want);
}

TEST_F(LowerCoverageTest, GatherNDWithBatchDims) {
  HostTensor data = HostTensor::random(DType::kF32, {2, 3, 4}, 7);
  // batch_dims 0: indices [2, 2] pick data[i0, i1, :].
  HostTensor ind = HostTensor::of(DType::kI64, {2, 2}, {1, 2, 0, -1});
  std::vector<double> want;
  for (auto [a, b] : {std::pair{1, 2}, std::pair{0, 2}})
    for (int k = 0; k < 4; ++k) want.push_back(data.get((a * 3 + b) * 4 + k));
  const ir::Node& n = node(OpKind::kGatherND, {data, ind});
  EXPECT_EQ(n.outputs[0]->type.shape, (ir::Shape{2, 4}));
  check_node(n, {data, ind}, want);
  // batch_dims 1: indices [2, 1, 2] pick data[b, i1, i2] per batch.
  HostTensor ind2 = HostTensor::of(DType::kI32, {2, 1, 2}, {2, 3, 0, 1});
  const ir::Node& n2 = node(OpKind::kGatherND, {data, ind2}, Attrs().set("batch_dims", int64_t{1}));
  EXPECT_EQ(n2.outputs[0]->type.shape, (ir::Shape{2, 1}));
  check_node(n2, {data, ind2}, {data.get(0 * 12 + 2 * 4 + 3), data.get(1 * 12 + 0 * 4 + 1)});
}

TEST_F(LowerCoverageTest, TopKIndicesSortedWithTies) {
  HostTensor x = HostTensor::of(DType::kF32, {2, 6}, {3, 1, 3, 5, 0, 5, -1, -2, 7, 7, 0, -2});
  for (int64_t largest : {0, 1}) {
    std::vector<double> want;
    for (int64_t r = 0; r < 2; ++r) {
      std::vector<int64_t> order(6);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return largest ? x.get(r * 6 + a) > x.get(r * 6 + b) : x.get(r * 6 + a) < x.get(r * 6 + b);
      });
      for (int k = 0; k < 4; ++k) want.push_back(order[k]);
    }
    const ir::Node& n =
        node(OpKind::kTopKIndices, {x}, Attrs().set("axis", int64_t{1}).set("k", int64_t{4}).set("largest", largest));
    EXPECT_EQ(n.outputs[0]->type, (ir::TensorType{DType::kI64, {2, 4}}));
    check_node(n, {x}, want, 0);
  }
  // Along axis 0 of a [3, 9] input.
  HostTensor y = HostTensor::random(DType::kF32, {3, 9}, 8);
  std::vector<double> want(2 * 9);
  for (int64_t c = 0; c < 9; ++c) {
    std::vector<int64_t> order = {0, 1, 2};
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return y.get(a * 9 + c) > y.get(b * 9 + c); });
    want[c] = order[0], want[9 + c] = order[1];
  }
  check_node(node(OpKind::kTopKIndices, {y}, Attrs().set("axis", int64_t{0}).set("k", int64_t{2})), {y}, want, 0);
}

TEST_F(LowerCoverageTest, RoundHalfToEven) {
  HostTensor x = HostTensor::of(DType::kF32, {8}, {0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6, 3.0});
  check_node(node(OpKind::kRound, {x}), {x}, {0, 2, 2, -0, -2, 2, -3, 3}, 0);
}

}  // namespace
}  // namespace kiln::ops::testing
