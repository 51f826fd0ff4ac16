// GatherElements (attribute axis:i, non-negative: output[i] = data[i with
// i[axis] = indices[i]]) and GatherND (batch_dims:i: the last dimension of
// indices addresses the leading data dimensions after the batch ones).
// Negative indices count from the end; out-of-range ones are clamped.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

namespace {

Status check_indices(const char* op, const ir::TensorType& indices) {
  if (indices.dtype != DType::kI32 && indices.dtype != DType::kI64)
    return Status::invalid(std::string(op) + " indices must be int32 or int64, got " + indices.str());
  return Status::ok();
}

// An index read from the indices tensor, wrapped and clamped into [0, dim).
Expr wrap_index(Expr k, int64_t dim) {
  if (k.type() != kir::i64()) k = kir::cast(kir::i64(), k);
  return clamp_index(kir::select(k < Expr(int64_t{0}), k + Expr(dim), k), dim);
}

}  // namespace

Status infer_gather_elements(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 2));
  const ir::TensorType& data = node.inputs[0]->type;
  const ir::TensorType& indices = node.inputs[1]->type;
  KILN_RETURN_IF_ERROR(check_indices("GatherElements", indices));
  int64_t axis = node.attrs.get_int("axis", 0);
  if (axis < 0 || axis >= data.rank())
    return Status::invalid("GatherElements axis " + std::to_string(axis) + " is out of range for data " + data.str());
  if (indices.rank() != data.rank())
    return Status::invalid("GatherElements needs indices of the data's rank, got data " + data.str() + " and indices " +
                           indices.str());
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && indices.shape[d] > data.shape[d])
      return Status::invalid("GatherElements indices " + indices.str() + " exceed data " + data.str() + " in dimension " +
                             std::to_string(d));
  outputs->assign(1, ir::TensorType{data.dtype, indices.shape});
  return Status::ok();
}

Expr element_gather_elements(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  size_t axis = node.attrs.get_int("axis", 0);
  std::vector<Expr> idx = out_idx;
  idx[axis] = wrap_index(read(1, out_idx), node.inputs[0]->type.shape[axis]);
  return read(0, idx);
}

Status infer_gather_nd(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 2));
  const ir::TensorType& data = node.inputs[0]->type;
  const ir::TensorType& indices = node.inputs[1]->type;
  KILN_RETURN_IF_ERROR(check_indices("GatherND", indices));
  int64_t b = node.attrs.get_int("batch_dims", 0);
  if (indices.rank() < 1) return Status::invalid("GatherND needs indices of rank >= 1, got " + indices.str());
  int64_t m = indices.shape.back();
  if (b < 0 || b >= indices.rank() || b + m > data.rank())
    return Status::invalid("GatherND indices " + indices.str() + " with batch_dims " + std::to_string(b) +
                           " do not fit data " + data.str());
  for (int64_t d = 0; d < b; ++d)
    if (indices.shape[d] != data.shape[d])
      return Status::invalid("GatherND batch dimensions differ between data " + data.str() + " and indices " +
                             indices.str());
  ir::Shape shape(indices.shape.begin(), indices.shape.end() - 1);
  shape.insert(shape.end(), data.shape.begin() + b + m, data.shape.end());
  outputs->assign(1, ir::TensorType{data.dtype, shape});
  return Status::ok();
}

Expr element_gather_nd(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  const ir::Shape& data = node.inputs[0]->type.shape;
  const ir::Shape& indices = node.inputs[1]->type.shape;
  size_t b = node.attrs.get_int("batch_dims", 0);
  size_t q = indices.size();
  size_t m = indices.back();
  std::vector<Expr> idx(out_idx.begin(), out_idx.begin() + b);
  std::vector<Expr> ind_idx(out_idx.begin(), out_idx.begin() + (q - 1));
  ind_idx.push_back(Expr(int64_t{0}));
  for (size_t k = 0; k < m; ++k) {
    ind_idx.back() = Expr(static_cast<int64_t>(k));
    idx.push_back(wrap_index(read(1, ind_idx), data[b + k]));
  }
  idx.insert(idx.end(), out_idx.begin() + (q - 1), out_idx.end());
  return read(0, idx);
}

}  // namespace kiln::ops
