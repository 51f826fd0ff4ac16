// InstanceNormalization, GroupNormalization, LpNormalization,
// MeanVarianceNormalization, LRN and RMSNormalization -> compositions of
// ReduceMean/ReduceSum and elementwise core ops (LRN's channel window sum is an
// AveragePool over the channel axis).
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

Status check_float(NodeContext& ctx, const Value* x) {
  if (x->type.dtype == DType::kF32 || x->type.dtype == DType::kF64) return Status::ok();
  return ctx.unsupported(ctx.op_type() + " of " + std::string(dtype_name(x->type.dtype)));
}

ir::Attrs reduce_over(const std::vector<int64_t>& axes) {
  ir::Attrs a;
  a.set("axes", axes).set("keepdims", int64_t{1});
  return a;
}

// (x - mean) / sqrt(var + eps) over `axes`, var = mean((x - mean)^2).
Expected<Value*> standardize(NodeContext& ctx, Value* x, const std::vector<int64_t>& axes, double eps) {
  ir::Attrs reduce = reduce_over(axes);
  KILN_ASSIGN_OR_RETURN(Value * mean, ctx.add(OpKind::kReduceMean, {x}, reduce, "mean"));
  KILN_ASSIGN_OR_RETURN(Value * d, ctx.add(OpKind::kSub, {x, mean}, {}, "centered"));
  KILN_ASSIGN_OR_RETURN(Value * d2, ctx.add(OpKind::kMul, {d, d}, {}, "squared"));
  KILN_ASSIGN_OR_RETURN(Value * var, ctx.add(OpKind::kReduceMean, {d2}, reduce, "var"));
  KILN_ASSIGN_OR_RETURN(Value * ve, ctx.add(OpKind::kAdd, {var, ctx.scalar(x->type.dtype, eps, "epsilon")}, {}, "var_eps"));
  KILN_ASSIGN_OR_RETURN(Value * sd, ctx.add(OpKind::kSqrt, {ve}, {}, "stddev"));
  return ctx.add(OpKind::kDiv, {d, sd}, {}, "normalized");
}

// y * scale + bias with per-channel [C] parameters broadcast over N, C, spatial...
Expected<Value*> channel_affine(NodeContext& ctx, Value* y, Value* scale, Value* bias, int64_t rank) {
  int64_t c = y->type.shape[1];
  ir::Shape ps(static_cast<size_t>(rank - 1), 1);
  ps[0] = c;
  if (scale->type.num_elements() != c || bias->type.num_elements() != c)
    return ctx.error("scale " + scale->type.str() + " and bias " + bias->type.str() + " need " + std::to_string(c) +
                     " values for input " + y->type.str());
  KILN_ASSIGN_OR_RETURN(Value * s, ctx.reshape(scale, ps, "scale_reshaped"));
  KILN_ASSIGN_OR_RETURN(Value * b, ctx.reshape(bias, ps, "bias_reshaped"));
  KILN_ASSIGN_OR_RETURN(Value * ys, ctx.add(OpKind::kMul, {y, s}, {}, "scaled"));
  return ctx.add(OpKind::kAdd, {ys, b});
}

}  // namespace

Status map_instance_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_float(ctx, x));
  int64_t rank = x->type.rank();
  if (rank < 3) return ctx.error("input " + x->type.str() + " needs rank 3 or more (N, C, spatial...)");
  std::vector<int64_t> axes;
  for (int64_t a = 2; a < rank; ++a) axes.push_back(a);
  KILN_ASSIGN_OR_RETURN(Value * n, standardize(ctx, x, axes, ctx.attr_float("epsilon", 1e-5)));
  KILN_ASSIGN_OR_RETURN(Value * y, channel_affine(ctx, n, ctx.input(1), ctx.input(2), rank));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_group_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_float(ctx, x));
  int64_t rank = x->type.rank();
  if (rank < 3) return ctx.error("input " + x->type.str() + " needs rank 3 or more (N, C, spatial...)");
  int64_t g = ctx.attr_int("num_groups", 0);
  int64_t n = x->type.shape[0], c = x->type.shape[1];
  if (g < 1 || c % g != 0)
    return ctx.error("num_groups " + std::to_string(g) + " must be positive and divide the channels of " + x->type.str());
  KILN_ASSIGN_OR_RETURN(Value * xg, ctx.reshape(x, {n, g, x->type.num_elements() / (n * g)}, "grouped"));
  KILN_ASSIGN_OR_RETURN(Value * ng, standardize(ctx, xg, {2}, ctx.attr_float("epsilon", 1e-5)));
  KILN_ASSIGN_OR_RETURN(Value * nx, ctx.reshape(ng, x->type.shape, "ungrouped"));
  Value* scale = ctx.input(1);
  Value* bias = ctx.input(2);
  if (scale->type.num_elements() == g && g != c) {  // opset 18: one scale and bias per group
    for (Value** p : {&scale, &bias}) {
      std::string what = p == &scale ? "scale" : "bias";
      if ((*p)->type.num_elements() != g) return ctx.error(what + " " + (*p)->type.str() + " needs " + std::to_string(g) + " values");
      KILN_ASSIGN_OR_RETURN(Value * col, ctx.reshape(*p, {g, 1}, what + "_column"));
      KILN_ASSIGN_OR_RETURN(Value * e, ctx.add(OpKind::kExpand, {col}, ir::Attrs().set("shape", ir::Shape{g, c / g}),
                                               what + "_per_channel"));
      KILN_ASSIGN_OR_RETURN(*p, ctx.reshape(e, {c}, what + "_flat"));
    }
  }
  KILN_ASSIGN_OR_RETURN(Value * y, channel_affine(ctx, nx, scale, bias, rank));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_lp_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_float(ctx, x));
  int64_t axis_attr = ctx.attr_int("axis", -1);
  auto axis = normalize_axis(axis_attr, x->type.rank());
  if (!axis) return ctx.error("axis " + std::to_string(axis_attr) + " is out of range for input " + x->type.str());
  int64_t p = ctx.attr_int("p", 2);
  if (p != 1 && p != 2) return ctx.error("p " + std::to_string(p) + " must be 1 or 2");
  Value* t = nullptr;
  if (p == 1) {
    KILN_ASSIGN_OR_RETURN(t, ctx.add(OpKind::kAbs, {x}, {}, "abs"));
  } else {
    KILN_ASSIGN_OR_RETURN(t, ctx.add(OpKind::kMul, {x, x}, {}, "squared"));
  }
  KILN_ASSIGN_OR_RETURN(Value * norm, ctx.add(OpKind::kReduceSum, {t}, reduce_over({*axis}), "sum"));
  if (p == 2) {
    KILN_ASSIGN_OR_RETURN(norm, ctx.add(OpKind::kSqrt, {norm}, {}, "norm"));
  }
  KILN_ASSIGN_OR_RETURN(Value * q, ctx.add(OpKind::kDiv, {x, norm}, {}, "quotient"));
  // A zero norm gives 0, not 0/0 (as the ONNX reference).
  Value* zero = ctx.scalar(x->type.dtype, 0.0, "zero");
  KILN_ASSIGN_OR_RETURN(Value * is_zero, ctx.add(OpKind::kEqual, {norm, zero}, {}, "norm_is_zero"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kWhere, {is_zero, zero, q}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_mvn(NodeContext& ctx) {
  // ONNX's function body: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9).
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_float(ctx, x));
  std::vector<int64_t> axes;
  for (int64_t a : ctx.attr_ints("axes", {0, 2, 3})) {
    auto n = normalize_axis(a, x->type.rank());
    if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + x->type.str());
    axes.push_back(*n);
  }
  std::sort(axes.begin(), axes.end());
  ir::Attrs reduce = reduce_over(axes);
  DType dt = x->type.dtype;
  KILN_ASSIGN_OR_RETURN(Value * mean, ctx.add(OpKind::kReduceMean, {x}, reduce, "mean"));
  KILN_ASSIGN_OR_RETURN(Value * mean2, ctx.add(OpKind::kMul, {mean, mean}, {}, "mean_squared"));
  KILN_ASSIGN_OR_RETURN(Value * x2, ctx.add(OpKind::kMul, {x, x}, {}, "squared"));
  KILN_ASSIGN_OR_RETURN(Value * ex2, ctx.add(OpKind::kReduceMean, {x2}, reduce, "mean_of_squares"));
  KILN_ASSIGN_OR_RETURN(Value * var, ctx.add(OpKind::kSub, {ex2, mean2}, {}, "var"));
  KILN_ASSIGN_OR_RETURN(Value * sd, ctx.add(OpKind::kSqrt, {var}, {}, "stddev"));
  KILN_ASSIGN_OR_RETURN(Value * sde, ctx.add(OpKind::kAdd, {sd, ctx.scalar(dt, 1e-9, "epsilon")}, {}, "stddev_eps"));
  KILN_ASSIGN_OR_RETURN(Value * d, ctx.add(OpKind::kSub, {x, mean}, {}, "centered"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kDiv, {d, sde}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_lrn(NodeContext& ctx) {
  // y = x / (bias + alpha / size * sum of x^2 over the channel window)^beta; the
  // window sum / size is an AveragePool (count_include_pad) over N,1,C,rest.
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_float(ctx, x));
  if (x->type.rank() < 3) return ctx.error("input " + x->type.str() + " needs rank 3 or more (N, C, spatial...)");
  int64_t size = ctx.attr_int("size", 0);
  if (size < 1 || size > 2 * x->type.shape[1] + 1)
    return ctx.error("size " + std::to_string(size) + " must be positive and at most 2 * channels + 1");
  DType dt = x->type.dtype;
  int64_t n = x->type.shape[0], c = x->type.shape[1];
  KILN_ASSIGN_OR_RETURN(Value * x2, ctx.add(OpKind::kMul, {x, x}, {}, "squared"));
  KILN_ASSIGN_OR_RETURN(Value * x2r, ctx.reshape(x2, {n, 1, c, x->type.num_elements() / (n * c)}, "squared_nchw"));
  ir::Attrs pool;
  pool.set("kernel", std::vector<int64_t>{size, 1}).set("strides", std::vector<int64_t>{1, 1});
  pool.set("pads", std::vector<int64_t>{(size - 1) / 2, 0, size / 2, 0}).set("dilations", std::vector<int64_t>{1, 1});
  pool.set("ceil_mode", int64_t{0}).set("count_include_pad", int64_t{1});
  KILN_ASSIGN_OR_RETURN(Value * avg, ctx.add(OpKind::kAveragePool, {x2r}, pool, "window_mean"));
  KILN_ASSIGN_OR_RETURN(avg, ctx.reshape(avg, x->type.shape, "window_mean_reshaped"));
  KILN_ASSIGN_OR_RETURN(Value * sc, ctx.add(OpKind::kMul, {avg, ctx.scalar(dt, ctx.attr_float("alpha", 1e-4), "alpha")},
                                            {}, "scaled"));
  KILN_ASSIGN_OR_RETURN(Value * b, ctx.add(OpKind::kAdd, {sc, ctx.scalar(dt, ctx.attr_float("bias", 1.0), "bias")}, {},
                                           "biased"));
  KILN_ASSIGN_OR_RETURN(Value * den, ctx.add(OpKind::kPow, {b, ctx.scalar(dt, ctx.attr_float("beta", 0.75), "beta")},
                                             {}, "denominator"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kDiv, {x, den}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_rms_norm(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_float(ctx, x));
  int64_t axis_attr = ctx.attr_int("axis", -1);
  auto axis = normalize_axis(axis_attr, x->type.rank());
  if (!axis) return ctx.error("axis " + std::to_string(axis_attr) + " is out of range for input " + x->type.str());
  std::vector<int64_t> axes;
  for (int64_t a = *axis; a < x->type.rank(); ++a) axes.push_back(a);
  DType dt = x->type.dtype;
  KILN_ASSIGN_OR_RETURN(Value * x2, ctx.add(OpKind::kMul, {x, x}, {}, "squared"));
  KILN_ASSIGN_OR_RETURN(Value * ms, ctx.add(OpKind::kReduceMean, {x2}, reduce_over(axes), "mean_square"));
  KILN_ASSIGN_OR_RETURN(Value * mse, ctx.add(OpKind::kAdd, {ms, ctx.scalar(dt, ctx.attr_float("epsilon", 1e-5), "epsilon")},
                                             {}, "mean_square_eps"));
  KILN_ASSIGN_OR_RETURN(Value * rms, ctx.add(OpKind::kSqrt, {mse}, {}, "rms"));
  KILN_ASSIGN_OR_RETURN(Value * nx, ctx.add(OpKind::kDiv, {x, rms}, {}, "normalized"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kMul, {nx, ctx.input(1)}));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
