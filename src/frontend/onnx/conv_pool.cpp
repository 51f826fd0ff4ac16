// Conv, MaxPool, AveragePool and the global pools -> core anchors, with ONNX's
// auto_pad and defaults resolved to explicit [t,l,b,r] pads, strides, dilations.
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

constexpr int kSpatial = 2;  // only 2-D windows so far

std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// A per-spatial-axis attribute (strides, dilations) with default 1, checked for length and sign.
Expected<std::vector<int64_t>> window_attr(NodeContext& ctx, const std::string& name) {
  std::vector<int64_t> v = ctx.attr_ints(name, std::vector<int64_t>(kSpatial, 1));
  if (v.size() != kSpatial) return ctx.error(name + " " + ints_str(v) + " needs 2 values");
  for (int64_t x : v)
    if (x < 1) return ctx.error(name + " " + ints_str(v) + " must be positive");
  return v;
}

// Explicit pads [t,l,b,r] from auto_pad or the pads attribute.
Expected<std::vector<int64_t>> resolve_pads(NodeContext& ctx, const ir::Shape& x_shape,
                                            const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                                            const std::vector<int64_t>& dilations) {
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * kSpatial, 0));
    if (pads.size() != 2 * kSpatial) return ctx.error("pads " + ints_str(pads) + " needs 4 values");
    for (int64_t p : pads)
      if (p < 0) return ctx.error("pads " + ints_str(pads) + " must not be negative");
    return pads;  // ONNX's order [x1_begin, x2_begin, x1_end, x2_end] is [t,l,b,r]
  }
  if (auto_pad == "VALID") return std::vector<int64_t>(2 * kSpatial, 0);
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") return ctx.error("unknown auto_pad '" + auto_pad + "'");
  std::vector<int64_t> pads(2 * kSpatial, 0);
  for (int i = 0; i < kSpatial; ++i) {
    int64_t in = x_shape[2 + i];
    int64_t out = (in + strides[i] - 1) / strides[i];
    int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in);
    int64_t small = total / 2, big = total - small;
    pads[i] = auto_pad == "SAME_UPPER" ? small : big;
    pads[i + kSpatial] = auto_pad == "SAME_UPPER" ? big : small;
  }
  return pads;
}

// Errors unless X is a 4-D (N, C, H, W) tensor.
Status check_2d(NodeContext& ctx, const Value* x) {
  if (x->type.rank() == 2 + kSpatial) return Status::ok();
  if (x->type.rank() >= 3)
    return ctx.error(std::to_string(x->type.rank() - 2) + "-D windows (input " + x->type.str() +
                     ") are not supported; kiln supports 2-D only");
  return ctx.error("input " + x->type.str() + " needs rank 4 (N, C, H, W)");
}

}  // namespace

Status map_conv(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* w = ctx.input(1);
  KILN_RETURN_IF_ERROR(check_2d(ctx, x));
  if (w->type.rank() != 2 + kSpatial) return ctx.error("weight " + w->type.str() + " needs rank 4");
  std::vector<int64_t> kernel(w->type.shape.begin() + 2, w->type.shape.end());
  if (ctx.has_attr("kernel_shape") && ctx.attr_ints("kernel_shape") != kernel)
    return ctx.error("kernel_shape " + ints_str(ctx.attr_ints("kernel_shape")) + " disagrees with weight " +
                     w->type.str());
  KILN_ASSIGN_OR_RETURN(auto strides, window_attr(ctx, "strides"));
  KILN_ASSIGN_OR_RETURN(auto dilations, window_attr(ctx, "dilations"));
  KILN_ASSIGN_OR_RETURN(auto pads, resolve_pads(ctx, x->type.shape, kernel, strides, dilations));
  int64_t group = ctx.attr_int("group", 1);
  if (group < 1) return ctx.error("group " + std::to_string(group) + " must be positive");

  ir::Attrs attrs;
  attrs.set("strides", strides).set("pads", pads).set("dilations", dilations).set("group", group);
  std::vector<Value*> ins = {x, w};
  if (ctx.has_input(2)) ins.push_back(ctx.input(2));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kConv, ins, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_pool(NodeContext& ctx) {
  bool is_max = ctx.op_type() == "MaxPool";
  if (is_max && ctx.output_used(1)) return ctx.unsupported("the Indices output of MaxPool");
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_2d(ctx, x));
  if (!ctx.has_attr("kernel_shape")) return ctx.error("attribute 'kernel_shape' is missing");
  std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  if (kernel.size() != kSpatial) return ctx.error("kernel_shape " + ints_str(kernel) + " needs 2 values");
  for (int64_t k : kernel)
    if (k < 1) return ctx.error("kernel_shape " + ints_str(kernel) + " must be positive");
  KILN_ASSIGN_OR_RETURN(auto strides, window_attr(ctx, "strides"));
  KILN_ASSIGN_OR_RETURN(auto dilations, window_attr(ctx, "dilations"));
  KILN_ASSIGN_OR_RETURN(auto pads, resolve_pads(ctx, x->type.shape, kernel, strides, dilations));
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  int64_t ceil_mode = same ? 0 : ctx.attr_int("ceil_mode", 0);
  int64_t count_include_pad = is_max ? 0 : ctx.attr_int("count_include_pad", 0);

  ir::Attrs attrs;
  attrs.set("kernel", kernel).set("strides", strides).set("pads", pads).set("dilations", dilations);
  attrs.set("ceil_mode", ceil_mode).set("count_include_pad", count_include_pad);
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(is_max ? OpKind::kMaxPool : OpKind::kAveragePool, {x}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_global_pool(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (x->type.rank() < 3) return ctx.error("input " + x->type.str() + " needs rank 3 or more (N, C, spatial...)");
  std::vector<int64_t> axes;
  for (int64_t a = 2; a < x->type.rank(); ++a) axes.push_back(a);
  ir::Attrs attrs;
  attrs.set("axes", axes).set("keepdims", int64_t{1});
  OpKind op = ctx.op_type() == "GlobalMaxPool" ? OpKind::kReduceMax : OpKind::kReduceMean;
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(op, {x}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
