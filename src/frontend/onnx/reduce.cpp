// ReduceMean/Sum/Max/Min -> core reductions with sorted non-negative axes; the
// axes come from an attribute or (newer opsets) a constant input.
#include <algorithm>

#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

Status map_reduce(NodeContext& ctx) {
  ir::Value* x = ctx.input(0);
  const std::string& type = ctx.op_type();
  // ReduceSum took axes as an input from opset 13, the others from opset 18.
  bool axes_input = ctx.opset() >= (type == "ReduceSum" ? 13 : 18);
  std::vector<int64_t> axes;
  if (axes_input) {
    if (ctx.has_input(1)) {
      const ir::Tensor* t = ctx.constant_input(1);
      if (!t) return ctx.unsupported("a non-constant axes input");
      axes = t->to_i64_vector();
    }
  } else {
    axes = ctx.attr_ints("axes");
  }
  int64_t keepdims = ctx.attr_int("keepdims", 1);
  if (axes.empty()) {
    if (ctx.attr_int("noop_with_empty_axes", 0) != 0) {
      ctx.set_output(0, x);
      return Status::ok();
    }
    for (int64_t a = 0; a < x->type.rank(); ++a) axes.push_back(a);
  }
  for (int64_t& a : axes) {
    auto n = normalize_axis(a, x->type.rank());
    if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + x->type.str());
    a = *n;
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  ir::Attrs attrs;
  attrs.set("axes", axes).set("keepdims", keepdims);
  KILN_ASSIGN_OR_RETURN(ir::Value * y, ctx.add(*ir::op_from_name(type), {x}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
