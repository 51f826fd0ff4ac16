// Elementwise ONNX ops -> core elementwise ops: unary activations, Clip in its
// attribute and input forms, binary arithmetic, Pow, variadic Max/Min/Sum/Mean.
#include <cmath>
#include <limits>

#include "base/check.h"
#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"
#include "frontend/onnx/tensor.h"
#include "ir/narrow_float.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

// The core op with the ONNX op's name (the table only routes ops that have one).
OpKind core_op(const std::string& op_type) {
  auto op = ir::op_from_name(op_type);
  KILN_CHECK(op.has_value()) << "no core op named " << op_type;
  return *op;
}

// A binary core op, evaluated here when both sides are integer shape constants.
Expected<Value*> binary(NodeContext& ctx, OpKind op, Value* a, Value* b, const std::string& suffix) {
  bool arith = op == OpKind::kAdd || op == OpKind::kSub || op == OpKind::kMul || op == OpKind::kDiv ||
               op == OpKind::kMax || op == OpKind::kMin;
  if (arith && is_foldable(a) && is_foldable(b) && a->type.dtype == b->type.dtype) {
    auto t = eval_binary(op, *a->constant, *b->constant);
    if (!t) return ctx.error(t.status().message());
    return ctx.constant(std::move(*t), suffix.empty() ? "folded" : suffix);
  }
  return ctx.add(op, {a, b}, {}, suffix);
}

// The value of a constant Clip bound input, or `dflt` when absent.
Expected<double> clip_bound(NodeContext& ctx, int i, double dflt, const char* what) {
  if (!ctx.has_input(i)) return dflt;
  const ir::Tensor* t = ctx.constant_input(i);
  if (!t) return ctx.unsupported(std::string("a non-constant ") + what + " input");
  if (t->type().num_elements() != 1) return ctx.error(std::string(what) + " must be a scalar");
  return t->get_f64(0);
}

}  // namespace

Status map_unary(NodeContext& ctx) {
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(core_op(ctx.op_type()), {ctx.input(0)}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_leaky_relu(NodeContext& ctx) {
  ir::Attrs attrs;
  attrs.set("alpha", ctx.attr_float("alpha", 0.01));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kLeakyRelu, {ctx.input(0)}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_hard_sigmoid(NodeContext& ctx) {
  ir::Attrs attrs;
  attrs.set("alpha", ctx.attr_float("alpha", 0.2)).set("beta", ctx.attr_float("beta", 0.5));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kHardSigmoid, {ctx.input(0)}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_clip(NodeContext& ctx) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double lo = -kInf, hi = kInf;
  if (ctx.opset() < 11) {
    lo = ctx.attr_float("min", -kInf);
    hi = ctx.attr_float("max", kInf);
  } else if ((ctx.has_input(1) && !ctx.constant_input(1)) || (ctx.has_input(2) && !ctx.constant_input(2))) {
    // Bounds computed at run time: Min(Max(x, min), max), as numpy's clip.
    Value* y = ctx.input(0);
    if (ctx.has_input(1)) {
      KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kMax, {y, ctx.input(1)}, {}, ctx.has_input(2) ? "min" : ""));
    }
    if (ctx.has_input(2)) {
      KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kMin, {y, ctx.input(2)}));
    }
    ctx.set_output(0, y);
    return Status::ok();
  } else {
    KILN_ASSIGN_OR_RETURN(lo, clip_bound(ctx, 1, -kInf, "min"));
    KILN_ASSIGN_OR_RETURN(hi, clip_bound(ctx, 2, kInf, "max"));
  }
  // An infinite bound is no bound: the core op leaves absent bounds out.
  ir::Attrs attrs;
  if (std::isfinite(lo)) attrs.set("min", lo);
  if (std::isfinite(hi)) attrs.set("max", hi);
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kClip, {ctx.input(0)}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

namespace {

// Cast/CastLike of input 0 to `to`, with the attributes of Cast-19/24:
// `saturate` (default 1) clamps casts to the float8 types to their largest
// finite value (inf too; NaN stays NaN), as onnx's reference does with np.clip
// before the conversion; `round_mode` (default "up") rounds casts to float8e8m0.
Status map_cast_to(NodeContext& ctx, DType to) {
  std::string mode = ctx.attr_string("round_mode", "up");
  if (mode != "up" && mode != "down" && mode != "nearest")
    return ctx.error("round_mode '" + mode + "' is not one of 'up', 'down', 'nearest'");
  bool saturate = ctx.attr_int("saturate", 1) != 0;
  if (to == DType::kF8E8M0 && (mode != "up" || !saturate))
    return ctx.unsupported("a cast to float8e8m0 with round_mode '" + mode + "' and saturate=" +
                           std::to_string(saturate) + " (kiln rounds up, saturating: the defaults)");
  Value* x = ctx.input(0);
  if (x->type.dtype == to) {
    ctx.set_output(0, x);
    return Status::ok();
  }
  bool clamp = saturate && dtype_is_storage_only(to) && dtype_is_narrow_float(to) && to != DType::kF8E8M0 &&
               to != DType::kF4E2M1;  // float4e2m1 saturates anyway (no inf)
  if (is_foldable(x) && to != DType::kF16 && !clamp) {
    ctx.set_output(0, ctx.constant(eval_cast(*x->constant, to), "cast"));
    return Status::ok();
  }
  if (clamp) {
    if (dtype_is_storage_only(x->type.dtype)) {  // Clip computes nothing in those: widen first
      KILN_ASSIGN_OR_RETURN(x, ctx.add(OpKind::kCast, {x}, ir::Attrs().set("to", static_cast<int64_t>(DType::kF32)),
                                       "widened"));
    }
    double max = narrow_float_max(to);
    KILN_ASSIGN_OR_RETURN(x, ctx.add(OpKind::kClip, {x}, ir::Attrs().set("min", -max).set("max", max), "saturated"));
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kCast, {x}, ir::Attrs().set("to", static_cast<int64_t>(to))));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace

Status map_cast(NodeContext& ctx) {
  if (!ctx.has_attr("to")) return ctx.error("attribute 'to' is missing");
  int64_t to = ctx.attr_int("to", 0);
  std::optional<DType> dtype = dtype_from_onnx(static_cast<int32_t>(to));
  if (!dtype) return ctx.unsupported("a cast to " + onnx_type_name(static_cast<int32_t>(to)));
  return map_cast_to(ctx, *dtype);
}

Status map_binary(NodeContext& ctx) {
  KILN_ASSIGN_OR_RETURN(Value * y, binary(ctx, core_op(ctx.op_type()), ctx.input(0), ctx.input(1), ""));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_cast_like(NodeContext& ctx) { return map_cast_to(ctx, ctx.input(1)->type.dtype); }

Status map_compare_or_equal(NodeContext& ctx) {
  // a <= b is !(a > b) and a >= b is !(a < b) (NaN operands compare true here).
  OpKind strict = ctx.op_type() == "LessOrEqual" ? OpKind::kGreater : OpKind::kLess;
  KILN_ASSIGN_OR_RETURN(Value * c, ctx.add(strict, {ctx.input(0), ctx.input(1)}, {}, "strict"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kNot, {c}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_pow(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* e = ctx.input(1);
  if (e->type.dtype != x->type.dtype) {
    if (x->type.dtype == DType::kF16) return ctx.unsupported("Pow of float16 with an exponent of another type");
    if (e->is_constant()) {
      e = ctx.constant(eval_cast(*e->constant, x->type.dtype), "exponent");
    } else {
      ir::Attrs attrs;
      attrs.set("to", static_cast<int64_t>(x->type.dtype));
      KILN_ASSIGN_OR_RETURN(e, ctx.add(OpKind::kCast, {e}, attrs, "cast_exponent"));
    }
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kPow, {x, e}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_variadic(NodeContext& ctx) {
  const std::string& type = ctx.op_type();
  OpKind op = type == "Max" ? OpKind::kMax : type == "Min" ? OpKind::kMin : OpKind::kAdd;
  std::vector<Value*> ins;
  for (int i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) ins.push_back(ctx.input(i));
  if (ins.empty()) return ctx.error("needs at least one input");
  bool mean = type == "Mean" && ins.size() > 1;
  Value* acc = ins[0];
  for (size_t i = 1; i < ins.size(); ++i) {
    bool last = i + 1 == ins.size() && !mean;
    KILN_ASSIGN_OR_RETURN(acc, binary(ctx, op, acc, ins[i], last ? "" : std::to_string(i)));
  }
  if (mean) {
    if (!dtype_is_float(acc->type.dtype) || acc->type.dtype == DType::kF16)
      return ctx.unsupported("Mean of " + std::string(dtype_name(acc->type.dtype)));
    Value* n = ctx.scalar(acc->type.dtype, static_cast<double>(ins.size()), "count");
    KILN_ASSIGN_OR_RETURN(acc, ctx.add(OpKind::kDiv, {acc, n}));
  }
  ctx.set_output(0, acc);
  return Status::ok();
}

Status map_where(NodeContext& ctx) {
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kWhere, {ctx.input(0), ctx.input(1), ctx.input(2)}));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
