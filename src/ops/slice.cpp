// Slice: input[starts[i] + out_idx[i] * steps[i]] along every axis.
// Attributes (normalized by the frontend, one per input dimension):
// starts:ints (in range), steps:ints (non-zero, negative walks backwards),
// shape:ints (the output shape).
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

Status infer_slice(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& in = node.inputs[0]->type;
  if (!node.attrs.has("starts") || !node.attrs.has("steps") || !node.attrs.has("shape"))
    return Status::invalid("Slice needs the attributes 'starts', 'steps' and 'shape'");
  const std::vector<int64_t>& starts = node.attrs.get_ints("starts");
  const std::vector<int64_t>& steps = node.attrs.get_ints("steps");
  const std::vector<int64_t>& shape = node.attrs.get_ints("shape");
  int64_t rank = in.rank();
  if (static_cast<int64_t>(starts.size()) != rank || static_cast<int64_t>(steps.size()) != rank ||
      static_cast<int64_t>(shape.size()) != rank)
    return Status::invalid("Slice of " + in.str() + " needs one start, step and output size per dimension, got " +
                           "starts " + ints_str(starts) + ", steps " + ints_str(steps) + ", shape " + ints_str(shape));
  for (int64_t i = 0; i < rank; ++i) {
    if (steps[i] == 0) return Status::invalid("Slice step 0 on axis " + std::to_string(i));
    if (shape[i] < 0) return Status::invalid("Slice output shape " + ints_str(shape) + " is negative");
    if (shape[i] == 0) continue;
    int64_t last = starts[i] + (shape[i] - 1) * steps[i];
    if (starts[i] < 0 || starts[i] >= in.shape[i] || last < 0 || last >= in.shape[i])
      return Status::invalid("Slice on axis " + std::to_string(i) + " (start " + std::to_string(starts[i]) +
                             ", step " + std::to_string(steps[i]) + ", " + std::to_string(shape[i]) +
                             " elements) reads outside " + in.str());
  }
  outputs->assign(1, ir::TensorType{in.dtype, shape});
  return Status::ok();
}

Expr element_slice(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  const std::vector<int64_t>& starts = node.attrs.get_ints("starts");
  const std::vector<int64_t>& steps = node.attrs.get_ints("steps");
  std::vector<Expr> idx(out_idx.size());
  for (size_t i = 0; i < out_idx.size(); ++i) idx[i] = Expr(starts[i]) + out_idx[i] * Expr(steps[i]);
  return read(0, idx);
}

}  // namespace kiln::ops
