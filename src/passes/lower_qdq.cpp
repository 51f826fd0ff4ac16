// QDQ patterns -> integer Conv/MatMul with a requantize epilogue; int8 data
// movement; Q(DQ) cancellation; the per-kernel precision report.
#include "passes/lower_qdq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <map>

#include "base/check.h"
#include "ops/quant_types.h"

namespace kiln::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Shape;
using ir::Tensor;
using ir::Value;

bool produced_by(const Value* v, OpKind op) { return v->producer && v->producer->op == op; }

// `t` with another shape of the same size (the bytes are shared).
Tensor with_shape(const Tensor& t, const Shape& shape) {
  return Tensor(ir::TensorType{t.type().dtype, shape}, std::vector<uint8_t>(t.bytes(), t.bytes() + t.num_bytes()));
}

// Transpose of a constant: out dim i is in dim perm[i].
Tensor transpose_tensor(const Tensor& t, const std::vector<int64_t>& perm) {
  const Shape& in = t.type().shape;
  Shape out(in.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = in[perm[i]];
  Tensor r(ir::TensorType{t.type().dtype, out});
  int64_t es = dtype_size(t.type().dtype), n = t.type().num_elements();
  std::vector<int64_t> in_strides(in.size(), 1);
  for (size_t d = in.size(); d-- > 1;) in_strides[d - 1] = in_strides[d] * in[d];
  std::vector<int64_t> idx(out.size(), 0);
  for (int64_t o = 0; o < n; ++o) {
    int64_t src = 0;
    for (size_t d = 0; d < out.size(); ++d) src += idx[d] * in_strides[perm[d]];
    std::memcpy(r.mutable_data<uint8_t>() + o * es, t.bytes() + src * es, es);
    for (size_t d = out.size(); d-- > 0;) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return r;
}

// `p` (broadcast against a tensor of rank `rank`) as rank `rank`: leading 1s.
Tensor full_rank(const Tensor& p, size_t rank) {
  Shape s = p.type().shape;
  while (s.size() < rank) s.insert(s.begin(), 1);
  return with_shape(p, s);
}

// Equal parameters: the same value, or constants of one dtype with the same values.
bool same_param(const Value* a, const Value* b) {
  if (a == b) return true;
  if (!a->is_constant() || !b->is_constant() || a->type.dtype != b->type.dtype) return false;
  if (a->type.num_elements() == 1 && b->type.num_elements() == 1)
    return a->constant->get_f64(0) == b->constant->get_f64(0);
  return a->type.shape == b->type.shape &&
         std::memcmp(a->constant->bytes(), b->constant->bytes(), a->constant->num_bytes()) == 0;
}

bool same_params(const Node* p, const Node* q) {
  return same_param(p->inputs[1], q->inputs[1]) && same_param(p->inputs[2], q->inputs[2]);
}

// The values of constant `p`, broadcast against shape `full`, along `axis`: one
// value when p has one element, full[axis] values when p varies only along
// axis; nullopt otherwise.
std::optional<std::vector<double>> along_axis(const Value* p, const Shape& full, size_t axis) {
  if (!p->is_constant() || p->type.rank() > static_cast<int64_t>(full.size())) return std::nullopt;
  const Shape& s = p->type.shape;
  size_t off = full.size() - s.size();
  bool varies = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 1) continue;
    if (off + i != axis || s[i] != full[axis]) return std::nullopt;
    varies = true;
  }
  std::vector<double> v(varies ? full[axis] : 1);
  for (size_t i = 0; i < v.size(); ++i) v[i] = p->constant->get_f64(static_cast<int64_t>(i));
  return v;
}

// --- 1. data movement in int8 ------------------------------------------------

bool moves_data(OpKind op) {
  switch (op) {
    case OpKind::kReshape:
    case OpKind::kTranspose:
    case OpKind::kSlice:
    case OpKind::kGather:
    case OpKind::kExpand:
    case OpKind::kIdentity:
    case OpKind::kConcat:
    case OpKind::kMaxPool: return true;
    default: return false;
  }
}

// A one-element parameter as a rank-0 value (null when it cannot be made one).
Value* rank0(ir::Graph& g, Value* p) {
  if (p->type.rank() == 0) return p;
  if (!p->is_constant() || p->type.num_elements() != 1) return nullptr;
  return g.add_constant(g.unique_name(p->name + "_scalar"), with_shape(*p->constant, {}));
}

// Moves the DequantizeLinear(s) feeding data-movement node `n` after it. Returns
// false (changing nothing) when that is not legal.
bool sink_through(ir::Graph& g, Node* n) {
  if (!moves_data(n->op) || n->outputs.size() != 1 || !dtype_is_float(n->outputs[0]->type.dtype)) return false;
  size_t data_inputs = n->op == OpKind::kConcat ? n->inputs.size() : 1;
  Node* first = nullptr;
  for (size_t i = 0; i < data_inputs; ++i) {
    Value* in = n->inputs[i];
    if (!produced_by(in, OpKind::kDequantizeLinear)) return false;
    Node* d = in->producer;
    if (!first) first = d;
    if (d->inputs[0]->type.dtype != first->inputs[0]->type.dtype || !same_params(d, first) ||
        !(d->attrs == first->attrs))
      return false;
  }
  Value* s = first->inputs[1];
  Value* z = first->inputs[2];
  bool per_tensor = s->type.num_elements() == 1 && z->type.num_elements() == 1;
  if (n->op == OpKind::kMaxPool) {  // max commutes with a positive scale only
    if (!per_tensor || !s->is_constant() || !(s->constant->get_f64(0) > 0)) return false;
  }
  if (per_tensor) {
    s = rank0(g, s);
    z = rank0(g, z);
    if (!s || !z) return false;
  } else {
    // Per-axis parameters follow a Transpose (they have x's rank); nothing else.
    int64_t rank = first->inputs[0]->type.rank();
    if (n->op != OpKind::kTranspose || !s->is_constant() || !z->is_constant() || s->type.rank() != rank ||
        z->type.rank() != rank)
      return false;
    std::vector<int64_t> perm = n->attrs.get_ints("perm");
    s = g.add_constant(g.unique_name(s->name + "_transposed"), transpose_tensor(*s->constant, perm));
    z = g.add_constant(g.unique_name(z->name + "_transposed"), transpose_tensor(*z->constant, perm));
  }
  std::vector<Value*> ins = n->inputs;
  for (size_t i = 0; i < data_inputs; ++i) ins[i] = n->inputs[i]->producer->inputs[0];
  Value* moved = nullptr;
  if ((n->op == OpKind::kTranspose || n->op == OpKind::kReshape) && ins[0]->is_constant()) {
    // Constant weights (Gemm's transB): transpose or reshape them here, so that
    // step 3 sees a DequantizeLinear of constants.
    const Tensor& t = *ins[0]->constant;
    moved = g.add_constant(g.unique_name(ins[0]->name + (n->op == OpKind::kTranspose ? "_transposed" : "_reshaped")),
                           n->op == OpKind::kTranspose ? transpose_tensor(t, n->attrs.get_ints("perm"))
                                                       : with_shape(t, n->outputs[0]->type.shape));
  } else {
    auto node = g.add_node(n->op, n->name, ins, n->attrs);
    if (!node) return false;  // the op does not take integers: leave it in float
    moved = (*node)->outputs[0];
  }
  auto dq = g.add_node(OpKind::kDequantizeLinear, n->name + "/dequantize", {moved, s, z}, first->attrs);
  KILN_CHECK(dq.has_value()) << "lower_qdq: " << dq.status().message();
  g.replace_all_uses(n->outputs[0], (*dq)->outputs[0]);
  g.remove_node(n);
  return true;
}

// --- 2. Q(DQ(q)) -------------------------------------------------------------

bool cancel_pair(ir::Graph& g, Node* q) {
  if (q->op != OpKind::kQuantizeLinear || !produced_by(q->inputs[0], OpKind::kDequantizeLinear)) return false;
  Node* d = q->inputs[0]->producer;
  Value* orig = d->inputs[0];
  if (orig->type != q->outputs[0]->type || !same_params(d, q)) return false;
  g.replace_all_uses(q->outputs[0], orig);
  g.remove_node(q);
  return true;
}

// --- 3. integer Conv / MatMul --------------------------------------------------

// A DequantizeLinear of constants (through Transposes), as int weights with
// their scale and zero point of the weights' rank.
struct ConstDequantized {
  Tensor q, scale, zero;
};

// QuantizeLinear of float32 constants (weights exported as float -> Q -> DQ),
// computed as the kernel would; nullopt for other types.
std::optional<Tensor> quantize_constant(const Node* q) {
  const Tensor& x = *q->inputs[0]->constant;
  if (x.type().dtype != DType::kF32 || q->inputs[1]->type.dtype != DType::kF32) return std::nullopt;
  size_t rank = x.type().shape.size();
  Tensor s = full_rank(*q->inputs[1]->constant, rank), z = full_rank(*q->inputs[2]->constant, rank);
  DType t = q->outputs[0]->type.dtype;
  Tensor out(ir::TensorType{t, x.type().shape});
  const Shape& shape = x.type().shape;
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < x.type().num_elements(); ++i) {
    int64_t si = 0, zi = 0;  // broadcast flat indices (size-1 dims read 0)
    for (size_t d = 0; d < rank; ++d) {
      si = si * s.type().shape[d] + (s.type().shape[d] == 1 ? 0 : idx[d]);
      zi = zi * z.type().shape[d] + (z.type().shape[d] == 1 ? 0 : idx[d]);
    }
    int64_t v = ops::quantize_value(x.data<float>()[i], s.data<float>()[si], z.get_i64(zi), t);
    if (t == DType::kI8) out.mutable_data<int8_t>()[i] = static_cast<int8_t>(v);
    else out.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(v);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

bool all_constant(const Node* n) {
  return std::all_of(n->inputs.begin(), n->inputs.end(), [](const Value* v) { return v->is_constant(); });
}

std::optional<ConstDequantized> constant_weights(Value* v, std::string* why) {
  std::vector<std::vector<int64_t>> perms;
  while (produced_by(v, OpKind::kTranspose)) {
    perms.push_back(v->producer->attrs.get_ints("perm"));
    v = v->producer->inputs[0];
  }
  if (!produced_by(v, OpKind::kDequantizeLinear)) {
    *why = "its weights are not dequantized integers (float weights)";
    return std::nullopt;
  }
  Node* d = v->producer;
  std::optional<Tensor> q;
  const Node* qn = d->inputs[0]->producer;
  if (qn && qn->op == OpKind::kQuantizeLinear && all_constant(qn)) q = quantize_constant(qn);
  if (!q && d->inputs[0]->is_constant()) q = *d->inputs[0]->constant;
  for (Value* in : d->inputs)
    if (!(q && in == d->inputs[0]) && !in->is_constant()) {
      *why = "its weights' DequantizeLinear has a non-constant input ('" + in->name + "')";
      return std::nullopt;
    }
  if (!ops::is_quantized_type(d->inputs[0]->type.dtype)) {
    *why = "its weights are " + std::string(dtype_name(d->inputs[0]->type.dtype)) + ", not uint8 or int8";
    return std::nullopt;
  }
  size_t rank = d->inputs[0]->type.shape.size();
  ConstDequantized w{*q, full_rank(*d->inputs[1]->constant, rank),
                     full_rank(*d->inputs[2]->constant, rank)};
  for (auto it = perms.rbegin(); it != perms.rend(); ++it) {
    w.q = transpose_tensor(w.q, *it);
    w.scale = transpose_tensor(w.scale, *it);
    w.zero = transpose_tensor(w.zero, *it);
  }
  return w;
}

// along_axis for a tensor (not a Value).
std::optional<std::vector<double>> tensor_along_axis(const Tensor& t, const Shape& full, size_t axis) {
  Value tmp;
  tmp.type = t.type();
  tmp.constant = t;
  return along_axis(&tmp, full, axis);
}

// A per-tensor DequantizeLinear of constant scale and zero point.
struct Activation {
  Value* q;
  float scale;
  int64_t zero;
};

std::optional<Activation> activation(Value* x, std::string* why) {
  if (!produced_by(x, OpKind::kDequantizeLinear)) {
    *why = "its input is not dequantized (the activation is float)";
    return std::nullopt;
  }
  Node* d = x->producer;
  Value *q = d->inputs[0], *s = d->inputs[1], *z = d->inputs[2];
  if (!ops::is_quantized_type(q->type.dtype)) {
    *why = "its input is dequantized from " + std::string(dtype_name(q->type.dtype));
    return std::nullopt;
  }
  if (!s->is_constant() || !z->is_constant() || s->type.num_elements() != 1 || z->type.num_elements() != 1 ||
      s->type.dtype != DType::kF32) {
    *why = "its input's quantization is not per-tensor with a constant float32 scale";
    return std::nullopt;
  }
  return Activation{q, static_cast<float>(s->constant->get_f64(0)), z->constant->get_i64(0)};
}

// The bias in accumulator units (scale x_scale * w_scale[c]) from a constant
// float or a DequantizeLinear of a constant int32; `channels` values.
std::optional<std::vector<int32_t>> bias_in_acc(Value* b, const Shape& out, size_t axis,
                                                const std::vector<float>& acc_scale, std::string* why) {
  std::optional<std::vector<double>> value, q, bs, bz;
  if (produced_by(b, OpKind::kDequantizeLinear) && b->producer->inputs[0]->type.dtype == DType::kI32) {
    Node* d = b->producer;
    // The int32 and its parameters broadcast like the bias.
    Value* bq = d->inputs[0];
    q = along_axis(bq, out, axis);
    bs = along_axis(d->inputs[1], bq->type.shape, bq->type.rank() ? bq->type.rank() - 1 : 0);
    bz = along_axis(d->inputs[2], bq->type.shape, bq->type.rank() ? bq->type.rank() - 1 : 0);
    if (!q || !bs || !bz) {
      *why = "its bias is not a constant per-channel int32";
      return std::nullopt;
    }
  } else if (b->is_constant() && dtype_is_float(b->type.dtype)) {
    value = along_axis(b, out, axis);
  }
  if (!q && !value) {
    *why = "its bias is not constant per output channel";
    return std::nullopt;
  }
  size_t n = acc_scale.size();
  std::vector<int32_t> acc(n);
  for (size_t c = 0; c < n; ++c) {
    double r;
    if (q) {
      double qv = (*q)[q->size() == 1 ? 0 : c] - (*bz)[bz->size() == 1 ? 0 : c];
      double s = (*bs)[bs->size() == 1 ? 0 : c];
      // The quantizers' bias scale is exactly x_scale * w_scale: then the int32 is exact.
      r = std::fabs(s - acc_scale[c]) <= 1e-6 * std::fabs(acc_scale[c]) ? qv : std::nearbyint(qv * s / acc_scale[c]);
    } else {
      r = std::nearbyint((*value)[value->size() == 1 ? 0 : c] / acc_scale[c]);
    }
    if (!(std::fabs(r) < 2147483647.0)) {
      *why = "its bias does not fit the int32 accumulator";
      return std::nullopt;
    }
    acc[c] = static_cast<int32_t>(r);
  }
  return acc;
}

// The only user of `v`, if it has exactly one and is not a graph output.
Node* single_user(const ir::Graph& g, const Value* v) {
  if (g.is_graph_output(v)) return nullptr;
  std::vector<Node*> u = g.users(v);
  return u.size() == 1 ? u[0] : nullptr;
}

Tensor int_tensor(DType t, const Shape& shape, const std::vector<int64_t>& v) {
  Tensor r(ir::TensorType{t, shape});
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == DType::kI32) r.mutable_data<int32_t>()[i] = static_cast<int32_t>(v[i]);
    else if (t == DType::kI8) r.mutable_data<int8_t>()[i] = static_cast<int8_t>(v[i]);
    else r.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(v[i]);
  }
  return r;
}

// Rewrites float Conv/MatMul `n` into an integer layer; returns the reason when it does not.
std::optional<std::string> lower_layer(ir::Graph& g, Node* n, const ops::KernelOptions& opts) {
  std::string why;
  bool conv = n->op == OpKind::kConv;
  Value* y = n->outputs[0];
  if (y->type.dtype != DType::kF32) return "it is not float32";
  std::optional<Activation> x = activation(n->inputs[0], &why);
  if (!x) return why;
  std::optional<ConstDequantized> w = constant_weights(n->inputs[1], &why);
  if (!w) return why;
  const Shape& ws = w->q.type().shape;
  if (!conv && ws.size() != 2) return "its weights " + w->q.type().str() + " are not a matrix";
  int64_t groups = conv ? n->attrs.get_int("group", 1) : 1;
  if (conv && opts.level >= 3 && ws.size() == 4 && groups > 1 && ws[0] / groups < 4)
    return "depthwise (fewer than 4 output channels per group): the fp32 depthwise kernel is faster than int8 "
           "plain loops (the tiled int8 kernel needs blocks of output channels)";
  size_t oc_axis = conv ? 0 : 1;  // the weights' output-channel axis
  size_t channels = ws[oc_axis];
  auto sw = tensor_along_axis(w->scale, ws, oc_axis);
  auto zw = tensor_along_axis(w->zero, ws, oc_axis);
  if (!sw || !zw) return "its weights are quantized along an axis other than the output channels";
  if (w->scale.type().dtype != DType::kF32) return "its weights' scale is not float32";

  std::vector<float> acc_scale(channels);
  for (size_t c = 0; c < channels; ++c) acc_scale[c] = x->scale * static_cast<float>((*sw)[sw->size() == 1 ? 0 : c]);

  // The bias: Conv's third input, or a MatMul's single Add user along the last axis.
  size_t y_axis = conv ? 1 : static_cast<size_t>(y->type.rank() - 1);
  Value* out = y;  // the float value the integer layer replaces
  std::optional<std::vector<int32_t>> bias;
  if (conv && n->inputs.size() == 3) {
    Value* b = n->inputs[2];
    bias = bias_in_acc(b, Shape{static_cast<int64_t>(channels)}, 0, acc_scale, &why);
    if (!bias) return why;
  } else if (!conv) {
    Node* add = single_user(g, y);
    if (add && add->op == OpKind::kAdd && add->outputs[0]->type == y->type) {
      Value* b = add->inputs[0] == y ? add->inputs[1] : add->inputs[0];
      std::string bias_why;
      bias = bias_in_acc(b, y->type.shape, y_axis, acc_scale, &bias_why);
      if (bias) out = add->outputs[0];
    }
  }

  // The output: Requantize into a following per-tensor QuantizeLinear (through
  // one Relu or Clip), else dequantize the accumulator.
  Node* act = nullptr;
  Node* q = single_user(g, out);
  if (q && (q->op == OpKind::kRelu || q->op == OpKind::kClip)) {
    act = q;
    q = single_user(g, act->outputs[0]);
  }
  bool requantize = q && q->op == OpKind::kQuantizeLinear && q->inputs[0] == (act ? act->outputs[0] : out) &&
                    q->inputs[1]->is_constant() && q->inputs[2]->is_constant() &&
                    q->inputs[1]->type.num_elements() == 1 && q->inputs[2]->type.num_elements() == 1 &&
                    q->inputs[1]->type.dtype == DType::kF32;
  float sy = requantize ? static_cast<float>(q->inputs[1]->constant->get_f64(0)) : 0.f;
  if (requantize && act && !(sy > 0)) requantize = false;  // the clamp needs a monotone quantization

  std::string base = n->name.empty() ? y->name : n->name;
  Value* xz = g.add_constant(g.unique_name(base + "/x_zero_point"), int_tensor(x->q->type.dtype, {}, {x->zero}));
  DType wt = w->q.type().dtype;
  std::vector<int64_t> zw_int(zw->begin(), zw->end());
  if (std::all_of(zw_int.begin(), zw_int.end(), [&](int64_t v) { return v == zw_int[0]; })) zw_int.resize(1);
  Value* wz = g.add_constant(
      g.unique_name(base + "/w_zero_point"),
      zw_int.size() == 1 ? int_tensor(wt, {}, zw_int) : int_tensor(wt, {static_cast<int64_t>(channels)}, zw_int));
  Value* wq = g.add_constant(g.unique_name(base + "/weight_q"), w->q);
  ir::Attrs attrs;
  if (conv)
    for (const char* k : {"strides", "pads", "dilations", "group"})
      if (n->attrs.has(k)) attrs.set(k, n->attrs.all().at(k));
  auto integer = g.add_node(conv ? OpKind::kConvInteger : OpKind::kMatMulInteger, base, {x->q, wq, xz, wz}, attrs);
  if (!integer) return "its integer form is invalid: " + integer.status().message();
  Value* acc = (*integer)->outputs[0];

  // Per-channel constants broadcast like the accumulator's channel axis.
  Shape channel_shape = conv ? Shape{static_cast<int64_t>(channels), 1, 1} : Shape{static_cast<int64_t>(channels)};
  if (bias) {
    std::vector<int64_t> b(bias->begin(), bias->end());
    Value* bc = g.add_constant(g.unique_name(base + "/bias_q"), int_tensor(DType::kI32, channel_shape, b));
    auto added = g.add_node(OpKind::kAdd, base + "/bias", {acc, bc});
    KILN_CHECK(added.has_value()) << added.status().message();
    acc = (*added)->outputs[0];
  }
  auto per_channel = [&](const std::vector<float>& v) {
    bool uniform = std::all_of(v.begin(), v.end(), [&](float f) { return f == v[0]; });
    return uniform ? Tensor::from_f32({}, {v[0]}) : Tensor::from_f32(channel_shape, v);
  };
  if (requantize) {
    DType ot = q->outputs[0]->type.dtype;
    int64_t zy = q->inputs[2]->constant->get_i64(0);
    std::vector<float> mult(channels);
    for (size_t c = 0; c < channels; ++c) mult[c] = acc_scale[c] / sy;
    ir::Attrs clamp;
    if (act) {
      int64_t lo = ops::quantized_min(ot), hi = ops::quantized_max(ot);
      if (act->op == OpKind::kRelu) lo = std::max(lo, zy);
      if (act->op == OpKind::kClip && act->attrs.has("min"))
        lo = std::max(lo, ops::quantize_value(static_cast<float>(act->attrs.get_float("min")), sy, zy, ot));
      if (act->op == OpKind::kClip && act->attrs.has("max"))
        hi = std::min(hi, ops::quantize_value(static_cast<float>(act->attrs.get_float("max")), sy, zy, ot));
      if (lo > hi) lo = hi;  // an empty clip range: every value is the bound
      clamp.set("min", lo).set("max", hi);
    }
    Value* m = g.add_constant(g.unique_name(base + "/multiplier"), per_channel(mult));
    Value* zc = g.add_constant(g.unique_name(base + "/y_zero_point"), int_tensor(ot, {}, {zy}));
    auto rq = g.add_node(OpKind::kRequantize, base + "/requantize", {acc, m, zc}, clamp);
    KILN_CHECK(rq.has_value()) << rq.status().message();
    g.replace_all_uses(q->outputs[0], (*rq)->outputs[0]);
    return std::nullopt;
  }
  Value* s = g.add_constant(g.unique_name(base + "/acc_scale"), per_channel(acc_scale));
  Value* z0 = g.add_constant(g.unique_name(base + "/acc_zero"), int_tensor(DType::kI32, {}, {0}));
  auto dq = g.add_node(OpKind::kDequantizeLinear, base + "/dequantize", {acc, s, z0},
                       ir::Attrs().set("to", static_cast<int64_t>(DType::kF32)));
  KILN_CHECK(dq.has_value()) << dq.status().message();
  g.replace_all_uses(out, (*dq)->outputs[0]);
  return std::nullopt;
}

// --- 4. DequantizeLinear(Requantize) ---------------------------------------

// A Requantize whose only user dequantizes it per tensor to float32 computes
// that float itself (ops/quantize.cpp: dequantize_scale, dequantize_zero), with
// no round trip through the integer type (a residual block's conv before its
// Add). Of several such DequantizeLinears feeding one node (a projection
// shortcut's conv and the main branch's, into the residual Add) only one folds:
// the one whose integer conv comes first in graph order, as that conv's kernel
// takes the Add (passes/fuse_elementwise grows groups in graph order); the
// others stay int8 in memory and join it as dequantized side inputs. (Folding
// another would store its float: 4 bytes an element, 3.2 MB at ResNet-50's
// 256x56x56, read back by the Add's kernel.)
bool foldable_dequantize(const ir::Graph& g, const Node* dq) {
  if (dq->op != OpKind::kDequantizeLinear || !produced_by(dq->inputs[0], OpKind::kRequantize)) return false;
  const Node* rq = dq->inputs[0]->producer;
  const Value *s = dq->inputs[1], *z = dq->inputs[2];
  return single_user(g, rq->outputs[0]) == dq && !rq->attrs.has(ops::kDequantizeScale) && s->is_constant() &&
         z->is_constant() && s->type.num_elements() == 1 && z->type.num_elements() == 1 &&
         s->type.dtype == DType::kF32 && dq->outputs[0]->type.dtype == DType::kF32 &&
         rq->inputs[2]->is_constant() && rq->inputs[2]->type.num_elements() == 1;
}

// The node a Requantize's kernel is built around: the integer Conv/MatMul
// above it (through its bias Add), else the Requantize itself.
const Node* requantize_anchor(const Node* rq) {
  const Node* n = rq;
  for (int i = 0; i < 3 && n; ++i) {
    if (n->op == OpKind::kConvInteger || n->op == OpKind::kMatMulInteger) return n;
    n = n->inputs.empty() ? nullptr : n->inputs[0]->producer;
  }
  return rq;
}

// Replaces `dq` and its Requantize by the Requantize dequantized in place.
void fold_into_requantize(ir::Graph& g, Node* dq) {
  Node* rq = dq->inputs[0]->producer;
  ir::Attrs attrs = rq->attrs;
  attrs.set(ops::kDequantizeScale, dq->inputs[1]->constant->get_f64(0))
      .set(ops::kDequantizeZero, dq->inputs[2]->constant->get_i64(0));
  auto folded = g.add_node(OpKind::kRequantize, rq->name, rq->inputs, attrs);
  KILN_CHECK(folded.has_value()) << folded.status().message();
  g.replace_all_uses(dq->outputs[0], (*folded)->outputs[0]);
  g.remove_node(dq);
  g.remove_node(rq);
}

// Folds the DequantizeLinear(Requantize) pairs above (graph order: g sorted).
void dequantize_in_place(ir::Graph& g) {
  std::map<const Node*, size_t> position;
  for (size_t i = 0; i < g.nodes().size(); ++i) position[g.nodes()[i].get()] = i;
  // Per user, its foldable input that comes first; a pair without a single user folds.
  std::map<const Node*, Node*> first;
  std::vector<Node*> fold;
  for (const auto& node : g.nodes()) {
    Node* dq = node.get();
    if (!foldable_dequantize(g, dq)) continue;
    const Node* user = single_user(g, dq->outputs[0]);
    if (!user) {
      fold.push_back(dq);
      continue;
    }
    auto at = [&](const Node* d) { return position.at(requantize_anchor(d->inputs[0]->producer)); };
    auto [it, fresh] = first.emplace(user, dq);
    if (!fresh && at(dq) < at(it->second)) it->second = dq;
  }
  for (const auto& [user, dq] : first) fold.push_back(dq);
  std::sort(fold.begin(), fold.end(), [&](const Node* a, const Node* b) { return position.at(a) < position.at(b); });
  for (Node* dq : fold) fold_into_requantize(g, dq);
}

// Nodes as a stable list (passes add nodes while they walk).
std::vector<Node*> node_list(const ir::Graph& g) {
  std::vector<Node*> v;
  for (const auto& n : g.nodes()) v.push_back(n.get());
  return v;
}

bool reads_dequantized(const Node* n) {
  for (const Value* in : n->inputs)
    if (produced_by(in, OpKind::kDequantizeLinear)) return true;
  // Through a Transpose of the weights (Gemm's transB).
  for (const Value* in : n->inputs)
    if (produced_by(in, OpKind::kTranspose) && produced_by(in->producer->inputs[0], OpKind::kDequantizeLinear))
      return true;
  return false;
}

bool is_quant_op(OpKind op) {
  return op == OpKind::kQuantizeLinear || op == OpKind::kDequantizeLinear || op == OpKind::kRequantize ||
         op == OpKind::kConvInteger || op == OpKind::kMatMulInteger;
}

std::string precision_name(DType t) {
  if (t == DType::kF32) return "fp32";
  if (t == DType::kF16) return "fp16";
  if (t == DType::kF64) return "fp64";
  if (ops::is_quantized_type(t)) return "int8";
  return dtype_name(t);
}

}  // namespace

void lower_qdq(ir::Graph& g, const ops::KernelOptions& opts) {
  if (!has_quantization(g)) return;
  for (bool changed = true; changed;) {
    changed = false;
    for (Node* n : node_list(g)) {
      if (sink_through(g, n) || cancel_pair(g, n)) {
        changed = true;
        g.topo_sort();
        break;
      }
    }
  }
  for (Node* n : node_list(g)) {
    if (n->op != OpKind::kConv && n->op != OpKind::kMatMul) continue;
    if (!reads_dequantized(n)) continue;
    if (std::optional<std::string> why = lower_layer(g, n, opts)) n->attrs.set(kWhyFp32, *why);
  }
  g.topo_sort();  // (lower_layer appended the integer layers: order them)
  dequantize_in_place(g);
  if (opts.fma)
    for (Node* n : node_list(g))
      if (n->op == OpKind::kQuantizeLinear) n->attrs.set(ops::kQuantizeByReciprocal, int64_t{1});
  g.topo_sort();
}

bool has_quantization(const ir::Graph& g) {
  for (const auto& n : g.nodes())
    if (is_quant_op(n->op)) return true;
  return false;
}

LayerPrecision layer_precision(const lower::FusedGroup& group, bool quantized) {
  const Node* a = group.anchor();
  std::string op = ir::op_name(a->op);
  // The float arithmetic of the group (the conversions Q/DQ aside).
  std::string float_ops;
  DType float_type = DType::kF32;
  bool edge = false;
  for (const Node* n : group.nodes) {
    edge = edge || is_quant_op(n->op);
    for (const Value* in : n->inputs) edge = edge || (in->producer && is_quant_op(in->producer->op));
    if (is_quant_op(n->op) || !dtype_is_float(n->outputs[0]->type.dtype)) continue;
    std::string name = ir::op_name(n->op);
    if (float_ops.find(name) == std::string::npos) float_ops += (float_ops.empty() ? "" : "+") + name;
    float_type = n->outputs[0]->type.dtype;
  }
  std::string mixed = "runs in fp32 between DequantizeLinear and QuantizeLinear (mixed)";
  if (a->op == OpKind::kConvInteger || a->op == OpKind::kMatMulInteger) {
    // (Input 3, the weights' zero point, has their type also when they are packed.)
    std::string r = std::string(dtype_name(a->inputs[0]->type.dtype)) + " activations x " +
                    dtype_name(a->inputs[3]->type.dtype) + " weights (" +
                    (a->inputs[3]->type.num_elements() > 1 ? "per-channel zero points, " : "") + "int32 accumulation)";
    const Node* rq = nullptr;
    for (const Node* n : group.nodes)
      if (n->op == OpKind::kRequantize) rq = n;
    if (rq)
      r += ", requantized to " + std::string(dtype_name(rq->inputs[2]->type.dtype)) + " in the epilogue (" +
           (rq->inputs[1]->type.num_elements() > 1 ? "per-channel" : "per-tensor") + " scale" +
           (rq->attrs.has("min") ? ", activation as a clamp" : "") +
           (rq->attrs.has(ops::kDequantizeScale) ? ", dequantized in place" : "") + ")";
    else r += ", dequantized to fp32 in the epilogue";
    if (!float_ops.empty()) r += "; the fused " + float_ops + " " + mixed;
    return {"int8", op + ": " + r};
  }
  if (!float_ops.empty()) {
    std::string p = precision_name(float_type);
    if (!quantized) return {p, "the model is not quantized"};
    if (a->attrs.has(kWhyFp32)) {
      const auto& v = a->attrs.all().at(kWhyFp32);
      return {p, op + " has no int8 form here: " +
                     (std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "")};
    }
    if (edge) return {p, "no int8 kernel for " + float_ops + ": " + mixed};
    return {p, "not quantized in the model"};
  }
  if (a->op == OpKind::kQuantizeLinear) return {"int8", "QuantizeLinear: fp32 -> int8 for the int8 layers that follow"};
  if (a->op == OpKind::kDequantizeLinear && ops::is_quantized_type(group.result()->type.dtype))
    return {"int8", "DequantizeLinear+QuantizeLinear: requantized to other parameters"};
  if (a->op == OpKind::kDequantizeLinear)
    return {precision_name(group.result()->type.dtype),
            "DequantizeLinear: int8 -> fp32 for the fp32 layers that follow"};
  if (a->op == OpKind::kRequantize) return {"int8", "Requantize: int32 -> int8"};
  DType t = a->outputs[0]->type.dtype;
  if (ops::is_quantized_type(t)) return {"int8", op + " carried in " + dtype_name(t) + " (no requantization)"};
  return {precision_name(t), op + " on " + dtype_name(t) + " data"};
}

}  // namespace kiln::passes
