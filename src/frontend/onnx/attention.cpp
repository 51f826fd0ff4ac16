// Attention (opset 23) composed from core ops: head split of 3-D inputs, KV-cache
// Concat, GQA head repeat, scaled Q*K^T MatMul, softcap, mask/causal bias, Softmax, *V;
// and RotaryEmbedding: cos/sin (Gathered by position_ids) times Slices of the head.
#include <cmath>
#include <limits>

#include "frontend/onnx/op_table.h"
#include "frontend/onnx/tensor.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

namespace {

ir::Attrs perm(std::vector<int64_t> p) { return ir::Attrs().set("perm", std::move(p)); }

// A float32 constant of `shape` cast to `dtype` (folds at import).
Expected<Value*> float_constant(NodeContext& ctx, DType dtype, const ir::Shape& shape, const std::vector<float>& v,
                                const std::string& suffix) {
  Value* c = ctx.constant(ir::Tensor::from_f32(shape, v), suffix);
  if (dtype == DType::kF32) return c;
  return ctx.add(OpKind::kCast, {c}, ir::Attrs().set("to", static_cast<int64_t>(dtype)), suffix + "_cast");
}

// (B, S, H*D) -> (B, H, S, D).
Expected<Value*> split_heads(NodeContext& ctx, Value* x, int64_t heads, const std::string& what) {
  const ir::Shape& s = x->type.shape;
  if (heads <= 0 || s[2] % heads != 0)
    return ctx.error(what + " " + x->type.str() + ": hidden size is not a multiple of " + std::to_string(heads) +
                     " heads (set q_num_heads and kv_num_heads for 3-D inputs)");
  KILN_ASSIGN_OR_RETURN(Value * r, ctx.reshape(x, {s[0], s[1], heads, s[2] / heads}, what + "_heads"));
  return ctx.add(OpKind::kTranspose, {r}, perm({0, 2, 1, 3}), what + "_bhsd");
}

// (B, Hk, T, D) -> (B, Hk*reps, T, D), each head repeated `reps` times in place.
Expected<Value*> repeat_heads(NodeContext& ctx, Value* x, int64_t reps, const std::string& what) {
  if (reps == 1) return x;
  const ir::Shape& s = x->type.shape;
  KILN_ASSIGN_OR_RETURN(Value * r, ctx.reshape(x, {s[0], s[1], 1, s[2], s[3]}, what + "_gqa5d"));
  KILN_ASSIGN_OR_RETURN(Value * e, ctx.add(OpKind::kExpand, {r},
                                           ir::Attrs().set("shape", std::vector<int64_t>{s[0], s[1], reps, s[2], s[3]}),
                                           what + "_gqa_repeat"));
  return ctx.reshape(e, {s[0], s[1] * reps, s[2], s[3]}, what + "_gqa");
}

// Elements [start, start + step * (n - 1)] of the last axis of `x`, n of them.
Expected<Value*> slice_last(NodeContext& ctx, Value* x, int64_t start, int64_t step, int64_t n,
                            const std::string& what) {
  ir::Shape shape = x->type.shape;
  std::vector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1);
  starts.back() = start;
  steps.back() = step;
  shape.back() = n;
  return ctx.add(OpKind::kSlice, {x}, ir::Attrs().set("starts", starts).set("steps", steps).set("shape", shape), what);
}

}  // namespace

Status map_attention(NodeContext& ctx) {
  Value* q = ctx.input(0);
  Value* k = ctx.input(1);
  Value* v = ctx.input(2);
  DType dt = q->type.dtype;
  if (dt != DType::kF32 && dt != DType::kF64 && dt != DType::kF16)
    return ctx.unsupported("Attention of " + std::string(dtype_name(dt)));
  auto cast = [&](Value* x, DType to, const std::string& suffix) -> Expected<Value*> {
    if (x->type.dtype == to) return x;
    return ctx.add(OpKind::kCast, {x}, ir::Attrs().set("to", static_cast<int64_t>(to)), suffix);
  };
  // float16 is computed in float32 and rounded once, at the outputs (`io` is the
  // models' type, `dt` the computing one).
  const DType io = dt;
  if (dt == DType::kF16) {
    dt = DType::kF32;
    KILN_ASSIGN_OR_RETURN(q, cast(q, dt, "q_f32"));
    KILN_ASSIGN_OR_RETURN(k, cast(k, dt, "k_f32"));
    KILN_ASSIGN_OR_RETURN(v, cast(v, dt, "v_f32"));
  }
  int64_t rank = q->type.rank();
  if ((rank != 3 && rank != 4) || k->type.rank() != rank || v->type.rank() != rank)
    return ctx.error("Q, K and V must all be 3-D or all 4-D, got " + q->type.str() + ", " + k->type.str() + ", " +
                     v->type.str());
  int64_t mode = ctx.attr_int("qk_matmul_output_mode", 0);
  if (mode < 0 || mode > 3) return ctx.error("qk_matmul_output_mode " + std::to_string(mode) + " is not 0..3");
  bool causal = ctx.attr_int("is_causal", 0) != 0;
  double softcap = ctx.attr_float("softcap", 0.0);
  if (rank == 3) {
    int64_t qh = ctx.attr_int("q_num_heads", 0), kvh = ctx.attr_int("kv_num_heads", 0);
    KILN_ASSIGN_OR_RETURN(q, split_heads(ctx, q, qh, "Q"));
    KILN_ASSIGN_OR_RETURN(k, split_heads(ctx, k, kvh, "K"));
    KILN_ASSIGN_OR_RETURN(v, split_heads(ctx, v, kvh, "V"));
  }
  int64_t batch = q->type.shape[0], q_heads = q->type.shape[1], q_seq = q->type.shape[2];
  int64_t head = q->type.shape[3];
  if (k->type.shape[3] != head || k->type.shape[0] != batch || v->type.shape[0] != batch ||
      v->type.shape[1] != k->type.shape[1] || v->type.shape[2] != k->type.shape[2])
    return ctx.error("K " + k->type.str() + " and V " + v->type.str() + " do not match Q " + q->type.str());
  // KV cache: present = Concat(past, new) along the sequence axis.
  int64_t past_seq = 0;
  if (ctx.has_input(4) != ctx.has_input(5)) return ctx.error("past_key and past_value must be given together");
  if (ctx.has_input(4)) {
    past_seq = ctx.input(4)->type.rank() == 4 ? ctx.input(4)->type.shape[2] : -1;
    if (past_seq < 0) return ctx.error("past_key " + ctx.input(4)->type.str() + " must be 4-D");
    KILN_ASSIGN_OR_RETURN(Value * past_k, cast(ctx.input(4), dt, "past_key_f32"));
    KILN_ASSIGN_OR_RETURN(Value * past_v, cast(ctx.input(5), dt, "past_value_f32"));
    KILN_ASSIGN_OR_RETURN(k, ctx.add(OpKind::kConcat, {past_k, k}, ir::Attrs().set("axis", int64_t{2}), "present_key"));
    KILN_ASSIGN_OR_RETURN(v,
                          ctx.add(OpKind::kConcat, {past_v, v}, ir::Attrs().set("axis", int64_t{2}), "present_value"));
  }
  if (ctx.output_used(1)) {
    KILN_ASSIGN_OR_RETURN(Value * present_k, cast(k, io, "present_key_out"));
    ctx.set_output(1, present_k);
  }
  if (ctx.output_used(2)) {
    KILN_ASSIGN_OR_RETURN(Value * present_v, cast(v, io, "present_value_out"));
    ctx.set_output(2, present_v);
  }
  int64_t kv_heads = k->type.shape[1], total = k->type.shape[2];
  if (q_heads % kv_heads != 0)
    return ctx.error(std::to_string(q_heads) + " query heads are not a multiple of " + std::to_string(kv_heads) +
                     " key/value heads");
  KILN_ASSIGN_OR_RETURN(Value * kr, repeat_heads(ctx, k, q_heads / kv_heads, "K"));
  KILN_ASSIGN_OR_RETURN(Value * vr, repeat_heads(ctx, v, q_heads / kv_heads, "V"));

  // Scores: (Q * sqrt(scale)) @ (K^T * sqrt(scale)), as the ONNX reference rounds them.
  double scale = ctx.has_attr("scale") ? ctx.attr_float("scale", 1.0) : 1.0 / std::sqrt(static_cast<double>(head));
  std::vector<float> root{static_cast<float>(std::sqrt(scale))};
  KILN_ASSIGN_OR_RETURN(Value * root_scale, float_constant(ctx, dt, {}, root, "sqrt_scale"));
  KILN_ASSIGN_OR_RETURN(Value * qs, ctx.add(OpKind::kMul, {q, root_scale}, {}, "q_scaled"));
  KILN_ASSIGN_OR_RETURN(Value * kt, ctx.add(OpKind::kTranspose, {kr}, perm({0, 1, 3, 2}), "k_transposed"));
  KILN_ASSIGN_OR_RETURN(Value * ks, ctx.add(OpKind::kMul, {kt, root_scale}, {}, "k_scaled"));
  KILN_ASSIGN_OR_RETURN(Value * qk, ctx.add(OpKind::kMatMul, {qs, ks}, {}, "qk"));
  if (softcap > 0) {
    std::vector<float> cap{static_cast<float>(softcap)};
    KILN_ASSIGN_OR_RETURN(Value * c, float_constant(ctx, dt, {}, cap, "softcap"));
    KILN_ASSIGN_OR_RETURN(Value * d, ctx.add(OpKind::kDiv, {qk, c}, {}, "softcap_div"));
    KILN_ASSIGN_OR_RETURN(Value * t, ctx.add(OpKind::kTanh, {d}, {}, "softcap_tanh"));
    KILN_ASSIGN_OR_RETURN(qk, ctx.add(OpKind::kMul, {t, c}, {}, "softcapped"));
  }

  // Additive bias: the mask (bool -> 0 / -inf; padded with -inf up to the total
  // sequence), the causal triangle, and the key padding of nonpad_kv_seqlen.
  const float ninf = -std::numeric_limits<float>::infinity();
  Value* bias = nullptr;
  if (ctx.has_input(3)) {
    Value* m = ctx.input(3);
    if (m->type.rank() < 1 || m->type.shape.back() > total)
      return ctx.error("attn_mask " + m->type.str() + " does not fit " + std::to_string(total) + " keys");
    if (m->type.dtype == DType::kBool) {
      KILN_ASSIGN_OR_RETURN(Value * zero, float_constant(ctx, dt, {}, {0.0f}, "mask_zero"));
      KILN_ASSIGN_OR_RETURN(Value * minf, float_constant(ctx, dt, {}, {ninf}, "mask_ninf"));
      KILN_ASSIGN_OR_RETURN(m, ctx.add(OpKind::kWhere, {m, zero, minf}, {}, "mask_bias"));
    } else if (m->type.dtype != io) {
      return ctx.error("attn_mask " + m->type.str() + " must be bool or the type of Q");
    } else {
      KILN_ASSIGN_OR_RETURN(m, cast(m, dt, "mask_f32"));
    }
    int64_t pad = total - m->type.shape.back();
    if (pad > 0) {
      ir::Shape ps = m->type.shape;
      ps.back() = pad;
      int64_t n = 1;
      for (int64_t d : ps) n *= d;
      KILN_ASSIGN_OR_RETURN(Value * fill, float_constant(ctx, dt, ps, std::vector<float>(n, ninf), "mask_pad"));
      KILN_ASSIGN_OR_RETURN(
          m, ctx.add(OpKind::kConcat, {m, fill}, ir::Attrs().set("axis", static_cast<int64_t>(m->type.rank() - 1)),
                     "mask_padded"));
    }
    bias = m;
  }
  if (causal) {
    std::vector<float> tri(q_seq * total, 0.0f);
    for (int64_t i = 0; i < q_seq; ++i)
      for (int64_t j = 0; j < total; ++j)
        if (j > i + past_seq) tri[i * total + j] = ninf;
    KILN_ASSIGN_OR_RETURN(Value * c, float_constant(ctx, dt, {q_seq, total}, tri, "causal"));
    if (bias) {
      KILN_ASSIGN_OR_RETURN(bias, ctx.add(OpKind::kAdd, {bias, c}, {}, "causal_bias"));
    } else {
      bias = c;
    }
  }
  if (ctx.has_input(6)) {
    Value* lens = ctx.input(6);
    if (lens->type.rank() != 1 || lens->type.shape[0] != batch)
      return ctx.error("nonpad_kv_seqlen " + lens->type.str() + " must be 1-D of the batch size");
    std::vector<int64_t> iota(total);
    for (int64_t j = 0; j < total; ++j) iota[j] = j;
    Value* pos = ctx.constant(ir::Tensor::from_i64({1, total}, iota), "key_positions");
    if (lens->type.dtype != DType::kI64) {
      KILN_ASSIGN_OR_RETURN(
          lens, ctx.add(OpKind::kCast, {lens}, ir::Attrs().set("to", static_cast<int64_t>(DType::kI64)), "nonpad_i64"));
    }
    KILN_ASSIGN_OR_RETURN(Value * l2, ctx.reshape(lens, {batch, 1}, "nonpad_column"));
    KILN_ASSIGN_OR_RETURN(Value * keep, ctx.add(OpKind::kLess, {pos, l2}, {}, "nonpad_keep"));
    KILN_ASSIGN_OR_RETURN(Value * zero, float_constant(ctx, dt, {}, {0.0f}, "pad_zero"));
    KILN_ASSIGN_OR_RETURN(Value * minf, float_constant(ctx, dt, {}, {ninf}, "pad_ninf"));
    KILN_ASSIGN_OR_RETURN(Value * pb, ctx.add(OpKind::kWhere, {keep, zero, minf}, {}, "nonpad_bias2d"));
    KILN_ASSIGN_OR_RETURN(pb, ctx.reshape(pb, {batch, 1, 1, total}, "nonpad_bias"));
    if (bias) {
      KILN_ASSIGN_OR_RETURN(bias, ctx.add(OpKind::kAdd, {bias, pb}, {}, "padded_bias"));
    } else {
      bias = pb;
    }
  }
  Value* qkb = qk;
  if (bias) {
    KILN_ASSIGN_OR_RETURN(qkb, ctx.add(OpKind::kAdd, {qk, bias}, {}, "qk_biased"));
  }

  // Softmax (and the product with V), in softmax_precision when it names another float type.
  Value* sm_in = qkb;
  Value* vv = vr;
  DType sm_dt = dt;
  if (ctx.has_attr("softmax_precision")) {
    auto p = dtype_from_onnx(static_cast<int32_t>(ctx.attr_int("softmax_precision", 1)));
    if (!p || (*p != DType::kF32 && *p != DType::kF64 && *p != DType::kF16))
      return ctx.unsupported("softmax_precision " + std::to_string(ctx.attr_int("softmax_precision", 1)));
    sm_dt = *p;
  }
  if (sm_dt == DType::kF16) sm_dt = DType::kF32;  // kiln's Softmax takes float32 or float64
  KILN_ASSIGN_OR_RETURN(sm_in, cast(sm_in, sm_dt, "softmax_in"));
  KILN_ASSIGN_OR_RETURN(Value * probs,
                        ctx.add(OpKind::kSoftmax, {sm_in}, ir::Attrs().set("axis", int64_t{3}), "softmax"));
  KILN_ASSIGN_OR_RETURN(vv, cast(vv, sm_dt, "v_precision"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kMatMul, {probs, vv}, {}, rank == 3 ? "y_bhsd" : "y_precision"));
  KILN_ASSIGN_OR_RETURN(y, cast(y, io, "y_cast"));
  if (rank == 3) {
    KILN_ASSIGN_OR_RETURN(Value * t, ctx.add(OpKind::kTranspose, {y}, perm({0, 2, 1, 3}), "y_bshd"));
    KILN_ASSIGN_OR_RETURN(y, ctx.reshape(t, {batch, q_seq, q_heads * vr->type.shape[3]}));
  }
  ctx.set_output(0, y);
  if (ctx.output_used(3)) {
    // The ONNX reference: modes 0 and 1 give the (softcapped) scores, 2 adds the bias, 3 the softmax.
    Value* out = mode == 3 ? probs : mode == 2 ? qkb : qk;
    KILN_ASSIGN_OR_RETURN(out, cast(out, io, "qk_output"));
    ctx.set_output(3, out);
  }
  return ctx.attr_status();
}

Status map_rotary_embedding(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* cos = ctx.input(1);
  Value* sin = ctx.input(2);
  DType dt = x->type.dtype;
  if (dt != DType::kF32 && dt != DType::kF64)
    return ctx.unsupported("RotaryEmbedding of " + std::string(dtype_name(dt)));
  int64_t rank = x->type.rank();
  if (rank != 3 && rank != 4) return ctx.error("input " + x->type.str() + " must be 3-D or 4-D");
  const ir::Shape in_shape = x->type.shape;
  // Work as (B, S, H, D).
  if (rank == 4) {
    KILN_ASSIGN_OR_RETURN(x, ctx.add(OpKind::kTranspose, {x}, perm({0, 2, 1, 3}), "bshd"));
  } else {
    int64_t heads = ctx.attr_int("num_heads", 0);
    if (heads <= 0 || in_shape[2] % heads != 0)
      return ctx.error("3-D input " + x->type.str() + " needs num_heads dividing its hidden size");
    KILN_ASSIGN_OR_RETURN(x, ctx.reshape(x, {in_shape[0], in_shape[1], heads, in_shape[2] / heads}, "bshd"));
  }
  int64_t batch = x->type.shape[0], seq = x->type.shape[1], head = x->type.shape[3];
  int64_t rot = ctx.attr_int("rotary_embedding_dim", 0);
  if (rot == 0) rot = head;
  if (rot < 2 || rot > head || rot % 2 != 0)
    return ctx.error("rotary_embedding_dim " + std::to_string(rot) + " must be even and at most the head size " +
                     std::to_string(head));
  int64_t half = rot / 2;
  if (ctx.has_input(3)) {
    KILN_ASSIGN_OR_RETURN(cos,
                          ctx.add(OpKind::kGather, {cos, ctx.input(3)}, ir::Attrs().set("axis", int64_t{0}), "cos"));
    KILN_ASSIGN_OR_RETURN(sin,
                          ctx.add(OpKind::kGather, {sin, ctx.input(3)}, ir::Attrs().set("axis", int64_t{0}), "sin"));
  }
  for (Value* c : {cos, sin})
    if (c->type.shape != ir::Shape{batch, seq, half} || c->type.dtype != dt)
      return ctx.error("cos/sin cache " + c->type.str() + " (after position_ids) must be " +
                       std::string(dtype_name(dt)) + " of shape (" + std::to_string(batch) + ", " +
                       std::to_string(seq) + ", " + std::to_string(half) + ")");
  KILN_ASSIGN_OR_RETURN(cos, ctx.reshape(cos, {batch, seq, 1, half}, "cos_bs1r"));
  KILN_ASSIGN_OR_RETURN(sin, ctx.reshape(sin, {batch, seq, 1, half}, "sin_bs1r"));
  bool interleaved = ctx.attr_int("interleaved", 0) != 0;
  KILN_ASSIGN_OR_RETURN(Value * x1, slice_last(ctx, x, 0, interleaved ? 2 : 1, half, "x1"));
  KILN_ASSIGN_OR_RETURN(Value * x2, slice_last(ctx, x, interleaved ? 1 : half, interleaved ? 2 : 1, half, "x2"));
  KILN_ASSIGN_OR_RETURN(Value * c1, ctx.add(OpKind::kMul, {cos, x1}, {}, "cos_x1"));
  KILN_ASSIGN_OR_RETURN(Value * s2, ctx.add(OpKind::kMul, {sin, x2}, {}, "sin_x2"));
  KILN_ASSIGN_OR_RETURN(Value * s1, ctx.add(OpKind::kMul, {sin, x1}, {}, "sin_x1"));
  KILN_ASSIGN_OR_RETURN(Value * c2, ctx.add(OpKind::kMul, {cos, x2}, {}, "cos_x2"));
  KILN_ASSIGN_OR_RETURN(Value * real, ctx.add(OpKind::kSub, {c1, s2}, {}, "real"));
  KILN_ASSIGN_OR_RETURN(Value * imag, ctx.add(OpKind::kAdd, {s1, c2}, {}, "imag"));
  ir::Shape hs = x->type.shape;
  Value* rotated = nullptr;
  if (interleaved) {
    ir::Shape pair{batch, seq, hs[2], half, 1};
    KILN_ASSIGN_OR_RETURN(real, ctx.reshape(real, pair, "real_pairs"));
    KILN_ASSIGN_OR_RETURN(imag, ctx.reshape(imag, pair, "imag_pairs"));
    KILN_ASSIGN_OR_RETURN(Value * both,
                          ctx.add(OpKind::kConcat, {real, imag}, ir::Attrs().set("axis", int64_t{4}), "pairs"));
    KILN_ASSIGN_OR_RETURN(rotated, ctx.reshape(both, {batch, seq, hs[2], rot}, "rotated"));
  } else {
    KILN_ASSIGN_OR_RETURN(rotated,
                          ctx.add(OpKind::kConcat, {real, imag}, ir::Attrs().set("axis", int64_t{3}), "rotated"));
  }
  Value* y = rotated;
  if (rot < head) {
    KILN_ASSIGN_OR_RETURN(Value * pass, slice_last(ctx, x, rot, 1, head - rot, "pass"));
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kConcat, {rotated, pass}, ir::Attrs().set("axis", int64_t{3}), "joined"));
  }
  if (rank == 4) {
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kTranspose, {y}, perm({0, 2, 1, 3})));
  } else {
    KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, in_shape));
  }
  ctx.set_output(0, y);
  return ctx.attr_status();
}

}  // namespace kiln::frontend
