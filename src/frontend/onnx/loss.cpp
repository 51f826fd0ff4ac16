// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss composed from core ops:
// GatherElements of the target class, class weights by Gather, ignore_index by Where.
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

Status map_loss(NodeContext& ctx) {
  bool sce = ctx.op_type() == "SoftmaxCrossEntropyLoss";
  Value* x = ctx.input(0);
  Value* target = ctx.input(1);
  DType dt = x->type.dtype;
  if (dt != DType::kF32 && dt != DType::kF64) return ctx.unsupported(ctx.op_type() + " of " + dtype_name(dt));
  DType tdt = target->type.dtype;
  if (tdt != DType::kI32 && tdt != DType::kI64)
    return ctx.error("target " + target->type.str() + " must be int32 or int64");
  int64_t rank = x->type.rank();
  const ir::Shape& xs = x->type.shape;
  const ir::Shape& ts = target->type.shape;
  bool shapes_ok = rank >= 2 && target->type.rank() == rank - 1 && ts[0] == xs[0];
  for (int64_t i = 2; shapes_ok && i < rank; ++i) shapes_ok = ts[i - 1] == xs[i];
  if (!shapes_ok)
    return ctx.error("input " + x->type.str() + " and target " + target->type.str() +
                     " do not match (N, C, d...) and (N, d...)");
  std::string reduction = ctx.attr_string("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return ctx.error("reduction '" + reduction + "' is not none, sum or mean");

  if (sce) {
    KILN_ASSIGN_OR_RETURN(x, ctx.add(OpKind::kLogSoftmax, {x}, ir::Attrs().set("axis", int64_t{1}), "log_prob"));
    ctx.set_output(1, x);
  }
  // Ignored targets read class 0 and get weight 0.
  bool has_ignore = ctx.has_attr("ignore_index");
  Value* ignored = nullptr;
  Value* safe = target;
  if (has_ignore) {
    KILN_ASSIGN_OR_RETURN(
        ignored, ctx.add(OpKind::kEqual, {target, ctx.scalar(tdt, ctx.attr_int("ignore_index", 0), "ignore_index")}, {},
                         "ignored"));
    KILN_ASSIGN_OR_RETURN(safe,
                          ctx.add(OpKind::kWhere, {ignored, ctx.scalar(tdt, 0, "class0"), target}, {}, "safe_target"));
  }
  ir::Shape idx_shape = ts;
  idx_shape.insert(idx_shape.begin() + 1, 1);
  KILN_ASSIGN_OR_RETURN(Value * idx, ctx.reshape(safe, idx_shape, "target_index"));
  KILN_ASSIGN_OR_RETURN(Value * picked,
                        ctx.add(OpKind::kGatherElements, {x, idx}, ir::Attrs().set("axis", int64_t{1}), "picked"));
  KILN_ASSIGN_OR_RETURN(picked, ctx.reshape(picked, ts, "picked_flat"));
  KILN_ASSIGN_OR_RETURN(Value * loss, ctx.add(OpKind::kNeg, {picked}, {}, "neg_picked"));

  Value* w = nullptr;  // per-element weight, null when every element weighs 1
  if (ctx.has_input(2)) {
    Value* cw = ctx.input(2);
    if (cw->type.rank() != 1 || cw->type.shape[0] != xs[1] || cw->type.dtype != dt)
      return ctx.error("weight " + cw->type.str() + " must be 1-D of the " + std::to_string(xs[1]) +
                       " classes, typed as the input");
    KILN_ASSIGN_OR_RETURN(w, ctx.add(OpKind::kGather, {cw, safe}, ir::Attrs().set("axis", int64_t{0}), "class_weight"));
    if (ignored) {
      KILN_ASSIGN_OR_RETURN(w, ctx.add(OpKind::kWhere, {ignored, ctx.scalar(dt, 0, "zero_weight"), w}, {}, "weight"));
    }
  } else if (ignored) {
    KILN_ASSIGN_OR_RETURN(
        w, ctx.add(OpKind::kWhere, {ignored, ctx.scalar(dt, 0, "zero_weight"), ctx.scalar(dt, 1, "one_weight")}, {},
                   "weight"));
  }
  if (w) {
    KILN_ASSIGN_OR_RETURN(loss, ctx.add(OpKind::kMul, {loss, w}, {}, "weighted"));
  }
  if (reduction != "none") {
    std::vector<int64_t> all;
    for (int64_t i = 0; i < rank - 1; ++i) all.push_back(i);
    ir::Attrs red = ir::Attrs().set("axes", all).set("keepdims", int64_t{0});
    if (reduction == "sum") {
      KILN_ASSIGN_OR_RETURN(loss, ctx.add(OpKind::kReduceSum, {loss}, red, "sum"));
    } else if (!w) {
      KILN_ASSIGN_OR_RETURN(loss, ctx.add(OpKind::kReduceMean, {loss}, red, "mean"));
    } else {
      KILN_ASSIGN_OR_RETURN(Value * num, ctx.add(OpKind::kReduceSum, {loss}, red, "loss_sum"));
      KILN_ASSIGN_OR_RETURN(Value * den, ctx.add(OpKind::kReduceSum, {w}, red, "weight_sum"));
      KILN_ASSIGN_OR_RETURN(loss, ctx.add(OpKind::kDiv, {num, den}, {}, "mean"));
    }
  }
  ctx.set_output(0, loss);
  return ctx.attr_status();
}

}  // namespace kiln::frontend
