// Softmax and LogSoftmax -> the core ops over one non-negative axis. Before
// opset 13 ONNX coerced the input to 2-D at `axis` (default 1); that becomes
// Reshape -> softmax over the last axis -> Reshape back. float16 is computed in
// float32 and rounded once, at the output.
#include <numeric>

#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

namespace {

// The softmax of `x` (float32 or float64) as the node's attributes define it.
Expected<ir::Value*> softmax(NodeContext& ctx, ir::Value* x) {
  ir::OpKind op = ctx.op_type() == "Softmax" ? ir::OpKind::kSoftmax : ir::OpKind::kLogSoftmax;
  int64_t rank = x->type.rank();
  if (rank == 0) return ctx.error("input " + x->type.str() + " needs rank 1 or more");
  bool coerce = ctx.opset() < 13;
  int64_t axis = ctx.attr_int("axis", coerce ? 1 : -1);
  if (coerce ? (axis < -rank || axis > rank) : !normalize_axis(axis, rank))
    return ctx.error("axis " + std::to_string(axis) + " is out of range for input " + x->type.str());
  if (axis < 0) axis += rank;
  // Old semantics over [prod(d[:axis]), prod(d[axis:])] equal the new ones when axis is the last dim.
  if (!coerce || axis == rank - 1) return ctx.add(op, {x}, ir::Attrs().set("axis", axis), "softmax");
  const ir::Shape& s = x->type.shape;
  int64_t outer = std::accumulate(s.begin(), s.begin() + axis, int64_t{1}, std::multiplies<>());
  int64_t inner = std::accumulate(s.begin() + axis, s.end(), int64_t{1}, std::multiplies<>());
  KILN_ASSIGN_OR_RETURN(ir::Value * flat, ctx.reshape(x, {outer, inner}, "flatten"));
  KILN_ASSIGN_OR_RETURN(ir::Value * sm, ctx.add(op, {flat}, ir::Attrs().set("axis", int64_t{1}), "softmax"));
  return ctx.reshape(sm, s, "unflatten");
}

ir::Attrs cast_to(DType t) { return ir::Attrs().set("to", static_cast<int64_t>(t)); }

}  // namespace

Status map_softmax(NodeContext& ctx) {
  ir::Value* x = ctx.input(0);
  if (x->type.dtype != DType::kF16) {
    KILN_ASSIGN_OR_RETURN(ir::Value * y, softmax(ctx, x));
    ctx.set_output(0, y);
    return Status::ok();
  }
  KILN_ASSIGN_OR_RETURN(ir::Value * x32, ctx.add(ir::OpKind::kCast, {x}, cast_to(DType::kF32), "f32"));
  KILN_ASSIGN_OR_RETURN(ir::Value * y32, softmax(ctx, x32));
  KILN_ASSIGN_OR_RETURN(ir::Value * y, ctx.add(ir::OpKind::kCast, {y32}, cast_to(DType::kF16)));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
