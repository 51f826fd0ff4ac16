// Softmax and LogSoftmax -> the core ops over one non-negative axis. Before
// opset 13 ONNX coerced the input to 2-D at `axis` (default 1); that becomes
// Reshape -> softmax over the last axis -> Reshape back.
#include <numeric>

#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

Status map_softmax(NodeContext& ctx) {
  ir::Value* x = ctx.input(0);
  ir::OpKind op = ctx.op_type() == "Softmax" ? ir::OpKind::kSoftmax : ir::OpKind::kLogSoftmax;
  int64_t rank = x->type.rank();
  if (rank == 0) return ctx.error("input " + x->type.str() + " needs rank 1 or more");
  bool coerce = ctx.opset() < 13;
  int64_t axis = ctx.attr_int("axis", coerce ? 1 : -1);
  if (coerce ? (axis < -rank || axis > rank) : !normalize_axis(axis, rank))
    return ctx.error("axis " + std::to_string(axis) + " is out of range for input " + x->type.str());
  if (axis < 0) axis += rank;
  // Old semantics over [prod(d[:axis]), prod(d[axis:])] equal the new ones when axis is the last dim.
  if (!coerce || axis == rank - 1) {
    KILN_ASSIGN_OR_RETURN(ir::Value * y, ctx.add(op, {x}, ir::Attrs().set("axis", axis)));
    ctx.set_output(0, y);
    return Status::ok();
  }
  const ir::Shape& s = x->type.shape;
  int64_t outer = std::accumulate(s.begin(), s.begin() + axis, int64_t{1}, std::multiplies<>());
  int64_t inner = std::accumulate(s.begin() + axis, s.end(), int64_t{1}, std::multiplies<>());
  KILN_ASSIGN_OR_RETURN(ir::Value * flat, ctx.reshape(x, {outer, inner}, "flatten"));
  KILN_ASSIGN_OR_RETURN(ir::Value * sm, ctx.add(op, {flat}, ir::Attrs().set("axis", int64_t{1}), "softmax"));
  KILN_ASSIGN_OR_RETURN(ir::Value * y, ctx.reshape(sm, s));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
