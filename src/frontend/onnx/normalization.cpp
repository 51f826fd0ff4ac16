// BatchNormalization (inference form) -> y = x * s + t with per-channel s and t
// shaped [C, 1, ...]: s = scale / sqrt(var + eps), t = bias - mean * s. With
// constant parameters s and t are computed here; otherwise built from core ops.
// Training mode (opset 14+) normalizes by the batch statistics and also gives
// the updated running mean and variance.
// LayerNormalization -> the LayerNorm core op over the normalized axes reshaped
// into one; ReduceMean/Sub/Mul/Sqrt/Div over the trailing axes when its Mean or
// InvStdDev output is used or Scale/Bias broadcast.
#include <cmath>

#include "frontend/onnx/op_table.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

// Training mode, as the ONNX reference: the mean and (population) variance of x
// over every axis but 1 normalize x; the running statistics are updated with
// `momentum`: mean * momentum + batch_mean * (1 - momentum), the same for var.
Status batch_norm_training(NodeContext& ctx, const ir::Shape& param_shape, double eps) {
  Value* x = ctx.input(0);
  DType dtype = x->type.dtype;
  int64_t channels = x->type.shape[1];
  std::vector<int64_t> axes;
  for (int64_t a = 0; a < x->type.rank(); ++a)
    if (a != 1) axes.push_back(a);
  ir::Attrs reduce;
  reduce.set("axes", axes).set("keepdims", int64_t{1});
  KILN_ASSIGN_OR_RETURN(Value * mean, ctx.add(OpKind::kReduceMean, {x}, reduce, "batch_mean"));
  KILN_ASSIGN_OR_RETURN(Value * d, ctx.add(OpKind::kSub, {x, mean}, {}, "centered"));
  KILN_ASSIGN_OR_RETURN(Value * d2, ctx.add(OpKind::kMul, {d, d}, {}, "squared"));
  KILN_ASSIGN_OR_RETURN(Value * var, ctx.add(OpKind::kReduceMean, {d2}, reduce, "batch_var"));
  KILN_ASSIGN_OR_RETURN(Value * ve, ctx.add(OpKind::kAdd, {var, ctx.scalar(dtype, eps, "epsilon")}, {}, "var_eps"));
  KILN_ASSIGN_OR_RETURN(Value * sd, ctx.add(OpKind::kSqrt, {ve}, {}, "stddev"));
  KILN_ASSIGN_OR_RETURN(Value * scale, ctx.reshape(ctx.input(1), param_shape, "scale_reshaped"));
  KILN_ASSIGN_OR_RETURN(Value * bias, ctx.reshape(ctx.input(2), param_shape, "bias_reshaped"));
  KILN_ASSIGN_OR_RETURN(Value * xs, ctx.add(OpKind::kMul, {d, scale}, {}, "scaled"));
  KILN_ASSIGN_OR_RETURN(Value * n, ctx.add(OpKind::kDiv, {xs, sd}, {}, "normalized"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kAdd, {n, bias}));
  ctx.set_output(0, y);
  double momentum = ctx.attr_float("momentum", 0.9);
  Value* keep = ctx.scalar(dtype, momentum, "momentum");
  Value* take = ctx.scalar(dtype, 1.0 - momentum, "one_minus_momentum");
  const char* const names[] = {"mean", "var"};
  Value* batch[] = {mean, var};
  for (int i = 0; i < 2; ++i) {
    if (!ctx.output_used(1 + i)) continue;
    std::string what = std::string("running_") + names[i];
    KILN_ASSIGN_OR_RETURN(Value * b, ctx.reshape(batch[i], {channels}, "batch_" + std::string(names[i]) + "_1d"));
    KILN_ASSIGN_OR_RETURN(Value * old, ctx.add(OpKind::kMul, {ctx.input(3 + i), keep}, {}, what + "_kept"));
    KILN_ASSIGN_OR_RETURN(Value * fresh, ctx.add(OpKind::kMul, {b, take}, {}, what + "_taken"));
    KILN_ASSIGN_OR_RETURN(Value * r, ctx.add(OpKind::kAdd, {old, fresh}, {}, what));
    ctx.set_output(1 + i, r);
  }
  return Status::ok();
}

// Y alone as one LayerNorm core op (a single-pass kernel) over the last axis:
// the normalized axes reshaped into one (free: a Reshape aliases), Scale and
// Bias flattened to match. False (nothing added) when Scale or Bias only
// broadcast over part of the normalized axes; the caller then decomposes.
Expected<bool> layer_norm_kernel(NodeContext& ctx, int64_t axis, double epsilon) {
  Value* x = ctx.input(0);
  const ir::Shape& shape = x->type.shape;
  int64_t len = 1;
  for (int64_t a = axis; a < x->type.rank(); ++a) len *= shape[a];
  std::vector<Value*> params;
  for (int i = 1; i <= 2; ++i) {
    if (i == 2 && !ctx.has_input(2)) break;
    Value* p = ctx.input(i);
    if (p->type.dtype != x->type.dtype || p->type.num_elements() != len || p->type.rank() > x->type.rank() - axis)
      return false;
    if (p->type.shape != ir::Shape{len}) {
      KILN_ASSIGN_OR_RETURN(p, ctx.reshape(p, {len}, i == 1 ? "scale_flat" : "bias_flat"));
    }
    params.push_back(p);
  }
  bool flatten = axis != x->type.rank() - 1;
  Value* xf = x;
  if (flatten) {
    ir::Shape rows(shape.begin(), shape.begin() + axis);
    rows.push_back(len);
    KILN_ASSIGN_OR_RETURN(xf, ctx.reshape(x, rows, "rows"));
  }
  params.insert(params.begin(), xf);
  ir::Attrs attrs;
  attrs.set("epsilon", epsilon);
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kLayerNorm, params, attrs, flatten ? "normalized_rows" : ""));
  if (flatten) {
    KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, shape));
  }
  ctx.set_output(0, y);
  return true;
}

}  // namespace

Status map_batch_norm(NodeContext& ctx) {
  bool training = ctx.attr_int("training_mode", 0) != 0;
  if (training && ctx.opset() < 14) return ctx.error("training_mode is an attribute of opset 14 and later");
  for (int i = 1; i < ctx.num_outputs(); ++i)
    if (ctx.output_used(i) && (!training || i > 2))
      return ctx.unsupported("the training-mode outputs (running mean/var) without training_mode=1");
  if (ctx.opset() < 9 && ctx.attr_int("spatial", 1) == 0) return ctx.unsupported("spatial=0");
  Value* x = ctx.input(0);
  DType dtype = x->type.dtype;
  if (dtype != DType::kF32 && dtype != DType::kF64)
    return ctx.unsupported("BatchNormalization of " + std::string(dtype_name(dtype)));
  if (x->type.rank() < 2) return ctx.error("input " + x->type.str() + " needs rank 2 or more (N, C, ...)");
  int64_t channels = x->type.shape[1];
  static const char* const kParams[] = {"scale", "bias", "mean", "var"};
  for (int i = 1; i <= 4; ++i) {
    const ir::TensorType& t = ctx.input(i)->type;
    if (t.num_elements() != channels || t.rank() != 1 || t.dtype != dtype)
      return ctx.error(std::string(kParams[i - 1]) + " " + t.str() + " must be " + dtype_name(dtype) + "[" +
                       std::to_string(channels) + "] for input " + x->type.str());
  }
  double eps = ctx.attr_float("epsilon", 1e-5);
  ir::Shape param_shape(static_cast<size_t>(x->type.rank() - 1), 1);
  param_shape[0] = channels;
  if (training) return batch_norm_training(ctx, param_shape, eps);

  Value* s = nullptr;
  Value* t = nullptr;
  const ir::Tensor *scale = ctx.constant_input(1), *bias = ctx.constant_input(2);
  const ir::Tensor *mean = ctx.constant_input(3), *var = ctx.constant_input(4);
  if (scale && bias && mean && var) {
    std::vector<double> sv(channels), tv(channels);
    for (int64_t c = 0; c < channels; ++c) {
      sv[c] = scale->get_f64(c) / std::sqrt(var->get_f64(c) + eps);
      tv[c] = bias->get_f64(c) - mean->get_f64(c) * sv[c];
    }
    s = ctx.constant(ir::Tensor::from_f64(dtype, param_shape, sv), "scale");
    t = ctx.constant(ir::Tensor::from_f64(dtype, param_shape, tv), "shift");
  } else {
    Value* e = ctx.scalar(dtype, eps, "epsilon");
    KILN_ASSIGN_OR_RETURN(Value * ve, ctx.add(OpKind::kAdd, {ctx.input(4), e}, {}, "var_eps"));
    KILN_ASSIGN_OR_RETURN(Value * sd, ctx.add(OpKind::kSqrt, {ve}, {}, "stddev"));
    KILN_ASSIGN_OR_RETURN(Value * s1, ctx.add(OpKind::kDiv, {ctx.input(1), sd}, {}, "scale"));
    KILN_ASSIGN_OR_RETURN(Value * ms, ctx.add(OpKind::kMul, {ctx.input(3), s1}, {}, "mean_scaled"));
    KILN_ASSIGN_OR_RETURN(Value * t1, ctx.add(OpKind::kSub, {ctx.input(2), ms}, {}, "shift"));
    KILN_ASSIGN_OR_RETURN(s, ctx.reshape(s1, param_shape, "scale_reshaped"));
    KILN_ASSIGN_OR_RETURN(t, ctx.reshape(t1, param_shape, "shift_reshaped"));
  }
  KILN_ASSIGN_OR_RETURN(Value * xs, ctx.add(OpKind::kMul, {x, s}, {}, "mul"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kAdd, {xs, t}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_layer_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  DType dtype = x->type.dtype;
  if (dtype != DType::kF32 && dtype != DType::kF64)
    return ctx.unsupported("LayerNormalization of " + std::string(dtype_name(dtype)));
  int64_t axis_attr = ctx.attr_int("axis", -1);
  auto axis = normalize_axis(axis_attr, x->type.rank());
  if (!axis) return ctx.error("axis " + std::to_string(axis_attr) + " is out of range for input " + x->type.str());
  double epsilon = ctx.attr_float("epsilon", 1e-5);
  bool stats_used = (ctx.num_outputs() > 1 && ctx.output_used(1)) || (ctx.num_outputs() > 2 && ctx.output_used(2));
  if (!stats_used) {
    KILN_ASSIGN_OR_RETURN(bool fused, layer_norm_kernel(ctx, *axis, epsilon));
    if (fused) return Status::ok();
  }
  std::vector<int64_t> axes;
  for (int64_t a = *axis; a < x->type.rank(); ++a) axes.push_back(a);
  ir::Attrs reduce;
  reduce.set("axes", axes).set("keepdims", int64_t{1});

  // y = (x - mean) / sqrt(var + eps) * scale + bias, var = mean((x - mean)^2).
  KILN_ASSIGN_OR_RETURN(Value * mean, ctx.add(OpKind::kReduceMean, {x}, reduce, "mean"));
  KILN_ASSIGN_OR_RETURN(Value * d, ctx.add(OpKind::kSub, {x, mean}, {}, "centered"));
  KILN_ASSIGN_OR_RETURN(Value * d2, ctx.add(OpKind::kMul, {d, d}, {}, "squared"));
  KILN_ASSIGN_OR_RETURN(Value * var, ctx.add(OpKind::kReduceMean, {d2}, reduce, "var"));
  Value* eps = ctx.scalar(dtype, epsilon, "epsilon");
  KILN_ASSIGN_OR_RETURN(Value * ve, ctx.add(OpKind::kAdd, {var, eps}, {}, "var_eps"));
  KILN_ASSIGN_OR_RETURN(Value * sd, ctx.add(OpKind::kSqrt, {ve}, {}, "stddev"));
  bool has_bias = ctx.has_input(2);
  KILN_ASSIGN_OR_RETURN(Value * n, ctx.add(OpKind::kDiv, {d, sd}, {}, "normalized"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kMul, {n, ctx.input(1)}, {}, has_bias ? "scaled" : ""));
  if (has_bias) {
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kAdd, {y, ctx.input(2)}));
  }
  ctx.set_output(0, y);
  // Mean and InvStdDev, shaped like the reduction with keepdims (as the ONNX reference).
  if (ctx.num_outputs() > 1 && ctx.output_used(1)) ctx.set_output(1, mean);
  if (ctx.num_outputs() > 2 && ctx.output_used(2)) {
    KILN_ASSIGN_OR_RETURN(Value * inv, ctx.add(OpKind::kReciprocal, {sd}, {}, "inv_stddev"));
    ctx.set_output(2, inv);
  }
  return Status::ok();
}

}  // namespace kiln::frontend
