// Split -> one core Slice per output along the split axis. The sizes come from
// the `split` attribute (before opset 13), a constant input, or equal parts
// (num_outputs from opset 18; the last part may be smaller).
#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"

namespace kiln::frontend {

Status map_split(NodeContext& ctx) {
  ir::Value* x = ctx.input(0);
  int64_t axis_attr = ctx.attr_int("axis", 0);
  auto axis = normalize_axis(axis_attr, x->type.rank());
  if (!axis) return ctx.error("axis " + std::to_string(axis_attr) + " is out of range for input " + x->type.str());
  int64_t dim = x->type.shape[*axis];
  int64_t outputs = ctx.num_outputs();

  std::vector<int64_t> sizes;
  if (ctx.opset() < 13) {
    sizes = ctx.attr_ints("split");
  } else if (ctx.has_input(1)) {
    const ir::Tensor* t = ctx.constant_input(1);
    if (!t) return ctx.unsupported("a non-constant split input");
    sizes = t->to_i64_vector();
  }
  if (sizes.empty()) {
    int64_t parts = ctx.opset() >= 18 && ctx.has_attr("num_outputs") ? ctx.attr_int("num_outputs", 0) : outputs;
    if (parts < 1) return ctx.error("needs at least one output");
    if (ctx.opset() < 18 && dim % parts != 0)
      return ctx.error("cannot split dim " + std::to_string(dim) + " into " + std::to_string(parts) + " equal parts");
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0, left = dim; i < parts; ++i, left -= chunk) sizes.push_back(std::max<int64_t>(0, std::min(chunk, left)));
  }
  if (static_cast<int64_t>(sizes.size()) != outputs)
    return ctx.error(std::to_string(sizes.size()) + " split sizes for " + std::to_string(outputs) + " outputs");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) return ctx.error("negative split size");
    total += s;
  }
  if (total != dim)
    return ctx.error("split sizes add up to " + std::to_string(total) + ", not dim " + std::to_string(dim));

  int64_t offset = 0;
  for (int64_t i = 0; i < outputs; ++i) {
    std::vector<int64_t> starts(x->type.rank(), 0), steps(x->type.rank(), 1);
    starts[*axis] = offset;
    ir::Shape shape = x->type.shape;
    shape[*axis] = sizes[i];
    offset += sizes[i];
    if (!ctx.output_used(static_cast<int>(i))) continue;
    if (is_foldable(x)) {
      ctx.set_output(i, ctx.constant(eval_slice(*x->constant, starts, steps, shape), "part" + std::to_string(i)));
      continue;
    }
    ir::Attrs attrs;
    attrs.set("starts", starts).set("steps", steps).set("shape", shape);
    KILN_ASSIGN_OR_RETURN(ir::Value * part, ctx.add(ir::OpKind::kSlice, {x}, attrs, std::to_string(i)));
    ctx.set_output(static_cast<int>(i), part);
  }
  return Status::ok();
}

}  // namespace kiln::frontend
