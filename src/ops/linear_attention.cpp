// LinearAttention: the recurrent form of linear attention, one kernel for the
// whole sequence. Per batch row and KV head, a state S [dk, dv] (float32 for
// any input type, as the ONNX reference) runs over the T steps:
//   gated:  S *= exp(g_t)                 (g per key dimension or per head)
//   delta:  v_t = beta_t * (v_t - S^T k_t)
//   S += k_t (x) v_t;  out[t, hq] = scale * q_t[hq]^T S  for the query heads of the group.
// Attributes: q_heads:i kv_heads:i scale:f gating:i delta:i.
// Inputs: 0 q [B, T, Hq*dk], 1 k [B, T, Hkv*dk], 2 v [B, T, Hkv*dv], 3 past
// state [B, Hkv, dk, dv]; then decay [B, T, Hkv or Hkv*dk] when gating, beta
// [B, T, Hkv or 1] when delta. Output [B, T*Hq*dv + Hkv*dk*dv]: the attention
// output (as [B, T, Hq*dv]) followed by the final state; the frontend slices them.
#include <cmath>

#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

struct Dims {
  int64_t b, t, hq, hkv, dk, dv;
};

Dims dims_of(const ir::Node& node) {
  const ir::Shape& q = node.inputs[0]->type.shape;
  const ir::Shape& v = node.inputs[2]->type.shape;
  Dims d;
  d.b = q[0], d.t = q[1];
  d.hq = node.attrs.get_int("q_heads", 1), d.hkv = node.attrs.get_int("kv_heads", 1);
  d.dk = q[2] / d.hq, d.dv = v[2] / d.hkv;
  return d;
}

}  // namespace

Status infer_linear_attention(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  bool gating = node.attrs.get_int("gating", 0) != 0, delta = node.attrs.get_int("delta", 0) != 0;
  int n = 4 + gating + delta;
  KILN_RETURN_IF_ERROR(check_num_inputs(node, n, n));
  for (int i = 0; i < n; ++i)
    if (!dtype_is_float(node.inputs[i]->type.dtype) || node.inputs[i]->type.dtype != node.inputs[0]->type.dtype)
      return Status::invalid("LinearAttention inputs must share one float type, got input " + std::to_string(i) + " " +
                             node.inputs[i]->type.str());
  int64_t hq = node.attrs.get_int("q_heads", 0), hkv = node.attrs.get_int("kv_heads", 0);
  if (hq < 1 || hkv < 1 || hq % hkv != 0)
    return Status::invalid("LinearAttention q_heads " + std::to_string(hq) + " must be a positive multiple of kv_heads " +
                           std::to_string(hkv));
  const ir::TensorType& q = node.inputs[0]->type;
  const ir::TensorType& k = node.inputs[1]->type;
  const ir::TensorType& v = node.inputs[2]->type;
  if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3 || q.shape[2] % hq != 0 || v.shape[2] % hkv != 0)
    return Status::invalid("LinearAttention q, k, v must be (B, T, heads*D), got " + q.str() + ", " + k.str() + ", " + v.str());
  Dims d = dims_of(node);
  if (k.shape != ir::Shape{d.b, d.t, hkv * d.dk} || v.shape[0] != d.b || v.shape[1] != d.t)
    return Status::invalid("LinearAttention key " + k.str() + " and value " + v.str() + " do not match query " + q.str());
  if (node.inputs[3]->type.shape != ir::Shape{d.b, hkv, d.dk, d.dv})
    return Status::invalid("LinearAttention past state must be [" + std::to_string(d.b) + ", " + std::to_string(hkv) +
                           ", " + std::to_string(d.dk) + ", " + std::to_string(d.dv) + "], got " +
                           node.inputs[3]->type.str());
  int i = 4;
  if (gating) {
    const ir::Shape& g = node.inputs[i++]->type.shape;
    if (g.size() != 3 || g[0] != d.b || g[1] != d.t || (g[2] != hkv && g[2] != hkv * d.dk))
      return Status::invalid("LinearAttention decay must be (B, T, kv_heads or kv_heads*dk), got " + ir::shape_str(g));
  }
  if (delta) {
    const ir::Shape& be = node.inputs[i++]->type.shape;
    if (be.size() != 3 || be[0] != d.b || be[1] != d.t || (be[2] != hkv && be[2] != 1))
      return Status::invalid("LinearAttention beta must be (B, T, kv_heads or 1), got " + ir::shape_str(be));
  }
  outputs->assign(1, ir::TensorType{q.dtype, {d.b, d.t * d.hq * d.dv + d.hkv * d.dk * d.dv}});
  return Status::ok();
}

// for each (batch row, KV head) (outermost parallel): S from the past state;
// for each step: decay, delta correction, rank-1 update, then the outputs of the
// group's query heads; loops over dv vectorized; finally S is written out.
Expected<Stmt> lower_linear_attention(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  Dims d = dims_of(node);
  bool gating = node.attrs.get_int("gating", 0) != 0, delta = node.attrs.get_int("delta", 0) != 0;
  double scale = node.attrs.get_float("scale", 0);
  if (scale == 0) scale = 1.0 / std::sqrt(static_cast<double>(d.dk));
  int gi = 4, bi = 4 + gating;
  bool decay_per_key = gating && node.inputs[gi]->type.shape[2] != d.hkv;
  bool beta_per_head = delta && node.inputs[bi]->type.shape[2] == d.hkv;
  DType io = node.inputs[0]->type.dtype;
  kir::Type f = kir::f32();
  auto c = [&](double v) { return kir::make_const(f, v); };
  auto rd = [&](int input, std::vector<Expr> idx) {
    Expr e = ctx.read(input, std::move(idx));
    return io == DType::kF32 ? e : kir::cast(f, e);
  };
  auto out = [&](const Expr& e) { return io == DType::kF32 ? e : kir::cast(scalar_type(io), e); };
  Expr zero = Expr(int64_t{0});
  int64_t group = d.hq / d.hkv;
  int64_t out_size = d.t * d.hq * d.dv;

  LoopNest nest;
  Expr b = nest.add("b", d.b);
  Expr h = nest.add("h", d.hkv);
  kir::Buffer s = kir::make_buffer("S", DType::kF32);
  kir::Buffer vt = kir::make_buffer("vt", DType::kF32);
  Expr t = kir::var("t");
  auto m_loop = [&](const std::function<Stmt(const Expr&)>& body) {
    return vector_loop("m", 0, d.dv, ctx.opts.f32_lanes, ctx.opts.vectorize(), body);
  };
  auto s_at = [&](const Expr& row, const Expr& m) { return row * Expr(d.dv) + m; };
  auto key = [&](const Expr& row) { return rd(1, {b, t, h * Expr(d.dk) + row}); };

  std::vector<Stmt> step;
  if (gating) {  // S[i, :] *= exp(g)
    Expr i = kir::var("i");
    Expr g = decay_per_key ? rd(gi, {b, t, h * Expr(d.dk) + i}) : rd(gi, {b, t, h});
    Expr e = kir::var("e", f);
    step.push_back(kir::for_loop(i, zero, Expr(d.dk), kir::ForKind::kSerial,
                                 kir::let_stmt(e, kir::call(kir::Intrinsic::kExp, {g}), m_loop([&](const Expr& m) {
                                   return kir::store(s, s_at(i, m), kir::load(s, s_at(i, m)) * e);
                                 }))));
  }
  // vt = v_t, or beta * (v_t - S^T k_t).
  step.push_back(m_loop([&](const Expr& m) {
    Expr v = rd(2, {b, t, h * Expr(d.dv) + m});
    if (!delta) return kir::store(vt, m, v);
    kir::Buffer acc = kir::make_buffer("acc", DType::kF32);
    Expr r = kir::var("r");
    Stmt red = kir::for_loop(r, zero, Expr(d.dk), kir::ForKind::kSerial,
                             kir::store(acc, zero, kir::load(acc, zero) + kir::load(s, s_at(r, m)) * key(r)));
    Expr be = beta_per_head ? rd(bi, {b, t, h}) : rd(bi, {b, t, zero});
    return kir::allocate(acc, Expr(int64_t{1}),
                         kir::block({kir::store(acc, zero, c(0)), red,
                                     kir::store(vt, m, be * (v - kir::load(acc, zero)))}));
  }));
  // S += k (x) vt.
  Expr kv = kir::var("kv", f), i = kir::var("i");
  step.push_back(kir::for_loop(i, zero, Expr(d.dk), kir::ForKind::kSerial,
                               kir::let_stmt(kv, key(i), m_loop([&](const Expr& m) {
                                 return kir::store(s, s_at(i, m), kir::load(s, s_at(i, m)) + kv * kir::load(vt, m));
                               }))));
  // out[b, t, hq, :] = scale * q^T S for the group's query heads.
  Expr j = kir::var("j");
  Expr hq = h * Expr(group) + j;
  step.push_back(kir::for_loop(j, zero, Expr(group), kir::ForKind::kSerial, m_loop([&](const Expr& m) {
    kir::Buffer acc = kir::make_buffer("acc", DType::kF32);
    Expr r = kir::var("r");
    Stmt red = kir::for_loop(r, zero, Expr(d.dk), kir::ForKind::kSerial,
                             kir::store(acc, zero,
                                        kir::load(acc, zero) + rd(0, {b, t, hq * Expr(d.dk) + r}) * kir::load(s, s_at(r, m))));
    Expr at = t * Expr(d.hq * d.dv) + hq * Expr(d.dv) + m;
    return kir::allocate(acc, Expr(int64_t{1}),
                         kir::block({kir::store(acc, zero, c(0)), red,
                                     ctx.write(0, {b, at}, out(c(scale) * kir::load(acc, zero)))}));
  })));

  Expr i0 = kir::var("i"), i1 = kir::var("i");
  Stmt init = kir::for_loop(i0, zero, Expr(d.dk), kir::ForKind::kSerial, m_loop([&](const Expr& m) {
    return kir::store(s, s_at(i0, m), rd(3, {b, h, i0, m}));
  }));
  Stmt fin = kir::for_loop(i1, zero, Expr(d.dk), kir::ForKind::kSerial, m_loop([&](const Expr& m) {
    return ctx.write(0, {b, Expr(out_size) + (h * Expr(d.dk) + i1) * Expr(d.dv) + m}, out(kir::load(s, s_at(i1, m))));
  }));
  Stmt body = kir::block({init, kir::for_loop(t, zero, Expr(d.t), kir::ForKind::kSerial, kir::block(step)), fin});
  body = kir::allocate(s, Expr(d.dk * d.dv), kir::allocate(vt, Expr(d.dv), body));
  return nest.build(body, ctx.opts.parallelize() && nest.total() > 1);
}

}  // namespace kiln::ops
