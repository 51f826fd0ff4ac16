// Concat: inputs joined along `axis` (attribute axis:i, non-negative).
// An element reads from the input whose range holds its axis index; the other
// inputs' reads are clamped in bounds so that selecting among them is safe.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

Status infer_concat(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  if (node.inputs.empty()) return Status::invalid("Concat needs at least one input");
  const ir::TensorType& first = node.inputs[0]->type;
  int64_t axis = node.attrs.get_int("axis", 0);
  if (axis < 0 || axis >= first.rank())
    return Status::invalid("Concat axis " + std::to_string(axis) + " is out of range for " + first.str());
  ir::Shape shape = first.shape;
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    const ir::TensorType& t = node.inputs[i]->type;
    bool ok = t.dtype == first.dtype && t.rank() == first.rank();
    for (int64_t d = 0; ok && d < t.rank(); ++d) ok = d == axis || t.shape[d] == first.shape[d];
    if (!ok)
      return Status::invalid("Concat along axis " + std::to_string(axis) + " cannot join " + first.str() +
                             " and " + t.str() + " (input " + std::to_string(i) + ")");
    shape[axis] += t.shape[axis];
  }
  outputs->assign(1, ir::TensorType{first.dtype, shape});
  return Status::ok();
}

Expr element_concat(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  int64_t axis = node.attrs.get_int("axis", 0);
  Expr j = out_idx[axis];
  // Build the select chain from the last input backwards.
  std::vector<int64_t> offsets;
  int64_t off = 0;
  for (const ir::Value* v : node.inputs) {
    offsets.push_back(off);
    off += v->type.shape[axis];
  }
  Expr result;
  for (size_t i = node.inputs.size(); i-- > 0;) {
    int64_t dim = node.inputs[i]->type.shape[axis];
    if (dim == 0) continue;
    std::vector<Expr> idx = out_idx;
    idx[axis] = node.inputs.size() == 1 ? j : clamp_index(j - Expr(offsets[i]), dim);
    Expr value = read(static_cast<int>(i), idx);
    result = !result ? value : kir::select(j < Expr(offsets[i] + dim), value, result);
  }
  KILN_CHECK(result) << "element_concat: every input of " << node.label() << " is empty";
  return result;
}

}  // namespace kiln::ops
