// Conv, ConvTranspose, MaxPool, AveragePool, LpPool and the global pools -> core
// ops, with ONNX's auto_pad and defaults resolved to explicit pads (all begins,
// then all ends), strides, dilations. Pools and ConvTranspose take any number of
// spatial dims; the core Conv is 2-D, so a 1-D Conv runs as N,C,1,L. A
// ConvTranspose whose kernel tiles the output exactly runs as a MatMul.
#include "frontend/onnx/op_table.h"
#include "frontend/onnx/window_attrs.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

// Errors unless X has rank 3 or more (N, C, spatial...); returns the number of spatial dims.
Expected<size_t> spatial_dims(NodeContext& ctx, const Value* x) {
  if (x->type.rank() < 3) return ctx.error("input " + x->type.str() + " needs rank 3 or more (N, C, spatial...)");
  return static_cast<size_t>(x->type.rank() - 2);
}

// ConvTranspose whose kernel equals its stride (U-Net's 2x2 stride-2 up-step),
// without pads or groups: each input pixel writes its own kh x kw output tile,
// so it is a MatMul [N*H*W, C] x [C, M*kh*kw] and a rearrangement of the tiles.
Status map_conv_transpose_tiles(NodeContext& ctx, Value* x, Value* w) {
  const ir::Shape& xs = x->type.shape;
  const ir::Shape& ws = w->type.shape;
  int64_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3], m = ws[1], kh = ws[2], kw = ws[3];
  if (ws[0] != c) return ctx.error("weight " + w->type.str() + " needs " + std::to_string(c) + " input channels");
  ir::Attrs to_nhwc, from_tiles;
  to_nhwc.set("perm", std::vector<int64_t>{0, 2, 3, 1});
  from_tiles.set("perm", std::vector<int64_t>{0, 3, 1, 4, 2, 5});
  KILN_ASSIGN_OR_RETURN(Value * xt, ctx.add(OpKind::kTranspose, {x}, to_nhwc, "nhwc"));
  KILN_ASSIGN_OR_RETURN(Value * rows, ctx.reshape(xt, {n * h * wd, c}, "rows"));
  KILN_ASSIGN_OR_RETURN(Value * wm, ctx.reshape(w, {c, m * kh * kw}, "weight_matrix"));
  KILN_ASSIGN_OR_RETURN(Value * tiles, ctx.add(OpKind::kMatMul, {rows, wm}, {}, "tiles"));
  KILN_ASSIGN_OR_RETURN(Value * t6, ctx.reshape(tiles, {n, h, wd, m, kh, kw}, "tiles_6d"));
  KILN_ASSIGN_OR_RETURN(Value * placed, ctx.add(OpKind::kTranspose, {t6}, from_tiles, "placed"));
  bool has_bias = ctx.has_input(2);
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.reshape(placed, {n, m, h * kh, wd * kw}, has_bias ? "unbiased" : ""));
  if (has_bias) {
    KILN_ASSIGN_OR_RETURN(Value * b, ctx.reshape(ctx.input(2), {m, 1, 1}, "bias"));
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kAdd, {y, b}));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace

Status map_conv(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* w = ctx.input(1);
  KILN_ASSIGN_OR_RETURN(size_t k, spatial_dims(ctx, x));
  if (k > 2) return ctx.error(std::to_string(k) + "-D convolution (input " + x->type.str() + ") is not supported");
  KILN_ASSIGN_OR_RETURN(ir::Attrs attrs, conv_core_attrs(ctx, x->type.shape, w->type.shape));

  if (k == 1) {  // N,C,L as N,C,1,L with a 1xK kernel
    KILN_ASSIGN_OR_RETURN(x, ctx.reshape(x, insert_unit_dim(x->type.shape), "x_2d"));
    KILN_ASSIGN_OR_RETURN(w, ctx.reshape(w, insert_unit_dim(w->type.shape), "w_2d"));
  }
  std::vector<Value*> ins = {x, w};
  if (ctx.has_input(2)) ins.push_back(ctx.input(2));
  // float16 is computed in float32 (accumulating there) and rounded once.
  const bool half = x->type.dtype == DType::kF16;
  auto cast_to = [](DType t) { return ir::Attrs().set("to", static_cast<int64_t>(t)); };
  for (size_t i = 0; half && i < ins.size(); ++i) {
    if (ins[i]->type.dtype != DType::kF16) continue;
    KILN_ASSIGN_OR_RETURN(ins[i], ctx.add(OpKind::kCast, {ins[i]}, cast_to(DType::kF32), "f32_" + std::to_string(i)));
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kConv, ins, attrs, k == 1 ? "conv_2d" : ""));
  if (half) {
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kCast, {y}, cast_to(DType::kF16), "f16"));
  }
  if (k == 1) {
    ir::Shape s = y->type.shape;
    s.erase(s.begin() + 2);
    KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, s));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_conv_transpose(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* w = ctx.input(1);
  KILN_ASSIGN_OR_RETURN(size_t k, spatial_dims(ctx, x));
  if (w->type.rank() != x->type.rank())
    return ctx.error("weight " + w->type.str() + " needs rank " + std::to_string(x->type.rank()));
  std::vector<int64_t> kernel(w->type.shape.begin() + 2, w->type.shape.end());
  if (ctx.has_attr("kernel_shape") && ctx.attr_ints("kernel_shape") != kernel)
    return ctx.error("kernel_shape " + ints_str(ctx.attr_ints("kernel_shape")) + " disagrees with weight " +
                     w->type.str());
  KILN_ASSIGN_OR_RETURN(auto strides, window_attr(ctx, "strides", k));
  KILN_ASSIGN_OR_RETURN(auto dilations, window_attr(ctx, "dilations", k));
  std::vector<int64_t> out_pad = ctx.attr_ints("output_padding", std::vector<int64_t>(k, 0));
  if (out_pad.size() != k) return ctx.error("output_padding " + ints_str(out_pad) + " needs " + std::to_string(k) + " values");
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  std::vector<int64_t> pads;
  if (ctx.has_attr("output_shape") || same) {
    // Pads from the requested output size: SAME_UPPER puts the extra one at the end.
    std::vector<int64_t> out_shape = ctx.attr_ints("output_shape");
    if (out_shape.size() == k + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
    if (out_shape.empty())
      for (size_t i = 0; i < k; ++i) out_shape.push_back(x->type.shape[2 + i] * strides[i]);
    if (out_shape.size() != k) return ctx.error("output_shape " + ints_str(out_shape) + " needs " + std::to_string(k) + " values");
    pads.assign(2 * k, 0);
    for (size_t i = 0; i < k; ++i) {
      int64_t total = strides[i] * (x->type.shape[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dilations[i] + 1 -
                      out_shape[i];
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);  // floor, as Python's //
      pads[i] = auto_pad == "SAME_UPPER" ? half : total - half;
      pads[k + i] = auto_pad == "SAME_UPPER" ? total - half : half;
      if (pads[k + i] < 0) {  // a larger output than the input covers: more output_padding
        out_pad[i] -= pads[k + i];
        pads[k + i] = 0;
      }
      if (pads[i] < 0) return ctx.unsupported("output_shape " + ints_str(out_shape) + " (negative leading pads)");
    }
  } else if (auto_pad == "NOTSET" || auto_pad.empty() || auto_pad == "VALID") {
    pads = auto_pad == "VALID" ? std::vector<int64_t>(2 * k, 0) : ctx.attr_ints("pads", std::vector<int64_t>(2 * k, 0));
    if (pads.size() != 2 * k) return ctx.error("pads " + ints_str(pads) + " needs " + std::to_string(2 * k) + " values");
  } else {
    return ctx.error("unknown auto_pad '" + auto_pad + "'");
  }
  int64_t group = ctx.attr_int("group", 1);
  bool exact_tiles = k == 2 && group == 1 && kernel == strides && dilations == std::vector<int64_t>(k, 1) &&
                     pads == std::vector<int64_t>(2 * k, 0) && out_pad == std::vector<int64_t>(k, 0);
  if (exact_tiles) return map_conv_transpose_tiles(ctx, x, w);
  ir::Attrs attrs;
  attrs.set("strides", strides).set("pads", pads).set("dilations", dilations).set("output_padding", out_pad);
  attrs.set("group", group);
  std::vector<Value*> ins = {x, w};
  if (ctx.has_input(2)) ins.push_back(ctx.input(2));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kConvTranspose, ins, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_pool(NodeContext& ctx) {
  bool is_max = ctx.op_type() == "MaxPool";
  bool is_lp = ctx.op_type() == "LpPool";
  Value* x = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(size_t k, spatial_dims(ctx, x));
  if (!ctx.has_attr("kernel_shape")) return ctx.error("attribute 'kernel_shape' is missing");
  std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  if (kernel.size() != k) return ctx.error("kernel_shape " + ints_str(kernel) + " needs " + std::to_string(k) + " values");
  for (int64_t v : kernel)
    if (v < 1) return ctx.error("kernel_shape " + ints_str(kernel) + " must be positive");
  KILN_ASSIGN_OR_RETURN(auto strides, window_attr(ctx, "strides", k));
  KILN_ASSIGN_OR_RETURN(auto dilations, window_attr(ctx, "dilations", k));
  KILN_ASSIGN_OR_RETURN(auto pads, resolve_pads(ctx, x->type.shape, kernel, strides, dilations));
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  int64_t ceil_mode = same ? 0 : ctx.attr_int("ceil_mode", 0);
  int64_t count_include_pad = is_max || is_lp ? 0 : ctx.attr_int("count_include_pad", 0);

  ir::Attrs attrs;
  attrs.set("kernel", kernel).set("strides", strides).set("pads", pads).set("dilations", dilations);
  attrs.set("ceil_mode", ceil_mode).set("count_include_pad", count_include_pad);
  OpKind op = is_max ? OpKind::kMaxPool : OpKind::kAveragePool;
  if (is_lp) {
    op = OpKind::kLpPool;
    attrs.set("p", ctx.attr_int("p", 2));
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(op, {x}, attrs));
  ctx.set_output(0, y);
  if (is_max && ctx.num_outputs() > 1 && ctx.output_used(1)) {
    int64_t storage_order = ctx.attr_int("storage_order", 0);
    if (storage_order != 0 && storage_order != 1)
      return ctx.error("storage_order " + std::to_string(storage_order) + " must be 0 or 1");
    attrs.set("storage_order", storage_order);
    KILN_ASSIGN_OR_RETURN(Value * idx, ctx.add(OpKind::kMaxPoolIndices, {x}, attrs, "indices"));
    ctx.set_output(1, idx);
  }
  return Status::ok();
}

Status map_global_pool(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (x->type.rank() < 3) return ctx.error("input " + x->type.str() + " needs rank 3 or more (N, C, spatial...)");
  std::vector<int64_t> axes;
  for (int64_t a = 2; a < x->type.rank(); ++a) axes.push_back(a);
  ir::Attrs attrs;
  attrs.set("axes", axes).set("keepdims", int64_t{1});
  if (ctx.op_type() == "GlobalLpPool") {  // (sum |x|^p)^(1/p)
    int64_t p = ctx.attr_int("p", 2);
    if (p < 1) return ctx.error("p " + std::to_string(p) + " must be positive");
    DType dt = x->type.dtype;
    KILN_ASSIGN_OR_RETURN(Value * a, ctx.add(OpKind::kAbs, {x}, {}, "abs"));
    if (p == 2) {
      KILN_ASSIGN_OR_RETURN(a, ctx.add(OpKind::kMul, {a, a}, {}, "pow"));
    } else if (p != 1) {
      KILN_ASSIGN_OR_RETURN(a, ctx.add(OpKind::kPow, {a, ctx.scalar(dt, static_cast<double>(p), "p")}, {}, "pow"));
    }
    KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kReduceSum, {a}, attrs, p == 1 ? "" : "sum"));
    if (p == 2) {
      KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kSqrt, {y}));
    } else if (p != 1) {
      KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kPow, {y, ctx.scalar(dt, 1.0 / static_cast<double>(p), "inv_p")}));
    }
    ctx.set_output(0, y);
    return Status::ok();
  }
  OpKind op = ctx.op_type() == "GlobalMaxPool" ? OpKind::kReduceMax : OpKind::kReduceMean;
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(op, {x}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
