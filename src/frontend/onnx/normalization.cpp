// BatchNormalization (inference form) -> y = x * s + t with per-channel s and t
// shaped [C, 1, ...]: s = scale / sqrt(var + eps), t = bias - mean * s. With
// constant parameters s and t are computed here; otherwise built from core ops.
// LayerNormalization -> ReduceMean/Sub/Mul/Sqrt/Div over the trailing axes (and
// its Mean and InvStdDev outputs when used).
#include <cmath>

#include "frontend/onnx/op_table.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

// A float tensor of `dtype` (F32 or F64) from doubles.
ir::Tensor float_tensor(DType dtype, const ir::Shape& shape, const std::vector<double>& v) {
  ir::Tensor t(ir::TensorType{dtype, shape});
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::kF64) {
      t.mutable_data<double>()[i] = v[i];
    } else {
      t.mutable_data<float>()[i] = static_cast<float>(v[i]);
    }
  }
  return t;
}

}  // namespace

Status map_batch_norm(NodeContext& ctx) {
  if (ctx.attr_int("training_mode", 0) != 0) return ctx.unsupported("training mode");
  for (int i = 1; i < ctx.num_outputs(); ++i)
    if (ctx.output_used(i)) return ctx.unsupported("the training-mode outputs (running mean/var)");
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
    s = ctx.constant(float_tensor(dtype, param_shape, sv), "scale");
    t = ctx.constant(float_tensor(dtype, param_shape, tv), "shift");
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
  std::vector<int64_t> axes;
  for (int64_t a = *axis; a < x->type.rank(); ++a) axes.push_back(a);
  ir::Attrs reduce;
  reduce.set("axes", axes).set("keepdims", int64_t{1});

  // y = (x - mean) / sqrt(var + eps) * scale + bias, var = mean((x - mean)^2).
  KILN_ASSIGN_OR_RETURN(Value * mean, ctx.add(OpKind::kReduceMean, {x}, reduce, "mean"));
  KILN_ASSIGN_OR_RETURN(Value * d, ctx.add(OpKind::kSub, {x, mean}, {}, "centered"));
  KILN_ASSIGN_OR_RETURN(Value * d2, ctx.add(OpKind::kMul, {d, d}, {}, "squared"));
  KILN_ASSIGN_OR_RETURN(Value * var, ctx.add(OpKind::kReduceMean, {d2}, reduce, "var"));
  Value* eps = ctx.scalar(dtype, ctx.attr_float("epsilon", 1e-5), "epsilon");
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
