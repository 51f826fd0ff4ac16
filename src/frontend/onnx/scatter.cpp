// ONNX ScatterElements (and its opset-9 name Scatter) and ScatterND, onto the
// core ops of the same names (src/ops/scatter.cpp).
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

Status map_scatter(NodeContext& ctx) {
  Value* data = ctx.input(0);
  const std::string reduction = ctx.attr_string("reduction", "none");
  int64_t r = reduction == "none" ? 0 : reduction == "add" ? 1 : reduction == "mul" ? 2 : reduction == "max" ? 3
                                                                                : reduction == "min" ? 4 : -1;
  if (r < 0) return ctx.error("unknown reduction '" + reduction + "'");
  ir::Attrs attrs;
  attrs.set("reduction", r);
  OpKind op = OpKind::kScatterND;
  if (ctx.op_type() != "ScatterND") {
    op = OpKind::kScatterElements;
    int64_t a = ctx.attr_int("axis", 0);
    auto axis = normalize_axis(a, data->type.rank());
    if (!axis) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + data->type.str());
    attrs.set("axis", *axis);
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(op, {data, ctx.input(1), ctx.input(2)}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
