// ONNX ops whose output shape depends on data, mapped when that data is a
// constant: Compress (constant condition: a Gather of the kept positions) and
// NonZero (constant input: folds to its int64 [rank, count] indices).
#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

Status map_compress(NodeContext& ctx) {
  Value* x = ctx.input(0);
  const ir::Tensor* cond = ctx.constant_input(1);
  if (!cond) return ctx.unsupported("a non-constant condition (the output shape depends on it)");
  if (cond->type().rank() != 1) return ctx.error("condition must be 1-D, got " + cond->type().str());
  int64_t axis = 0;
  if (ctx.has_attr("axis")) {
    int64_t a = ctx.attr_int("axis", 0);
    auto n = normalize_axis(a, x->type.rank());
    if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + x->type.str());
    axis = *n;
  } else {
    // No axis: the flattened input.
    KILN_ASSIGN_OR_RETURN(x, ctx.reshape(x, {x->type.num_elements()}, "flat"));
  }
  int64_t len = x->type.shape[axis];
  if (cond->type().num_elements() > len)
    return ctx.error("condition has " + std::to_string(cond->type().num_elements()) + " values for a dimension of " +
                     std::to_string(len));
  // Positions past the condition's length are dropped, as ONNX says.
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond->type().num_elements(); ++i)
    if (cond->get_f64(i) != 0) keep.push_back(i);
  if (keep.empty()) return ctx.unsupported("a condition with no true value (an empty output)");
  Value* idx = ctx.constant(make_int_tensor(DType::kI64, {static_cast<int64_t>(keep.size())}, keep), "kept");
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kGather, {x, idx}, ir::Attrs().set("axis", axis)));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_nonzero(NodeContext& ctx) {
  const ir::Tensor* x = ctx.constant_input(0);
  if (!x) return ctx.unsupported("a non-constant input (the output shape depends on its values)");
  ir::Shape shape = x->type().shape;
  if (shape.empty()) shape = {1};  // a scalar counts as one element of a 1-D tensor
  int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
  std::vector<int64_t> flat;
  for (int64_t i = 0; i < x->type().num_elements(); ++i)
    if (x->get_f64(i) != 0) flat.push_back(i);
  if (flat.empty()) return ctx.unsupported("an input with no nonzero value (an empty output)");
  int64_t n = static_cast<int64_t>(flat.size());
  // Row d holds the d-th coordinate of each nonzero element, in row-major order.
  std::vector<int64_t> out(rank * n);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t d = 0; d < rank; ++d) out[d * n + k] = flat[k] / strides[d] % shape[d];
  ctx.set_output(0, ctx.constant(make_int_tensor(DType::kI64, {rank, n}, out), "nonzero"));
  return Status::ok();
}

}  // namespace kiln::frontend
