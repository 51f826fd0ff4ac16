// Slice and Expand -> core Slice (per-axis starts/steps, static output shape) and
// core Expand (static broadcast shape); their ONNX operands must be constants.
#include <algorithm>

#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"

namespace kiln::frontend {
namespace {

using ir::Value;

// Slice operand i (input from opset 10, else attribute `attr`), as int64s.
Expected<std::vector<int64_t>> slice_operand(NodeContext& ctx, int i, const std::string& attr, bool* present) {
  *present = true;
  if (ctx.opset() < 10) {
    *present = ctx.has_attr(attr);
    return ctx.attr_ints(attr);
  }
  if (!ctx.has_input(i)) {
    *present = false;
    return std::vector<int64_t>{};
  }
  const ir::Tensor* t = ctx.constant_input(i);
  if (!t) return ctx.unsupported("a non-constant " + attr + " input");
  return t->to_i64_vector();
}

}  // namespace

Status map_slice(NodeContext& ctx) {
  Value* x = ctx.input(0);
  const ir::Shape& s = x->type.shape;
  int64_t rank = x->type.rank();
  bool has_starts, has_ends, has_axes, has_steps;
  KILN_ASSIGN_OR_RETURN(auto starts, slice_operand(ctx, 1, "starts", &has_starts));
  KILN_ASSIGN_OR_RETURN(auto ends, slice_operand(ctx, 2, "ends", &has_ends));
  KILN_ASSIGN_OR_RETURN(auto axes, slice_operand(ctx, 3, "axes", &has_axes));
  KILN_ASSIGN_OR_RETURN(auto steps, slice_operand(ctx, 4, "steps", &has_steps));
  if (!has_starts || !has_ends) return ctx.error("needs starts and ends");
  if (!has_axes)
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (!has_steps) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return ctx.error("starts, ends, axes and steps differ in length");

  std::vector<int64_t> out_starts(rank, 0), out_steps(rank, 1);
  ir::Shape out = s;
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto a = normalize_axis(axes[i], rank);
    if (!a) return ctx.error("axis " + std::to_string(axes[i]) + " is out of range for input " + x->type.str());
    if (seen[*a]) return ctx.error("axis " + std::to_string(axes[i]) + " is sliced twice");
    seen[*a] = true;
    int64_t dim = s[*a], step = steps[i];
    if (step == 0) return ctx.error("a step is 0");
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    int64_t count;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end - step - 1) / -step : 0;
    }
    out_starts[*a] = count > 0 ? start : 0;
    out_steps[*a] = step;
    out[*a] = count;
  }
  if (out == s && std::all_of(out_steps.begin(), out_steps.end(), [](int64_t st) { return st == 1; })) {
    ctx.set_output(0, x);
    return Status::ok();
  }
  if (is_foldable(x)) {
    ctx.set_output(0, ctx.constant(eval_slice(*x->constant, out_starts, out_steps, out), "slice"));
    return Status::ok();
  }
  ir::Attrs attrs;
  attrs.set("starts", out_starts).set("steps", out_steps).set("shape", out);
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(ir::OpKind::kSlice, {x}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_expand(NodeContext& ctx) {
  Value* x = ctx.input(0);
  const ir::Tensor* t = ctx.constant_input(1);
  if (!t) return ctx.unsupported("a non-constant shape input");
  std::vector<int64_t> target = t->to_i64_vector();
  const ir::Shape& s = x->type.shape;
  size_t rank = std::max(s.size(), target.size());
  ir::Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i < rank - s.size() ? 1 : s[i - (rank - s.size())];
    int64_t b = i < rank - target.size() ? 1 : target[i - (rank - target.size())];
    if (a != b && a != 1 && b != 1)
      return ctx.error("input " + x->type.str() + " does not broadcast to shape " + ir::shape_str(target));
    out[i] = a == 1 ? b : a;
  }
  if (out == s) {
    ctx.set_output(0, x);
    return Status::ok();
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(ir::OpKind::kExpand, {x}, ir::Attrs().set("shape", out)));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
