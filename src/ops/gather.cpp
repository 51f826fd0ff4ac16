// Gather: data indexed along `axis` (attribute axis:i, non-negative) by an
// int32/int64 indices tensor; negative indices count from the end. The output
// shape is data.shape[:axis] + indices.shape + data.shape[axis+1:].
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

Status infer_gather(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 2));
  const ir::TensorType& data = node.inputs[0]->type;
  const ir::TensorType& indices = node.inputs[1]->type;
  int64_t axis = node.attrs.get_int("axis", 0);
  if (axis < 0 || axis >= data.rank())
    return Status::invalid("Gather axis " + std::to_string(axis) + " is out of range for data " + data.str());
  if (indices.dtype != DType::kI32 && indices.dtype != DType::kI64)
    return Status::invalid("Gather indices must be int32 or int64, got " + indices.str());
  ir::Shape shape(data.shape.begin(), data.shape.begin() + axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
  outputs->assign(1, ir::TensorType{data.dtype, shape});
  return Status::ok();
}

Expr element_gather(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  const ir::Shape& data = node.inputs[0]->type.shape;
  size_t axis = node.attrs.get_int("axis", 0);
  size_t irank = node.inputs[1]->type.shape.size();
  std::vector<Expr> ind_idx(out_idx.begin() + axis, out_idx.begin() + axis + irank);
  Expr k = read(1, ind_idx);
  if (k.type() != kir::i64()) k = kir::cast(kir::i64(), k);
  int64_t dim = data[axis];
  // Wrap negative indices; clamp out-of-range ones so the load stays in bounds.
  k = clamp_index(kir::select(k < Expr(int64_t{0}), k + Expr(dim), k), dim);
  std::vector<Expr> idx(out_idx.begin(), out_idx.begin() + axis);
  idx.push_back(k);
  idx.insert(idx.end(), out_idx.begin() + axis + irank, out_idx.end());
  return read(0, idx);
}

}  // namespace kiln::ops
