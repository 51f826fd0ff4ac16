#include "frontend/onnx/window_attrs.h"

#include <algorithm>

namespace kiln::frontend {

Expected<std::vector<int64_t>> window_attr(NodeContext& ctx, const std::string& name, size_t k) {
  std::vector<int64_t> v = ctx.attr_ints(name, std::vector<int64_t>(k, 1));
  if (v.size() != k) return ctx.error(name + " " + ints_str(v) + " needs " + std::to_string(k) + " values");
  for (int64_t x : v)
    if (x < 1) return ctx.error(name + " " + ints_str(v) + " must be positive");
  return v;
}

Expected<std::vector<int64_t>> resolve_pads(NodeContext& ctx, const ir::Shape& x_shape,
                                            const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                                            const std::vector<int64_t>& dilations) {
  size_t k = kernel.size();
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * k, 0));
    if (pads.size() != 2 * k) return ctx.error("pads " + ints_str(pads) + " needs " + std::to_string(2 * k) + " values");
    for (int64_t p : pads)
      if (p < 0) return ctx.error("pads " + ints_str(pads) + " must not be negative");
    return pads;  // ONNX's order [x1_begin, x2_begin, ..., x1_end, x2_end]
  }
  if (auto_pad == "VALID") return std::vector<int64_t>(2 * k, 0);
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") return ctx.error("unknown auto_pad '" + auto_pad + "'");
  std::vector<int64_t> pads(2 * k, 0);
  for (size_t i = 0; i < k; ++i) {
    int64_t in = x_shape[2 + i];
    int64_t out = (in + strides[i] - 1) / strides[i];
    int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in);
    int64_t small = total / 2, big = total - small;
    pads[i] = auto_pad == "SAME_UPPER" ? small : big;
    pads[i + k] = auto_pad == "SAME_UPPER" ? big : small;
  }
  return pads;
}

ir::Shape insert_unit_dim(ir::Shape s) {
  s.insert(s.begin() + 2, 1);
  return s;
}

Expected<ir::Attrs> conv_core_attrs(NodeContext& ctx, const ir::Shape& x, const ir::Shape& w) {
  if (w.size() != x.size())
    return ctx.error("weight of shape " + ir::shape_str(w) + " needs rank " + std::to_string(x.size()));
  size_t k = x.size() - 2;
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (ctx.has_attr("kernel_shape") && ctx.attr_ints("kernel_shape") != kernel)
    return ctx.error("kernel_shape " + ints_str(ctx.attr_ints("kernel_shape")) + " disagrees with the weight shape " +
                     ir::shape_str(w));
  KILN_ASSIGN_OR_RETURN(auto strides, window_attr(ctx, "strides", k));
  KILN_ASSIGN_OR_RETURN(auto dilations, window_attr(ctx, "dilations", k));
  KILN_ASSIGN_OR_RETURN(auto pads, resolve_pads(ctx, x, kernel, strides, dilations));
  int64_t group = ctx.attr_int("group", 1);
  if (group < 1) return ctx.error("group " + std::to_string(group) + " must be positive");
  if (k == 1) {
    strides = {1, strides[0]};
    dilations = {1, dilations[0]};
    pads = {0, pads[0], 0, pads[1]};
  }
  ir::Attrs a;
  a.set("strides", strides).set("pads", pads).set("dilations", dilations).set("group", group);
  return a;
}

}  // namespace kiln::frontend
