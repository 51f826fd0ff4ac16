// Expand: input 0 broadcast (numpy rules) against attribute shape:ints; the
// output shape is that broadcast result.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

Status infer_expand(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& in = node.inputs[0]->type;
  if (!node.attrs.has("shape")) return Status::invalid("Expand needs the attribute 'shape'");
  const std::vector<int64_t>& target = node.attrs.get_ints("shape");
  for (int64_t d : target)
    if (d < 0) return Status::invalid("Expand shape " + ints_str(target) + " has a negative dimension");
  KILN_ASSIGN_OR_RETURN(ir::Shape shape, broadcast_shapes(in.shape, target));
  outputs->assign(1, ir::TensorType{in.dtype, shape});
  return Status::ok();
}

Expr element_expand(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  return read(0, broadcast_index(out_idx, node.inputs[0]->type.shape));
}

}  // namespace kiln::ops
