// Lowering of MaxPool/AveragePool, the reductions and Softmax/LogSoftmax,
// run and compared with naive C++ references.
#include <cmath>
#include <limits>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

using LowerPoolReduceTest = OneNodeTest;

struct PoolCase {
  Ints kernel, strides, pads, dilations;
  bool ceil_mode, count_include_pad;
};

// ONNX Runtime's pooling: max over in-bounds taps; average over in-bounds taps,
// or with count_include_pad over the taps inside the padded input.
std::vector<double> pool_ref(bool is_max, const PoolCase& p, const HostTensor& x, const ir::Shape& out) {
  const ir::Shape& s = x.type.shape;
  std::vector<double> y;
  for (int64_t n = 0; n < out[0]; ++n)
    for (int64_t c = 0; c < out[1]; ++c)
      for (int64_t oh = 0; oh < out[2]; ++oh)
        for (int64_t ow = 0; ow < out[3]; ++ow) {
          double acc = is_max ? -std::numeric_limits<double>::infinity() : 0;
          int64_t count = 0;
          for (int64_t kh = 0; kh < p.kernel[0]; ++kh)
            for (int64_t kw = 0; kw < p.kernel[1]; ++kw) {
              int64_t ih = oh * p.strides[0] - p.pads[0] + kh * p.dilations[0];
              int64_t iw = ow * p.strides[1] - p.pads[1] + kw * p.dilations[1];
              bool inside = ih >= 0 && ih < s[2] && iw >= 0 && iw < s[3];
              if (p.count_include_pad ? (ih < s[2] + p.pads[2] && iw < s[3] + p.pads[3]) : inside) ++count;
              if (!inside) continue;
              double v = x.get(((n * s[1] + c) * s[2] + ih) * s[3] + iw);
              acc = is_max ? std::max(acc, v) : acc + v;
            }
          y.push_back(is_max ? acc : acc / count);
        }
  return y;
}

TEST_F(LowerPoolReduceTest, Pools) {
  std::vector<PoolCase> cases = {
      {{2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, false, false},
      {{3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false, false},
      {{3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false, true},
      {{3, 2}, {2, 2}, {1, 0, 1, 1}, {1, 1}, true, false},  // ceil_mode: partial last windows
      {{3, 3}, {2, 3}, {1, 1, 2, 2}, {1, 1}, true, true},   // ceil overhang is not counted
      {{2, 3}, {1, 1}, {0, 1, 1, 1}, {2, 2}, false, false}, // dilations
  };
  // The wide input has interior windows for whole vectors at 8 and 16 lanes.
  for (const HostTensor& x : {HostTensor::random(DType::kF32, {2, 3, 11, 13}, 21),
                              HostTensor::random(DType::kF32, {1, 2, 5, 75}, 22)}) {
    for (const PoolCase& p : cases) {
      for (bool is_max : {true, false}) {
        Attrs a = Attrs().set("kernel", p.kernel).set("strides", p.strides).set("pads", p.pads)
                      .set("dilations", p.dilations).set("ceil_mode", int64_t{p.ceil_mode})
                      .set("count_include_pad", int64_t{p.count_include_pad});
        const ir::Node& n = node(is_max ? OpKind::kMaxPool : OpKind::kAveragePool, {x}, a);
        SCOPED_TRACE(n.label() + " kernel " + std::to_string(p.kernel[0]) + "x" + std::to_string(p.kernel[1]) +
                     " -> " + n.outputs[0]->type.str());
        check_node(n, {x}, pool_ref(is_max, p, x, n.outputs[0]->type.shape), 1e-5);
      }
    }
  }
}

TEST_F(LowerPoolReduceTest, MaxPoolInt8) {
  HostTensor x = HostTensor::of(DType::kI8, {1, 1, 2, 3}, {-100, -7, 5, -128, 3, 127});
  check_node(node(OpKind::kMaxPool, {x}, Attrs().set("kernel", Ints{2, 2})), {x}, {3, 127});
}

// Reduces x (shape s) over `axes` with `op`, keeping the reduced dims as 1.
std::vector<double> reduce_ref(OpKind op, const HostTensor& x, const std::vector<bool>& reduced) {
  const ir::Shape& s = x.type.shape;
  ir::Shape out = s;
  for (size_t d = 0; d < s.size(); ++d)
    if (reduced[d]) out[d] = 1;
  int64_t n_out = 1;
  for (int64_t d : out) n_out *= d;
  double init = op == OpKind::kReduceMax ? -INFINITY : op == OpKind::kReduceMin ? INFINITY : 0;
  std::vector<double> y(n_out, init);
  std::vector<int64_t> count(n_out, 0);
  for (int64_t i = 0; i < x.type.num_elements(); ++i) {
    int64_t o = flatten_bcast(unflatten(i, s), out);
    double v = x.get(i);
    y[o] = op == OpKind::kReduceMax ? std::max(y[o], v) : op == OpKind::kReduceMin ? std::min(y[o], v) : y[o] + v;
    ++count[o];
  }
  if (op == OpKind::kReduceMean)
    for (int64_t o = 0; o < n_out; ++o) y[o] /= count[o];
  return y;
}

TEST_F(LowerPoolReduceTest, Reductions) {
  HostTensor x = HostTensor::random(DType::kF32, {3, 4, 5, 18}, 31);
  struct Case {
    Ints axes;
    bool keepdims;
  };
  std::vector<Case> cases = {{{3}, true}, {{1}, false}, {{0, 2}, true}, {{2, 3}, false}, {{}, false}};
  for (OpKind op : {OpKind::kReduceMean, OpKind::kReduceSum, OpKind::kReduceMax, OpKind::kReduceMin}) {
    for (const Case& c : cases) {
      std::vector<bool> reduced(4, c.axes.empty());
      for (int64_t a : c.axes) reduced[a] = true;
      Attrs attrs = Attrs().set("keepdims", int64_t{c.keepdims});
      if (!c.axes.empty()) attrs.set("axes", c.axes);
      const ir::Node& n = node(op, {x}, attrs);
      SCOPED_TRACE(n.label() + " -> " + n.outputs[0]->type.str());
      check_node(n, {x}, reduce_ref(op, x, reduced), 1e-5);
    }
  }
  HostTensor xi = HostTensor::of(DType::kI32, {2, 3}, {4, -2, 9, 1, 1, -8});
  check_node(node(OpKind::kReduceMax, {xi}, Attrs().set("axes", Ints{1})), {xi}, {9, 1});
  check_node(node(OpKind::kReduceSum, {xi}, Attrs().set("axes", Ints{0})), {xi}, {5, -1, 1});
}

// Max and Min of bool are any and all; over an empty axis they give their identity.
TEST_F(LowerPoolReduceTest, MaxMinOfBoolAndOfAnEmptyAxis) {
  HostTensor b = HostTensor::of(DType::kBool, {4, 3}, {1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0});
  check_node(node(OpKind::kReduceMax, {b}, Attrs().set("axes", Ints{1})), {b}, {1, 1, 1, 0});
  check_node(node(OpKind::kReduceMin, {b}, Attrs().set("axes", Ints{1})), {b}, {1, 0, 0, 0});
  HostTensor e = HostTensor::of(DType::kF32, {2, 0, 3}, {});
  const ir::Node& mx = node(OpKind::kReduceMax, {e}, Attrs().set("axes", Ints{1}));
  EXPECT_EQ(mx.outputs[0]->type.str(), "float32[2x1x3]");
  check_node(mx, {e}, std::vector<double>(6, -INFINITY));
  check_node(node(OpKind::kReduceMin, {e}, Attrs().set("axes", Ints{1}).set("keepdims", int64_t{0})), {e},
             std::vector<double>(6, INFINITY));
  HostTensor ei = HostTensor::of(DType::kI32, {0, 2}, {});
  check_node(node(OpKind::kReduceMax, {ei}, Attrs().set("axes", Ints{0})), {ei},
             {double(INT32_MIN), double(INT32_MIN)});
  check_node(node(OpKind::kReduceMin, {ei}, Attrs().set("axes", Ints{0})), {ei},
             {double(INT32_MAX), double(INT32_MAX)});
}

TEST_F(LowerPoolReduceTest, GlobalAveragePoolVectorizesOverChannels) {
  HostTensor x = HostTensor::random(DType::kF32, {2, 16, 7, 7}, 33);
  const ir::Node& n = node(OpKind::kReduceMean, {x}, Attrs().set("axes", Ints{2, 3}));
  EXPECT_EQ(count_loops(lower_node(n, 2).body, kir::ForKind::kVectorized), 1) << kir::to_string(lower_node(n, 2));
  check_node(n, {x}, reduce_ref(OpKind::kReduceMean, x, {false, false, true, true}), 1e-5);
}

std::vector<double> softmax_ref(const HostTensor& x, int64_t axis, bool log) {
  const ir::Shape& s = x.type.shape;
  std::vector<double> y(x.type.num_elements());
  ir::Shape other = s;
  other[axis] = 1;
  int64_t stride = 1;
  for (size_t d = axis + 1; d < s.size(); ++d) stride *= s[d];
  for (int64_t i = 0; i < x.type.num_elements(); ++i) {
    std::vector<int64_t> idx = unflatten(i, s);
    if (idx[axis] != 0) continue;  // one row per position of the other axes
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < s[axis]; ++j) mx = std::max(mx, x.get(i + j * stride));
    for (int64_t j = 0; j < s[axis]; ++j) sum += std::exp(x.get(i + j * stride) - mx);
    for (int64_t j = 0; j < s[axis]; ++j) {
      double v = x.get(i + j * stride) - mx;
      y[i + j * stride] = log ? v - std::log(sum) : std::exp(v) / sum;
    }
  }
  return y;
}

TEST_F(LowerPoolReduceTest, SoftmaxAndLogSoftmax) {
  HostTensor x = HostTensor::random(DType::kF32, {2, 5, 11}, 41, -30, 30);  // large values: needs the max shift
  for (bool log : {false, true})
    for (int64_t axis : {0, 1, 2}) {
      const ir::Node& n = node(log ? OpKind::kLogSoftmax : OpKind::kSoftmax, {x}, Attrs().set("axis", axis));
      SCOPED_TRACE(n.label() + " axis " + std::to_string(axis));
      check_node(n, {x}, softmax_ref(x, axis, log), 1e-5);
    }
  HostTensor big = HostTensor::of(DType::kF32, {1, 3}, {1000, 1001, 1002});
  check_node(node(OpKind::kSoftmax, {big}), {big}, softmax_ref(big, 1, false), 1e-5);
}

}  // namespace
}  // namespace kiln::ops::testing
