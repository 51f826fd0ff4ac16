// Transpose: output dimension i is input dimension perm[i].
// Attribute perm:ints (default: reversed dimensions).
#include <numeric>

#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

std::vector<int64_t> transpose_perm(const ir::Node& node) {
  int64_t rank = node.inputs[0]->type.rank();
  std::vector<int64_t> perm(rank);
  std::iota(perm.rbegin(), perm.rend(), 0);
  return node.attrs.get_ints("perm", perm);
}

Status infer_transpose(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& in = node.inputs[0]->type;
  std::vector<int64_t> perm = transpose_perm(node);
  if (static_cast<int64_t>(perm.size()) != in.rank())
    return Status::invalid("Transpose perm " + ints_str(perm) + " does not match the rank of " + in.str());
  std::vector<bool> seen(perm.size(), false);
  ir::Shape shape(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= in.rank() || seen[perm[i]])
      return Status::invalid("Transpose perm " + ints_str(perm) + " is not a permutation of the dimensions of " +
                             in.str());
    seen[perm[i]] = true;
    shape[i] = in.shape[perm[i]];
  }
  outputs->assign(1, ir::TensorType{in.dtype, shape});
  return Status::ok();
}

Expr element_transpose(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  std::vector<int64_t> perm = transpose_perm(node);
  std::vector<Expr> idx(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) idx[perm[i]] = out_idx[i];
  return read(0, idx);
}

}  // namespace kiln::ops
