// ONNX ops that carry decoding state between calls, composed from core ops:
// CausalConvWithState (past state or zeros concatenated before the input, a
// depthwise Conv without padding, optional SiLU; the new state is the last k-1
// positions of that concatenation) and TensorScatter (a KV-cache write: each
// cache position takes update[pos - write_index] where that is in range,
// circularly when asked, through GatherElements + Where); LinearAttention
// (the core op of ops/linear_attention.cpp, its output sliced in two).
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

namespace {

ir::Attrs cast_to(DType t) { return ir::Attrs().set("to", static_cast<int64_t>(t)); }

Expected<Value*> slice_axis(NodeContext& ctx, Value* x, int64_t axis, int64_t start, int64_t n, const std::string& what) {
  ir::Shape shape = x->type.shape;
  std::vector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1);
  starts[axis] = start;
  shape[axis] = n;
  return ctx.add(OpKind::kSlice, {x}, ir::Attrs().set("starts", starts).set("steps", steps).set("shape", shape), what);
}

}  // namespace

Status map_causal_conv_with_state(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* w = ctx.input(1);
  DType dt = x->type.dtype;
  if (dt != DType::kF32 && dt != DType::kF64 && dt != DType::kF16)
    return ctx.unsupported("CausalConvWithState of " + x->type.str());
  if (x->type.rank() != 3) return ctx.error("input must be (batch, channels, length), got " + x->type.str());
  int64_t batch = x->type.shape[0], ch = x->type.shape[1], len = x->type.shape[2];
  if (w->type.rank() != 3 || w->type.shape[0] != ch || w->type.shape[1] != 1 || w->type.dtype != dt)
    return ctx.error("weight must be (" + std::to_string(ch) + ", 1, k) of the input's type, got " + w->type.str());
  int64_t k = w->type.shape[2];
  if (k < 1) return ctx.error("the kernel size must be positive, got " + w->type.str());
  std::string act = ctx.attr_string("activation", "none");
  if (act != "none" && act != "silu" && act != "swish")
    return ctx.error("activation '" + act + "' is not none, silu or swish");
  ir::Shape state_shape = {batch, ch, k - 1};
  Value* past = nullptr;
  if (ctx.has_input(3)) {
    past = ctx.input(3);
    if (past->type.shape != state_shape || past->type.dtype != dt)
      return ctx.error("past_state must be " + ir::TensorType{dt, state_shape}.str() + ", got " + past->type.str());
  } else if (k > 1) {
    past = ctx.constant(ir::Tensor(ir::TensorType{dt, state_shape}), "zero_state");
  }
  Value* padded = x;
  if (k > 1) {
    KILN_ASSIGN_OR_RETURN(padded, ctx.add(OpKind::kConcat, {past, x}, ir::Attrs().set("axis", int64_t{2}), "padded"));
  }
  // float16 is computed in float32 and rounded once, as Conv.
  bool half = dt == DType::kF16;
  Value* xin = padded;
  Value* win = w;
  if (half) {
    KILN_ASSIGN_OR_RETURN(xin, ctx.add(OpKind::kCast, {xin}, cast_to(DType::kF32), "x_f32"));
    KILN_ASSIGN_OR_RETURN(win, ctx.add(OpKind::kCast, {win}, cast_to(DType::kF32), "w_f32"));
  }
  KILN_ASSIGN_OR_RETURN(xin, ctx.reshape(xin, {batch, ch, 1, len + k - 1}, "x_2d"));
  KILN_ASSIGN_OR_RETURN(win, ctx.reshape(win, {ch, 1, 1, k}, "w_2d"));
  std::vector<Value*> ins = {xin, win};
  if (ctx.has_input(2)) {
    Value* b = ctx.input(2);
    if (b->type.shape != ir::Shape{ch} || b->type.dtype != dt)
      return ctx.error("bias must be (" + std::to_string(ch) + ") of the input's type, got " + b->type.str());
    if (half) {
      KILN_ASSIGN_OR_RETURN(b, ctx.add(OpKind::kCast, {b}, cast_to(DType::kF32), "b_f32"));
    }
    ins.push_back(b);
  }
  ir::Attrs conv;
  conv.set("strides", std::vector<int64_t>{1, 1}).set("pads", std::vector<int64_t>{0, 0, 0, 0});
  conv.set("dilations", std::vector<int64_t>{1, 1}).set("group", ch);
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kConv, ins, conv, "conv"));
  if (act != "none") {
    if (half) {  // the convolution's result is float16 before the activation (as the reference)
      KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kCast, {y}, cast_to(DType::kF16), "conv_f16"));
      KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kCast, {y}, cast_to(DType::kF32), "conv_f32"));
    }
    KILN_ASSIGN_OR_RETURN(Value * s, ctx.add(OpKind::kSigmoid, {y}, {}, "sigmoid"));
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kMul, {y, s}, {}, "silu"));
  }
  if (half) {
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kCast, {y}, cast_to(DType::kF16), "f16"));
  }
  KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, {batch, ch, len}, "out"));
  ctx.set_output(0, y);
  if (ctx.output_used(1)) {
    Value* state = nullptr;
    if (k == 1) {  // no state: an empty (batch, channels, 0) tensor
      state = ctx.constant(ir::Tensor(ir::TensorType{dt, state_shape}), "present_state");
    } else {
      KILN_ASSIGN_OR_RETURN(state, slice_axis(ctx, padded, 2, len, k - 1, "present_state"));
    }
    ctx.set_output(1, state);
  }
  return Status::ok();
}

Status map_tensor_scatter(NodeContext& ctx) {
  Value* past = ctx.input(0);
  Value* update = ctx.input(1);
  int64_t rank = past->type.rank();
  int64_t a = ctx.attr_int("axis", -2);
  auto axis = normalize_axis(a, rank);
  if (!axis || *axis == 0)
    return ctx.error("axis " + std::to_string(a) + " must be a dimension of " + past->type.str() + " other than the batch");
  std::string mode = ctx.attr_string("mode", "linear");
  if (mode != "linear" && mode != "circular") return ctx.error("mode '" + mode + "' is not linear or circular");
  const ir::Shape& ps = past->type.shape;
  const ir::Shape& us = update->type.shape;
  bool fits = update->type.rank() == rank && update->type.dtype == past->type.dtype;
  for (int64_t d = 0; fits && d < rank; ++d) fits = d == *axis ? us[d] <= ps[d] : us[d] == ps[d];
  if (!fits) return ctx.error("update " + update->type.str() + " does not fit past_cache " + past->type.str());
  int64_t max_len = ps[*axis], len = us[*axis], batch = ps[0];
  if (len == 0) {
    KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kIdentity, {past}));
    ctx.set_output(0, y);
    return Status::ok();
  }
  // j[b, .., s, ..] = s - write_index[b] (mod max_len when circular): the update
  // row cache position s takes, valid when 0 <= j < len.
  ir::Shape s_shape(rank, 1), b_shape(rank, 1);
  s_shape[*axis] = max_len;
  b_shape[0] = batch;
  std::vector<int64_t> iota(max_len);
  for (int64_t i = 0; i < max_len; ++i) iota[i] = i;
  Value* j = ctx.constant(ir::Tensor::from_i64(s_shape, iota), "positions");
  if (ctx.has_input(2)) {
    Value* wi = ctx.input(2);
    if (wi->type.shape != ir::Shape{batch} || (wi->type.dtype != DType::kI64 && wi->type.dtype != DType::kI32))
      return ctx.error("write_indices must be int64 [" + std::to_string(batch) + "], got " + wi->type.str());
    if (wi->type.dtype != DType::kI64) {
      KILN_ASSIGN_OR_RETURN(wi, ctx.add(OpKind::kCast, {wi}, cast_to(DType::kI64), "write_i64"));
    }
    KILN_ASSIGN_OR_RETURN(wi, ctx.reshape(wi, b_shape, "write_b"));
    KILN_ASSIGN_OR_RETURN(j, ctx.add(OpKind::kSub, {j, wi}, {}, "offset"));
    if (mode == "circular") {  // Mod takes the divisor's sign: in [0, max_len)
      KILN_ASSIGN_OR_RETURN(j, ctx.add(OpKind::kMod, {j, ctx.scalar(DType::kI64, static_cast<double>(max_len), "max_len")},
                                       ir::Attrs().set("fmod", int64_t{0}), "wrapped"));
    }
  }
  Value* zero = ctx.scalar(DType::kI64, 0, "zero");
  Value* last = ctx.scalar(DType::kI64, static_cast<double>(len - 1), "last");
  KILN_ASSIGN_OR_RETURN(Value * below, ctx.add(OpKind::kLess, {j, zero}, {}, "below"));
  KILN_ASSIGN_OR_RETURN(Value * above, ctx.add(OpKind::kGreater, {j, last}, {}, "above"));
  KILN_ASSIGN_OR_RETURN(Value * outside, ctx.add(OpKind::kOr, {below, above}, {}, "outside"));
  KILN_ASSIGN_OR_RETURN(Value * jc, ctx.add(OpKind::kMax, {j, zero}, {}, "clamp_low"));
  KILN_ASSIGN_OR_RETURN(jc, ctx.add(OpKind::kMin, {jc, last}, {}, "clamp_high"));
  KILN_ASSIGN_OR_RETURN(jc, ctx.add(OpKind::kExpand, {jc}, ir::Attrs().set("shape", ps), "rows"));
  KILN_ASSIGN_OR_RETURN(Value * taken, ctx.add(OpKind::kGatherElements, {update, jc}, ir::Attrs().set("axis", *axis), "taken"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kWhere, {outside, past, taken}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_linear_attention(NodeContext& ctx) {
  Value* q = ctx.input(0);
  Value* k = ctx.input(1);
  Value* v = ctx.input(2);
  DType dt = q->type.dtype;
  if (dt != DType::kF32 && dt != DType::kF64 && dt != DType::kF16)
    return ctx.unsupported("LinearAttention of " + q->type.str());
  std::string rule = ctx.attr_string("update_rule", "gated_delta");
  if (rule != "linear" && rule != "gated" && rule != "delta" && rule != "gated_delta")
    return ctx.error("update_rule '" + rule + "' is not linear, gated, delta or gated_delta");
  bool gating = rule == "gated" || rule == "gated_delta", delta = rule == "delta" || rule == "gated_delta";
  if (gating != ctx.has_input(4))
    return ctx.error("update_rule '" + rule + "' " + (gating ? "needs" : "takes no") + " decay input");
  if (delta != ctx.has_input(5))
    return ctx.error("update_rule '" + rule + "' " + (delta ? "needs" : "takes no") + " beta input");
  if (!ctx.has_attr("q_num_heads") || !ctx.has_attr("kv_num_heads"))
    return ctx.error("needs the attributes q_num_heads and kv_num_heads");
  int64_t hq = ctx.attr_int("q_num_heads", 0), hkv = ctx.attr_int("kv_num_heads", 0);
  if (q->type.rank() != 3 || v->type.rank() != 3 || hq < 1 || hkv < 1 || q->type.shape[2] % hq || v->type.shape[2] % hkv)
    return ctx.error("query " + q->type.str() + " and value " + v->type.str() + " must be (B, T, heads*D) for " +
                     std::to_string(hq) + " query and " + std::to_string(hkv) + " KV heads");
  int64_t b = q->type.shape[0], t = q->type.shape[1], dk = q->type.shape[2] / hq, dv = v->type.shape[2] / hkv;
  ir::Shape state_shape = {b, hkv, dk, dv};
  Value* past = ctx.has_input(3) ? ctx.input(3) : ctx.constant(ir::Tensor(ir::TensorType{dt, state_shape}), "zero_state");
  if (past->type.dtype != dt) return ctx.unsupported("a past_state of another type than the query (" + past->type.str() + ")");
  std::vector<Value*> ins = {q, k, v, past};
  if (gating) ins.push_back(ctx.input(4));
  if (delta) ins.push_back(ctx.input(5));
  ir::Attrs attrs;
  attrs.set("q_heads", hq).set("kv_heads", hkv).set("scale", ctx.attr_float("scale", 0.0));
  attrs.set("gating", int64_t{gating}).set("delta", int64_t{delta});
  KILN_ASSIGN_OR_RETURN(Value * all, ctx.add(OpKind::kLinearAttention, ins, attrs, "recurrence"));
  int64_t out_size = t * hq * dv;
  KILN_ASSIGN_OR_RETURN(Value * y, slice_axis(ctx, all, 1, 0, out_size, "output_flat"));
  KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, {b, t, hq * dv}, "output"));
  ctx.set_output(0, y);
  if (ctx.output_used(1)) {
    KILN_ASSIGN_OR_RETURN(Value * s, slice_axis(ctx, all, 1, out_size, hkv * dk * dv, "state_flat"));
    KILN_ASSIGN_OR_RETURN(s, ctx.reshape(s, state_shape, "present_state"));
    ctx.set_output(1, s);
  }
  return Status::ok();
}

}  // namespace kiln::frontend
