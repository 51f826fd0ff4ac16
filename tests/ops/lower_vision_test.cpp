// Lowering of the N-D pools (1-D and 3-D MaxPool/AveragePool, LpPool) and of
// ConvTranspose, run and compared with naive C++ references.
#include <cmath>
#include <functional>
#include <limits>

#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::Attrs;
using ir::OpKind;
using Ints = std::vector<int64_t>;

using LowerVisionTest = OneNodeTest;

// Calls f(idx) for every index of `shape`, row-major.
void for_each_index(const ir::Shape& shape, const std::function<void(const Ints&)>& f) {
  int64_t total = 1;
  for (int64_t d : shape) total *= d;
  for (int64_t i = 0; i < total; ++i) f(unflatten(i, shape));
}

int64_t flat(const Ints& idx, const ir::Shape& shape) {
  int64_t f = 0;
  for (size_t i = 0; i < shape.size(); ++i) f = f * shape[i] + idx[i];
  return f;
}

struct PoolNd {
  Ints kernel, strides, pads, dilations;
  bool ceil_mode, count_include_pad;
};

// max / average (in-bounds or padded-input count) / Lp over N-D windows.
std::vector<double> pool_nd_ref(OpKind op, const PoolNd& p, int64_t lp, const HostTensor& x, const ir::Shape& out) {
  const ir::Shape& s = x.type.shape;
  size_t k = s.size() - 2;
  std::vector<double> y;
  for_each_index(out, [&](const Ints& o) {
    double acc = op == OpKind::kMaxPool ? -std::numeric_limits<double>::infinity() : 0;
    int64_t count = 0;
    for_each_index(ir::Shape(p.kernel.begin(), p.kernel.end()), [&](const Ints& kv) {
      Ints in = {o[0], o[1]};
      bool inside = true, counted = true;
      for (size_t i = 0; i < k; ++i) {
        int64_t ii = o[2 + i] * p.strides[i] - p.pads[i] + kv[i] * p.dilations[i];
        inside = inside && ii >= 0 && ii < s[2 + i];
        counted = counted && ii < s[2 + i] + p.pads[k + i];
        in.push_back(ii);
      }
      if (p.count_include_pad ? counted : inside) ++count;
      if (!inside) return;
      double v = x.get(flat(in, s));
      if (op == OpKind::kMaxPool) acc = std::max(acc, v);
      else if (op == OpKind::kAveragePool) acc += v;
      else acc += std::pow(std::fabs(v), static_cast<double>(lp));
    });
    if (op == OpKind::kAveragePool) acc = count ? acc / count : 0;
    if (op == OpKind::kLpPool) acc = std::pow(acc, 1.0 / static_cast<double>(lp));
    y.push_back(acc);
  });
  return y;
}

TEST_F(LowerVisionTest, Pools1dAnd3d) {
  struct Case {
    ir::Shape x;
    PoolNd p;
  };
  std::vector<Case> cases = {
      {{2, 3, 17}, {{3}, {2}, {1, 1}, {1}, false, false}},
      {{1, 2, 16}, {{4}, {3}, {2, 3}, {1}, true, true}},
      {{1, 2, 15}, {{2}, {1}, {0, 1}, {3}, false, false}},
      {{1, 2, 6, 7, 9}, {{2, 2, 3}, {1, 2, 2}, {0, 1, 1, 1, 0, 1}, {1, 1, 1}, false, false}},
      {{1, 1, 5, 6, 7}, {{2, 2, 2}, {2, 2, 2}, {0, 0, 0, 1, 1, 1}, {2, 1, 2}, true, true}},
  };
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& c = cases[ci];
    HostTensor x = HostTensor::random(DType::kF32, c.x, 40 + static_cast<uint32_t>(ci));
    for (OpKind op : {OpKind::kMaxPool, OpKind::kAveragePool, OpKind::kLpPool}) {
      for (int64_t lp : op == OpKind::kLpPool ? Ints{1, 2, 3} : Ints{2}) {
        Attrs a = Attrs().set("kernel", c.p.kernel).set("strides", c.p.strides).set("pads", c.p.pads)
                      .set("dilations", c.p.dilations).set("ceil_mode", int64_t{c.p.ceil_mode})
                      .set("count_include_pad", int64_t{op == OpKind::kAveragePool && c.p.count_include_pad})
                      .set("p", lp);
        PoolNd p = c.p;
        p.count_include_pad = op == OpKind::kAveragePool && c.p.count_include_pad;
        const ir::Node& n = node(op, {x}, a);
        SCOPED_TRACE("case " + std::to_string(ci) + " " + n.label() + " p " + std::to_string(lp) + " -> " +
                     n.outputs[0]->type.str());
        check_node(n, {x}, pool_nd_ref(op, p, lp, x, n.outputs[0]->type.shape), 1e-4);
      }
    }
  }
}

// The flat input index of each window's first maximum (storage_order 1: the
// spatial dims column-major), as the ONNX reference.
std::vector<double> argmax_ref(const PoolNd& p, int64_t storage_order, const HostTensor& x, const ir::Shape& out) {
  const ir::Shape& s = x.type.shape;
  size_t k = s.size() - 2;
  std::vector<double> y;
  for_each_index(out, [&](const Ints& o) {
    double best = 0;
    int64_t arg = -1;
    for_each_index(ir::Shape(p.kernel.begin(), p.kernel.end()), [&](const Ints& kv) {
      Ints in = {o[0], o[1]};
      for (size_t i = 0; i < k; ++i) {
        int64_t ii = o[2 + i] * p.strides[i] - p.pads[i] + kv[i] * p.dilations[i];
        if (ii < 0 || ii >= s[2 + i]) return;
        in.push_back(ii);
      }
      double v = x.get(flat(in, s));
      if (arg >= 0 && !(v > best)) return;
      best = v;
      int64_t off = 0, step = 1;
      for (size_t j = 0; j < k; ++j) {
        size_t i = storage_order == 1 ? j : k - 1 - j;
        off += in[2 + i] * step;
        step *= s[2 + i];
      }
      arg = (o[0] * s[1] + o[1]) * step + off;
    });
    y.push_back(static_cast<double>(arg));
  });
  return y;
}

TEST_F(LowerVisionTest, MaxPoolIndices) {
  // Rounded values make ties: the first maximum wins.
  std::vector<double> v;
  HostTensor r = HostTensor::random(DType::kF32, {2, 3, 9, 21}, 5, -3, 3);
  for (int64_t i = 0; i < r.type.num_elements(); ++i) v.push_back(std::round(r.get(i)));
  HostTensor x = HostTensor::of(DType::kF32, {2, 3, 9, 21}, v);
  PoolNd p = {{3, 2}, {2, 1}, {1, 0, 1, 1}, {1, 2}, false, false};
  for (int64_t order : {0, 1}) {
    Attrs a = Attrs().set("kernel", p.kernel).set("strides", p.strides).set("pads", p.pads)
                  .set("dilations", p.dilations).set("storage_order", order);
    const ir::Node& n = node(OpKind::kMaxPoolIndices, {x}, a);
    EXPECT_EQ(n.outputs[0]->type.dtype, DType::kI64);
    SCOPED_TRACE("storage_order " + std::to_string(order));
    check_node(n, {x}, argmax_ref(p, order, x, n.outputs[0]->type.shape), 0);
  }
  HostTensor x1 = HostTensor::random(DType::kF32, {1, 2, 30}, 6);
  PoolNd p1 = {{4}, {3}, {1, 2}, {1}, false, false};
  const ir::Node& n1 = node(OpKind::kMaxPoolIndices, {x1}, Attrs().set("kernel", p1.kernel).set("strides", p1.strides)
                                                           .set("pads", p1.pads));
  check_node(n1, {x1}, argmax_ref(p1, 0, x1, n1.outputs[0]->type.shape), 0);
}

TEST_F(LowerVisionTest, PoolOutputShapes) {
  HostTensor x = HostTensor::random(DType::kF32, {1, 2, 10}, 1);
  const ir::Node& n = node(OpKind::kMaxPool, {x}, Attrs().set("kernel", Ints{3}).set("strides", Ints{2}).set("ceil_mode", int64_t{1}));
  EXPECT_EQ(n.outputs[0]->type.shape, (ir::Shape{1, 2, 5}));
  HostTensor x3 = HostTensor::random(DType::kF32, {1, 2, 4, 5, 6}, 1);
  const ir::Node& n3 = node(OpKind::kAveragePool, {x3}, Attrs().set("kernel", Ints{2, 2, 2}));
  EXPECT_EQ(n3.outputs[0]->type.shape, (ir::Shape{1, 2, 3, 4, 5}));
  std::vector<ir::Value*> in = {g_.add_input("bad", x3.type)};
  auto bad = g_.add_node(OpKind::kMaxPool, "bad", in, Attrs().set("kernel", Ints{2, 2}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.status().message().find("kernel [2, 2] must be 3 positive numbers") != std::string::npos)
      << bad.status().message();
}

struct ConvTCase {
  ir::Shape x, w;
  int64_t group;
  Ints strides, pads, dilations, out_pad;
  bool bias;
};

// out[n, m, o...] = b[m] + sum over (ic of m's group, taps) of x[n, ic, i...] * w[ic, m % mg, k...]
// where o = i * s - pad + k * d.
std::vector<double> conv_transpose_ref(const ConvTCase& c, const HostTensor& x, const HostTensor& w,
                                       const HostTensor* b, const ir::Shape& out) {
  size_t k = c.x.size() - 2;
  int64_t cg = c.x[1] / c.group, mg = c.w[1];
  std::vector<double> y(ir::TensorType{DType::kF32, out}.num_elements(), 0.0);
  for_each_index(c.x, [&](const Ints& xi) {
    int64_t g = xi[1] / cg;
    for (int64_t mi = 0; mi < mg; ++mi) {
      for_each_index(ir::Shape(c.w.begin() + 2, c.w.end()), [&](const Ints& kv) {
        Ints o = {xi[0], g * mg + mi};
        for (size_t i = 0; i < k; ++i) {
          int64_t oi = xi[2 + i] * c.strides[i] - c.pads[i] + kv[i] * c.dilations[i];
          if (oi < 0 || oi >= out[2 + i]) return;
          o.push_back(oi);
        }
        Ints wi = {xi[1], mi};
        wi.insert(wi.end(), kv.begin(), kv.end());
        y[flat(o, out)] += x.get(flat(xi, c.x)) * w.get(flat(wi, c.w));
      });
    }
  });
  if (b)
    for_each_index(out, [&](const Ints& o) { y[flat(o, out)] += b->get(o[1]); });
  return y;
}

TEST_F(LowerVisionTest, ConvTranspose) {
  std::vector<ConvTCase> cases = {
      {{1, 1, 3, 3}, {1, 2, 3, 3}, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, {0, 0}, false},
      {{2, 3, 4, 5}, {3, 2, 3, 3}, 1, {3, 2}, {1, 2, 1, 0}, {1, 1}, {1, 1}, true},
      {{1, 4, 5, 4}, {4, 3, 2, 3}, 2, {2, 2}, {0, 1, 1, 0}, {2, 1}, {0, 1}, true},
      {{1, 3, 4, 37}, {3, 4, 3, 4}, 1, {2, 2}, {1, 1, 1, 1}, {1, 1}, {0, 1}, true},  // wide: vectorized phases
      {{1, 4, 3, 19}, {4, 4, 2, 3}, 2, {1, 2}, {0, 1, 1, 0}, {1, 1}, {0, 0}, true},  // 2 groups, 4-channel blocks
      {{1, 2, 3, 20}, {2, 2, 1, 1}, 1, {3, 3}, {0, 0, 0, 0}, {1, 1}, {2, 2}, true},  // phases without taps
      {{1, 2, 9}, {2, 3, 4}, 1, {2}, {1, 2}, {1}, {1}, true},                                     // 1-D
      {{1, 2, 3, 4, 3}, {2, 2, 2, 3, 2}, 1, {2, 1, 2}, {0, 1, 0, 0, 0, 1}, {1, 1, 2}, {1, 0, 0}, false},  // 3-D
  };
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const ConvTCase& c = cases[ci];
    HostTensor x = HostTensor::random(DType::kF32, c.x, 60 + static_cast<uint32_t>(ci));
    HostTensor w = HostTensor::random(DType::kF32, c.w, 70 + static_cast<uint32_t>(ci));
    HostTensor b = HostTensor::random(DType::kF32, {c.w[1] * c.group}, 80 + static_cast<uint32_t>(ci));
    std::vector<HostTensor> ins = {x, w};
    if (c.bias) ins.push_back(b);
    Attrs a = Attrs().set("strides", c.strides).set("pads", c.pads).set("dilations", c.dilations)
                  .set("output_padding", c.out_pad).set("group", c.group);
    const ir::Node& n = node(OpKind::kConvTranspose, ins, a);
    SCOPED_TRACE("case " + std::to_string(ci) + " -> " + n.outputs[0]->type.str());
    check_node(n, ins, conv_transpose_ref(c, x, w, c.bias ? &b : nullptr, n.outputs[0]->type.shape), 1e-4);
  }
}

TEST_F(LowerVisionTest, ConvTransposeShapeAndErrors) {
  HostTensor x = HostTensor::random(DType::kF32, {1, 2, 3, 3}, 1);
  HostTensor w = HostTensor::random(DType::kF32, {2, 4, 3, 3}, 2);
  const ir::Node& n = node(OpKind::kConvTranspose, {x, w},
                           Attrs().set("strides", Ints{3, 2}).set("pads", Ints{1, 0, 1, 0}).set("output_padding", Ints{1, 0}));
  // (3-1)*3 + 1 + 3 - 2 = 8; (3-1)*2 + 3 = 7.
  EXPECT_EQ(n.outputs[0]->type.shape, (ir::Shape{1, 4, 8, 7}));
  std::vector<ir::Value*> in = {g_.add_input("bx", x.type), g_.add_input("bw", w.type)};
  auto bad = g_.add_node(OpKind::kConvTranspose, "bad", in, Attrs().set("group", int64_t{3}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.status().message().find("do not agree") != std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace kiln::ops::testing
