// Quantized ONNX -> core ops. QDQ: QuantizeLinear / DequantizeLinear (opsets
// 10-25: per-tensor, per-axis and blocked parameters, output_dtype, precision)
// become the core ops of the same names with their scale and zero point
// reshaped or repeated to broadcast against x. QOperator: MatMulInteger and
// ConvInteger map onto the int32-accumulating core ops; QLinearMatMul and
// QLinearConv onto those plus an int32 bias Add and a Requantize epilogue;
// DynamicQuantizeLinear onto reductions and QuantizeLinear; the com.microsoft
// QLinearAdd / QLinearMul / QLinearGlobalAveragePool / QLinearConcat (as ONNX
// Runtime emits them) onto DequantizeLinear -> float op -> QuantizeLinear, their
// definition. uint8 and int8 are the quantized types (int32 for a dequantized bias).
#include <cmath>
#include <cstring>

#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"
#include "frontend/onnx/tensor.h"
#include "frontend/onnx/window_attrs.h"
#include "ops/quant_types.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

// A core node emitted without the frontend's folding of constant inputs: a
// DequantizeLinear of constant weights stays a node, so that passes/lower_qdq
// sees the int8 weights (fold_constants folds whatever that pass leaves).
Expected<Value*> add_unfolded(NodeContext& ctx, OpKind op, std::vector<Value*> inputs, ir::Attrs attrs = {},
                              const std::string& suffix = "") {
  std::string name = suffix.empty() ? ctx.name() : ctx.name() + "/" + suffix;
  auto node = ctx.graph().add_node(op, name, std::move(inputs), std::move(attrs));
  if (!node) return ctx.error(node.status().message());
  return (*node)->outputs[0];
}

// `v` with a new shape of the same size: a constant stays a constant.
Expected<Value*> reshaped(NodeContext& ctx, Value* v, const ir::Shape& shape, const std::string& suffix) {
  if (v->type.shape == shape) return v;
  if (v->is_constant()) return ctx.constant(eval_reshape(*v->constant, shape), suffix);
  return ctx.add(OpKind::kReshape, {v}, ir::Attrs().set("shape", shape), suffix);
}

// The quantized type a zero point (or output_dtype) names; kiln computes uint8 and int8.
Status check_quantized_type(NodeContext& ctx, DType t, const std::string& what) {
  if (ops::is_quantized_type(t)) return Status::ok();
  return ctx.unsupported(what + " " + dtype_name(t) + " (kiln's quantized types are uint8 and int8)");
}

// A scale must be float; a constant one finite and non-zero (a zero scale divides by zero).
Status check_scale(NodeContext& ctx, Value* s, const std::string& what) {
  DType t = s->type.dtype;
  if (t != DType::kF32 && t != DType::kF16 && t != DType::kF64)
    return ctx.error(what + " '" + s->name + "' " + s->type.str() + " must be a float tensor");
  if (!s->is_constant()) return Status::ok();
  for (int64_t i = 0; i < s->type.num_elements(); ++i) {
    double v = s->constant->get_f64(i);
    if (v != 0 && std::isfinite(v)) continue;
    std::string at = s->type.num_elements() > 1 ? " element " + std::to_string(i) : std::string();
    return ctx.error(what + " '" + s->name + "'" + at + " is " + (v == 0 ? std::string("0") : std::to_string(v)) +
                     ": a quantization scale must be finite and non-zero");
  }
  return Status::ok();
}

// `t` repeated `block` times along `axis` and cut to `dim` there (blocked parameters).
ir::Tensor repeat_blocks(const ir::Tensor& t, int64_t axis, int64_t block, int64_t dim) {
  ir::Shape shape = t.type().shape;
  int64_t outer = 1, inner = 1, n = shape[axis];
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  shape[axis] = dim;
  ir::Tensor out(ir::TensorType{t.type().dtype, shape});
  int64_t es = dtype_size(t.type().dtype);
  uint8_t* dst = out.mutable_data<uint8_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < dim; ++i)
      std::memcpy(dst + ((o * dim + i) * inner) * es, t.bytes() + ((o * n + i / block) * inner) * es, inner * es);
  return out;
}

// A scale or zero point of a node quantizing `x_shape`, made to broadcast
// against it: one element -> a scalar; per-axis (1-D, its length the axis's
// dim) -> that dim with 1s around it; blocked (block > 0: x's rank, the axis's
// dim ceil(D / block)) -> repeated along the axis. Errors name the parameter.
Expected<Value*> broadcast_param(NodeContext& ctx, Value* p, const ir::Shape& x_shape, int64_t axis_attr, int64_t block,
                                 const std::string& what) {
  const ir::Shape& ps = p->type.shape;
  int64_t rank = static_cast<int64_t>(x_shape.size());
  if (p->type.num_elements() == 1 && (ps.size() <= 1 || block == 0)) return reshaped(ctx, p, {}, what);
  auto axis = normalize_axis(axis_attr, rank);
  if (!axis)
    return ctx.error("axis " + std::to_string(axis_attr) + " is out of range for input of shape " +
                     ir::shape_str(x_shape));
  int64_t dim = x_shape[*axis];
  if (block == 0) {
    if (ps.size() != 1)
      return ctx.error(what + " " + p->type.str() +
                       " must be a scalar or 1-D (per-axis); blocked quantization needs "
                       "block_size");
    if (ps[0] != dim)
      return ctx.error(what + " " + p->type.str() + " has " + std::to_string(ps[0]) + " values but axis " +
                       std::to_string(axis_attr) + " of the input (shape " + ir::shape_str(x_shape) + ") has " +
                       std::to_string(dim) + ": the quantization axis does not match");
    ir::Shape target(rank, 1);
    target[*axis] = dim;
    return reshaped(ctx, p, target, what);
  }
  if (block < 0) return ctx.error("block_size " + std::to_string(block) + " must be positive");
  bool ok = static_cast<int64_t>(ps.size()) == rank && ps[*axis] == (dim + block - 1) / block;
  for (int64_t d = 0; ok && d < rank; ++d) ok = d == *axis || ps[d] == x_shape[d];
  if (!ok)
    return ctx.error(what + " " + p->type.str() + " does not block input of shape " + ir::shape_str(x_shape) +
                     " along axis " + std::to_string(axis_attr) + " with block_size " + std::to_string(block));
  if (p->is_constant()) return ctx.constant(repeat_blocks(*p->constant, *axis, block, dim), what);
  std::vector<int64_t> idx(dim);
  for (int64_t i = 0; i < dim; ++i) idx[i] = i / block;
  Value* indices = ctx.constant(ir::Tensor::from_i64({dim}, idx), what + "_blocks");
  return ctx.add(OpKind::kGather, {p, indices}, ir::Attrs().set("axis", *axis), what + "_repeated");
}

// The zero point of input `i`, or zeros of `dtype` (of `shape`: a scale's) when it is absent.
Value* zero_point_or_zero(NodeContext& ctx, int i, DType dtype, const std::string& suffix,
                          const ir::Shape& shape = {}) {
  if (ctx.has_input(i)) return ctx.input(i);
  return ctx.constant(ir::Tensor(ir::TensorType{dtype, shape}), suffix);
}

// DequantizeLinear(x, scale, zp) of a per-tensor pair, to float32 (the
// com.microsoft ops' inputs).
Expected<Value*> dequantize(NodeContext& ctx, Value* x, Value* s, Value* z, const std::string& suffix) {
  if (!ops::is_quantized_type(x->type.dtype)) return ctx.error("input " + x->type.str() + " must be uint8 or int8");
  if (z->type.dtype != x->type.dtype)
    return ctx.error("zero point " + z->type.str() + " must have the type of its input " + x->type.str());
  KILN_RETURN_IF_ERROR(check_scale(ctx, s, "scale"));
  KILN_ASSIGN_OR_RETURN(s,
                        reshaped(ctx, s, s->type.num_elements() == 1 ? ir::Shape{} : s->type.shape, suffix + "_scale"));
  KILN_ASSIGN_OR_RETURN(z, reshaped(ctx, z, z->type.num_elements() == 1 ? ir::Shape{} : z->type.shape, suffix + "_zp"));
  return ctx.add(OpKind::kDequantizeLinear, {x, s, z}, ir::Attrs().set("to", static_cast<int64_t>(DType::kF32)),
                 suffix);
}

Expected<Value*> quantize(NodeContext& ctx, Value* x, Value* s, Value* z, const std::string& suffix = "") {
  KILN_RETURN_IF_ERROR(check_quantized_type(ctx, z->type.dtype, "output zero point"));
  KILN_RETURN_IF_ERROR(check_scale(ctx, s, "scale"));
  KILN_ASSIGN_OR_RETURN(s,
                        reshaped(ctx, s, s->type.num_elements() == 1 ? ir::Shape{} : s->type.shape, suffix + "_scale"));
  KILN_ASSIGN_OR_RETURN(z, reshaped(ctx, z, z->type.num_elements() == 1 ? ir::Shape{} : z->type.shape, suffix + "_zp"));
  return ctx.add(OpKind::kQuantizeLinear, {x, s, z}, {}, suffix);
}

// The core ConvInteger attributes of a 1-D or 2-D ONNX conv (1-D runs as N,C,1,L).
Expected<ir::Attrs> conv_attrs(NodeContext& ctx, const ir::Shape& x, const ir::Shape& w) {
  if (x.size() != 3 && x.size() != 4)
    return ctx.error("input of shape " + ir::shape_str(x) + ": kiln supports 1-D and 2-D integer convolutions");
  return conv_core_attrs(ctx, x, w);
}

// A one-element parameter (or a constant of one repeated value) as a scalar;
// [n] stays (per-channel); else an error.
Expected<Value*> scalar_or_vector(NodeContext& ctx, Value* p, int64_t n, const std::string& what) {
  if (p->type.num_elements() == 1 && p->type.rank() <= 1) return reshaped(ctx, p, {}, what);
  if (p->is_constant() && p->type.shape == ir::Shape{n} && n > 0) {
    bool uniform = true;
    for (int64_t i = 1; uniform && i < n; ++i) uniform = p->constant->get_f64(i) == p->constant->get_f64(0);
    if (uniform)
      return ctx.constant(
          ir::Tensor(ir::TensorType{p->type.dtype, {}},
                     std::vector<uint8_t>(p->constant->bytes(), p->constant->bytes() + dtype_size(p->type.dtype))),
          what);
  }
  if (p->type.shape == ir::Shape{n}) return p;
  return ctx.error(what + " " + p->type.str() + " must be a scalar or have " + std::to_string(n) + " values");
}

// ConvInteger(x, w, xz, wz) on 1-D or 2-D inputs; the int32 result has x's rank.
// `keep_2d` leaves a 1-D conv's result as N,M,1,L (for a caller that adds more).
Expected<Value*> conv_integer(NodeContext& ctx, Value* x, Value* w, Value* xz, Value* wz, bool* is_1d) {
  KILN_ASSIGN_OR_RETURN(ir::Attrs attrs, conv_attrs(ctx, x->type.shape, w->type.shape));
  *is_1d = x->type.rank() == 3;
  int64_t m = w->type.shape[0];
  if (xz->type.dtype != x->type.dtype)
    return ctx.error("x_zero_point " + xz->type.str() + " must have the input's type " + dtype_name(x->type.dtype));
  if (wz->type.dtype != w->type.dtype)
    return ctx.error("w_zero_point " + wz->type.str() + " must have the weight's type " + dtype_name(w->type.dtype));
  if (xz->type.num_elements() != 1) return ctx.error("x_zero_point " + xz->type.str() + " must be a scalar");
  KILN_ASSIGN_OR_RETURN(xz, reshaped(ctx, xz, {}, "x_zero_point"));
  KILN_ASSIGN_OR_RETURN(wz, scalar_or_vector(ctx, wz, m, "w_zero_point"));
  if (*is_1d) {
    KILN_ASSIGN_OR_RETURN(x, reshaped(ctx, x, insert_unit_dim(x->type.shape), "x_2d"));
    KILN_ASSIGN_OR_RETURN(w, reshaped(ctx, w, insert_unit_dim(w->type.shape), "w_2d"));
  }
  return ctx.add(OpKind::kConvInteger, {x, w, xz, wz}, attrs, "acc");
}

// y (N,M,1,L) back to N,M,L for a 1-D conv.
Expected<Value*> squeeze_1d(NodeContext& ctx, Value* y, bool is_1d) {
  if (!is_1d) return y;
  ir::Shape s = y->type.shape;
  s.erase(s.begin() + 2);
  return ctx.reshape(y, s);
}

// a_scale * b_scale / y_scale in the scales' type, as float32.
Expected<Value*> multiplier(NodeContext& ctx, Value* sa, Value* sb, Value* sy) {
  KILN_ASSIGN_OR_RETURN(Value * ab, ctx.add(OpKind::kMul, {sa, sb}, {}, "scale_product"));
  KILN_ASSIGN_OR_RETURN(Value * m, ctx.add(OpKind::kDiv, {ab, sy}, {}, "multiplier"));
  if (m->type.dtype == DType::kF32) return m;
  return ctx.add(OpKind::kCast, {m}, ir::Attrs().set("to", static_cast<int64_t>(DType::kF32)), "multiplier_f32");
}

Status check_scales_same_type(NodeContext& ctx, const std::vector<Value*>& scales) {
  for (Value* s : scales) KILN_RETURN_IF_ERROR(check_scale(ctx, s, "scale"));
  for (Value* s : scales)
    if (s->type.dtype != scales[0]->type.dtype)
      return ctx.error("scales " + scales[0]->type.str() + " and " + s->type.str() + " differ in type");
  return Status::ok();
}

}  // namespace

// QuantizeLinear (opsets 10-25).
Status map_quantize_linear(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* scale = ctx.input(1);
  if (x->type.dtype != DType::kF32 && x->type.dtype != DType::kF16 && x->type.dtype != DType::kF64)
    return ctx.error("input " + x->type.str() + " must be float");
  KILN_RETURN_IF_ERROR(check_scale(ctx, scale, "scale"));
  int64_t out_code = ctx.attr_int("output_dtype", 0);
  DType out = DType::kU8;
  if (ctx.has_input(2)) {
    out = ctx.input(2)->type.dtype;
    if (out_code != 0 && dtype_from_onnx(static_cast<int32_t>(out_code)) != std::optional<DType>(out))
      return ctx.error("output_dtype " + onnx_type_name(static_cast<int32_t>(out_code)) +
                       " disagrees with the zero point's type " + dtype_name(out));
    if (dtype_is_float(out)) return ctx.error("zero point " + ctx.input(2)->type.str() + " must be an integer type");
  } else if (out_code != 0) {
    std::optional<DType> t = dtype_from_onnx(static_cast<int32_t>(out_code));
    if (!t) return ctx.unsupported("output_dtype " + onnx_type_name(static_cast<int32_t>(out_code)));
    out = *t;
  }
  KILN_RETURN_IF_ERROR(check_quantized_type(ctx, out, "quantization to"));
  Value* zp = zero_point_or_zero(ctx, 2, out, "zero_point", scale->type.shape);
  if (zp->type.shape != scale->type.shape && !(zp->type.num_elements() == 1 && scale->type.num_elements() == 1))
    return ctx.error("zero point " + zp->type.str() + " and scale " + scale->type.str() + " differ in shape");
  int64_t axis = ctx.attr_int("axis", 1), block = ctx.attr_int("block_size", 0);
  KILN_ASSIGN_OR_RETURN(Value * s, broadcast_param(ctx, scale, x->type.shape, axis, block, "scale"));
  KILN_ASSIGN_OR_RETURN(Value * z, broadcast_param(ctx, zp, x->type.shape, axis, block, "zero_point"));
  if (int64_t prec = ctx.attr_int("precision", 0)) {
    std::optional<DType> p = dtype_from_onnx(static_cast<int32_t>(prec));
    if (!p || (*p != DType::kF32 && *p != DType::kF16 && *p != DType::kF64))
      return ctx.unsupported("precision " + onnx_type_name(static_cast<int32_t>(prec)));
    ir::Attrs to = ir::Attrs().set("to", static_cast<int64_t>(*p));
    if (x->type.dtype != *p) {
      KILN_ASSIGN_OR_RETURN(x, ctx.add(OpKind::kCast, {x}, to, "x_precision"));
    }
    if (s->type.dtype != *p) {
      KILN_ASSIGN_OR_RETURN(s, ctx.add(OpKind::kCast, {s}, to, "scale_precision"));
    }
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kQuantizeLinear, {x, s, z}));
  ctx.set_output(0, y);
  return Status::ok();
}

// DequantizeLinear (opsets 10-25).
Status map_dequantize_linear(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* scale = ctx.input(1);
  DType xt = x->type.dtype;
  if (!ops::is_quantized_type(xt) && xt != DType::kI32)
    return ctx.unsupported("dequantizing " + x->type.str() + " (kiln dequantizes uint8, int8 and int32)");
  KILN_RETURN_IF_ERROR(check_scale(ctx, scale, "scale"));
  Value* zp = zero_point_or_zero(ctx, 2, xt, "zero_point", scale->type.shape);
  if (zp->type.dtype != xt)
    return ctx.error("zero point " + zp->type.str() + " must have the input's type " + dtype_name(xt));
  if (zp->type.shape != scale->type.shape && !(zp->type.num_elements() == 1 && scale->type.num_elements() == 1))
    return ctx.error("zero point " + zp->type.str() + " and scale " + scale->type.str() + " differ in shape");
  if (xt == DType::kI32 && zp->is_constant())
    for (int64_t i = 0; i < zp->type.num_elements(); ++i)
      if (zp->constant->get_i64(i) != 0) return ctx.error("an int32 input's zero point must be 0");
  DType out = scale->type.dtype;
  if (int64_t code = ctx.attr_int("output_dtype", 0)) {
    std::optional<DType> t = dtype_from_onnx(static_cast<int32_t>(code));
    if (!t || (*t != DType::kF32 && *t != DType::kF16 && *t != DType::kF64))
      return ctx.unsupported("output_dtype " + onnx_type_name(static_cast<int32_t>(code)));
    out = *t;
  }
  int64_t axis = ctx.attr_int("axis", 1), block = ctx.attr_int("block_size", 0);
  KILN_ASSIGN_OR_RETURN(Value * s, broadcast_param(ctx, scale, x->type.shape, axis, block, "scale"));
  KILN_ASSIGN_OR_RETURN(Value * z, broadcast_param(ctx, zp, x->type.shape, axis, block, "zero_point"));
  KILN_ASSIGN_OR_RETURN(Value * y, add_unfolded(ctx, OpKind::kDequantizeLinear, {x, s, z},
                                                ir::Attrs().set("to", static_cast<int64_t>(out))));
  ctx.set_output(0, y);
  return Status::ok();
}

// DynamicQuantizeLinear: uint8 with scale and zero point from the input's range
// (widened to include 0): scale = (max - min) / 255 (1/255 when the range is
// empty), zero point = round(saturate(-min / scale)); outputs y, scale, zero point.
Status map_dynamic_quantize_linear(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (x->type.dtype != DType::kF32) return ctx.error("input " + x->type.str() + " must be float32");
  std::vector<int64_t> axes;
  for (int64_t a = 0; a < x->type.rank(); ++a) axes.push_back(a);
  ir::Attrs all = ir::Attrs().set("axes", axes).set("keepdims", int64_t{0});
  Value* zero = ctx.scalar(DType::kF32, 0, "zero");
  KILN_ASSIGN_OR_RETURN(Value * mx, ctx.add(OpKind::kReduceMax, {x}, all, "max"));
  KILN_ASSIGN_OR_RETURN(Value * mn, ctx.add(OpKind::kReduceMin, {x}, all, "min"));
  KILN_ASSIGN_OR_RETURN(mx, ctx.add(OpKind::kMax, {mx, zero}, {}, "max0"));
  KILN_ASSIGN_OR_RETURN(mn, ctx.add(OpKind::kMin, {mn, zero}, {}, "min0"));
  KILN_ASSIGN_OR_RETURN(Value * range, ctx.add(OpKind::kSub, {mx, mn}, {}, "range"));
  KILN_ASSIGN_OR_RETURN(Value * empty, ctx.add(OpKind::kEqual, {mx, mn}, {}, "empty"));
  KILN_ASSIGN_OR_RETURN(range,
                        ctx.add(OpKind::kWhere, {empty, ctx.scalar(DType::kF32, 1, "one"), range}, {}, "range1"));
  KILN_ASSIGN_OR_RETURN(Value * scale,
                        ctx.add(OpKind::kDiv, {range, ctx.scalar(DType::kF32, 255, "qrange")}, {}, "scale"));
  KILN_ASSIGN_OR_RETURN(Value * zpf, ctx.add(OpKind::kDiv, {mn, scale}, {}, "min_scaled"));
  KILN_ASSIGN_OR_RETURN(zpf, ctx.add(OpKind::kSub, {zero, zpf}, {}, "zero_point_f"));
  ir::Attrs clip = ir::Attrs().set("min", 0.0).set("max", 255.0);
  KILN_ASSIGN_OR_RETURN(zpf, ctx.add(OpKind::kClip, {zpf}, clip, "zero_point_clipped"));
  KILN_ASSIGN_OR_RETURN(zpf, ctx.add(OpKind::kRound, {zpf}, {}, "zero_point_rounded"));
  KILN_ASSIGN_OR_RETURN(
      Value * zp, ctx.add(OpKind::kCast, {zpf}, ir::Attrs().set("to", static_cast<int64_t>(DType::kU8)), "zero_point"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kQuantizeLinear, {x, scale, zp}));
  ctx.set_output(0, y);
  ctx.set_output(1, scale);
  ctx.set_output(2, zp);
  return Status::ok();
}

// MatMulInteger(A, B[, a_zero_point[, b_zero_point]]) -> int32.
Status map_matmul_integer(NodeContext& ctx) {
  Value* a = ctx.input(0);
  Value* b = ctx.input(1);
  if (!ops::is_quantized_type(a->type.dtype) || !ops::is_quantized_type(b->type.dtype))
    return ctx.error("inputs " + a->type.str() + " and " + b->type.str() + " must be uint8 or int8");
  Value* az = zero_point_or_zero(ctx, 2, a->type.dtype, "a_zero_point");
  Value* bz = zero_point_or_zero(ctx, 3, b->type.dtype, "b_zero_point");
  int64_t m = a->type.rank() >= 2 ? a->type.shape[a->type.rank() - 2] : 1;
  int64_t n = b->type.rank() >= 2 ? b->type.shape.back() : 1;
  KILN_ASSIGN_OR_RETURN(az, scalar_or_vector(ctx, az, m, "a_zero_point"));
  KILN_ASSIGN_OR_RETURN(bz, scalar_or_vector(ctx, bz, n, "b_zero_point"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kMatMulInteger, {a, b, az, bz}));
  ctx.set_output(0, y);
  return Status::ok();
}

// ConvInteger(x, w[, x_zero_point[, w_zero_point]]) -> int32.
Status map_conv_integer(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* w = ctx.input(1);
  Value* xz = zero_point_or_zero(ctx, 2, x->type.dtype, "x_zero_point");
  Value* wz = zero_point_or_zero(ctx, 3, w->type.dtype, "w_zero_point");
  bool is_1d = false;
  KILN_ASSIGN_OR_RETURN(Value * y, conv_integer(ctx, x, w, xz, wz, &is_1d));
  KILN_ASSIGN_OR_RETURN(y, squeeze_1d(ctx, y, is_1d));
  ctx.set_output(0, y);
  return Status::ok();
}

// QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp): MatMulInteger,
// then Requantize by a_scale * b_scale / y_scale (per-row a / per-column b allowed).
Status map_qlinear_matmul(NodeContext& ctx) {
  Value* a = ctx.input(0);
  Value* b = ctx.input(3);
  Value *sa = ctx.input(1), *sb = ctx.input(4), *sy = ctx.input(6);
  KILN_RETURN_IF_ERROR(check_scales_same_type(ctx, {sa, sb, sy}));
  if (!ops::is_quantized_type(a->type.dtype) || !ops::is_quantized_type(b->type.dtype))
    return ctx.error("inputs " + a->type.str() + " and " + b->type.str() + " must be uint8 or int8");
  if (a->type.rank() < 2 || b->type.rank() < 2)
    return ctx.error("inputs " + a->type.str() + " and " + b->type.str() + " need rank 2 or more");
  int64_t m = a->type.shape[a->type.rank() - 2], n = b->type.shape.back();
  Value* az = ctx.input(2);
  Value* bz = ctx.input(5);
  Value* yz = ctx.input(7);
  if (az->type.dtype != a->type.dtype || bz->type.dtype != b->type.dtype)
    return ctx.error("zero points " + az->type.str() + " and " + bz->type.str() + " must have their inputs' types");
  KILN_RETURN_IF_ERROR(check_quantized_type(ctx, yz->type.dtype, "output zero point"));
  if (yz->type.num_elements() != 1 || sy->type.num_elements() != 1)
    return ctx.error("y_scale " + sy->type.str() + " and y_zero_point " + yz->type.str() + " must be scalars");
  KILN_ASSIGN_OR_RETURN(az, scalar_or_vector(ctx, az, m, "a_zero_point"));
  KILN_ASSIGN_OR_RETURN(bz, scalar_or_vector(ctx, bz, n, "b_zero_point"));
  KILN_ASSIGN_OR_RETURN(sa, scalar_or_vector(ctx, sa, m, "a_scale"));
  KILN_ASSIGN_OR_RETURN(sb, scalar_or_vector(ctx, sb, n, "b_scale"));
  if (sa->type.rank() == 1) {
    KILN_ASSIGN_OR_RETURN(sa, reshaped(ctx, sa, {m, 1}, "a_scale_rows"));
  }
  KILN_ASSIGN_OR_RETURN(sy, reshaped(ctx, sy, {}, "y_scale"));
  KILN_ASSIGN_OR_RETURN(yz, reshaped(ctx, yz, {}, "y_zero_point"));
  KILN_ASSIGN_OR_RETURN(Value * acc, ctx.add(OpKind::kMatMulInteger, {a, b, az, bz}, {}, "acc"));
  KILN_ASSIGN_OR_RETURN(Value * mult, multiplier(ctx, sa, sb, sy));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kRequantize, {acc, mult, yz}));
  ctx.set_output(0, y);
  return Status::ok();
}

// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp[, B]): ConvInteger,
// the int32 bias, then Requantize by x_scale * w_scale / y_scale (per output channel).
Status map_qlinear_conv(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* w = ctx.input(3);
  Value *sx = ctx.input(1), *sw = ctx.input(4), *sy = ctx.input(6);
  KILN_RETURN_IF_ERROR(check_scales_same_type(ctx, {sx, sw, sy}));
  Value* yz = ctx.input(7);
  KILN_RETURN_IF_ERROR(check_quantized_type(ctx, yz->type.dtype, "output zero point"));
  if (sx->type.num_elements() != 1 || sy->type.num_elements() != 1 || yz->type.num_elements() != 1)
    return ctx.error("x_scale, y_scale and y_zero_point must be scalars");
  if (w->type.rank() < 3) return ctx.error("weight " + w->type.str() + " needs rank 3 or more");
  int64_t m = w->type.shape[0];
  bool is_1d = false;
  KILN_ASSIGN_OR_RETURN(Value * acc, conv_integer(ctx, x, w, ctx.input(2), ctx.input(5), &is_1d));
  ir::Shape per_channel{m, 1, 1};
  if (ctx.has_input(8)) {
    Value* bias = ctx.input(8);
    if (bias->type.dtype != DType::kI32 || bias->type.shape != ir::Shape{m})
      return ctx.error("bias " + bias->type.str() + " must be int32[" + std::to_string(m) + "]");
    KILN_ASSIGN_OR_RETURN(bias, reshaped(ctx, bias, per_channel, "bias"));
    KILN_ASSIGN_OR_RETURN(acc, ctx.add(OpKind::kAdd, {acc, bias}, {}, "biased"));
  }
  KILN_ASSIGN_OR_RETURN(sw, scalar_or_vector(ctx, sw, m, "w_scale"));
  if (sw->type.rank() == 1) {
    KILN_ASSIGN_OR_RETURN(sw, reshaped(ctx, sw, per_channel, "w_scale_channels"));
  }
  KILN_ASSIGN_OR_RETURN(sx, reshaped(ctx, sx, {}, "x_scale"));
  KILN_ASSIGN_OR_RETURN(sy, reshaped(ctx, sy, {}, "y_scale"));
  KILN_ASSIGN_OR_RETURN(yz, reshaped(ctx, yz, {}, "y_zero_point"));
  KILN_ASSIGN_OR_RETURN(Value * mult, multiplier(ctx, sx, sw, sy));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kRequantize, {acc, mult, yz}, {}, is_1d ? "requantized" : ""));
  KILN_ASSIGN_OR_RETURN(y, squeeze_1d(ctx, y, is_1d));
  ctx.set_output(0, y);
  return Status::ok();
}

// com.microsoft QLinearAdd / QLinearMul(A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp):
// C = quantize(dequantize(A) op dequantize(B)); zero points default to 0 of A's type.
Status map_qlinear_binary(NodeContext& ctx) {
  for (int i : {3, 4, 6})
    if (!ctx.has_input(i)) return ctx.error("needs input " + std::to_string(i));
  Value* a = ctx.input(0);
  DType t = a->type.dtype;
  KILN_ASSIGN_OR_RETURN(Value * af, dequantize(ctx, a, ctx.input(1), zero_point_or_zero(ctx, 2, t, "a_zp"), "a"));
  KILN_ASSIGN_OR_RETURN(Value * bf, dequantize(ctx, ctx.input(3), ctx.input(4),
                                               zero_point_or_zero(ctx, 5, ctx.input(3)->type.dtype, "b_zp"), "b"));
  OpKind op = ctx.op_type() == "QLinearAdd" ? OpKind::kAdd : OpKind::kMul;
  KILN_ASSIGN_OR_RETURN(Value * c, ctx.add(op, {af, bf}, {}, "float"));
  KILN_ASSIGN_OR_RETURN(Value * y, quantize(ctx, c, ctx.input(6), zero_point_or_zero(ctx, 7, t, "c_zp")));
  ctx.set_output(0, y);
  return Status::ok();
}

// com.microsoft QLinearGlobalAveragePool(X, x_scale, x_zp, y_scale, y_zp) {channels_last}.
Status map_qlinear_global_average_pool(NodeContext& ctx) {
  if (!ctx.has_input(3)) return ctx.error("needs input 3 (y_scale)");
  Value* x = ctx.input(0);
  int64_t rank = x->type.rank();
  if (rank < 3) return ctx.error("input " + x->type.str() + " needs rank 3 or more");
  bool last = ctx.attr_int("channels_last", 0) != 0;
  std::vector<int64_t> axes;
  for (int64_t a = last ? 1 : 2; a < (last ? rank - 1 : rank); ++a) axes.push_back(a);
  DType t = x->type.dtype;
  KILN_ASSIGN_OR_RETURN(Value * xf, dequantize(ctx, x, ctx.input(1), zero_point_or_zero(ctx, 2, t, "x_zp"), "x"));
  KILN_ASSIGN_OR_RETURN(Value * mean, ctx.add(OpKind::kReduceMean, {xf},
                                              ir::Attrs().set("axes", axes).set("keepdims", int64_t{1}), "mean"));
  KILN_ASSIGN_OR_RETURN(Value * y, quantize(ctx, mean, ctx.input(3), zero_point_or_zero(ctx, 4, t, "y_zp")));
  ctx.set_output(0, y);
  return Status::ok();
}

// com.microsoft QLinearConcat(Y_scale, Y_zp, X1, X1_scale, X1_zp, ...) {axis}: inputs whose
// parameters equal the output's are concatenated as they are, the others requantized.
Status map_qlinear_concat(NodeContext& ctx) {
  int n = ctx.num_inputs();
  if (n < 5 || (n - 2) % 3 != 0) return ctx.error("needs Y_scale, Y_zero_point and (X, X_scale, X_zero_point) triples");
  Value* sy = ctx.input(0);
  Value* zy = ctx.input(1);
  KILN_RETURN_IF_ERROR(check_quantized_type(ctx, zy->type.dtype, "output zero point"));
  KILN_RETURN_IF_ERROR(check_scale(ctx, sy, "Y_scale"));
  auto same = [](const Value* p, const Value* q) {
    if (p == q) return true;
    if (!p->is_constant() || !q->is_constant() || p->type.dtype != q->type.dtype) return false;
    if (p->type.num_elements() != 1 || q->type.num_elements() != 1) return false;
    return p->constant->get_f64(0) == q->constant->get_f64(0);
  };
  std::vector<Value*> parts;
  for (int i = 2; i + 2 < n; i += 3) {
    Value* x = ctx.input(i);
    Value* s = ctx.input(i + 1);
    Value* z = ctx.input(i + 2);
    if (x->type.dtype == zy->type.dtype && same(s, sy) && same(z, zy)) {
      parts.push_back(x);
      continue;
    }
    std::string suffix = "input" + std::to_string((i - 2) / 3);
    KILN_ASSIGN_OR_RETURN(Value * xf, dequantize(ctx, x, s, z, suffix));
    KILN_ASSIGN_OR_RETURN(Value * xq, quantize(ctx, xf, sy, zy, suffix + "_requantized"));
    parts.push_back(xq);
  }
  if (!ctx.has_attr("axis")) return ctx.error("attribute 'axis' is missing");
  int64_t axis = ctx.attr_int("axis", 0);
  auto a = normalize_axis(axis, parts[0]->type.rank());
  if (!a) return ctx.error("axis " + std::to_string(axis) + " is out of range for input " + parts[0]->type.str());
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kConcat, parts, ir::Attrs().set("axis", *a)));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
