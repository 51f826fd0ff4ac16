// Reshape: the same elements in row-major order under a new shape.
// Attribute shape:ints — the output shape, fully resolved by the frontend
// (no -1 or 0). Without it, the node's existing output type is kept.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

Status infer_reshape(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& in = node.inputs[0]->type;
  ir::Shape shape;
  if (node.attrs.has("shape")) {
    shape = node.attrs.get_ints("shape");
  } else if (!node.outputs.empty()) {
    shape = node.outputs[0]->type.shape;
  } else {
    return Status::invalid("Reshape needs the attribute 'shape'");
  }
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return Status::invalid("Reshape target shape " + ints_str(shape) + " has a negative dimension");
    count *= d;
  }
  if (count != in.num_elements())
    return Status::invalid("cannot reshape " + in.str() + " (" + std::to_string(in.num_elements()) +
                           " elements) to " + ints_str(shape) + " (" + std::to_string(count) + " elements)");
  outputs->assign(1, ir::TensorType{in.dtype, shape});
  return Status::ok();
}

Expr element_reshape(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  const ir::Shape& in = node.inputs[0]->type.shape;
  const ir::Shape& out = node.outputs[0]->type.shape;
  Expr flat = flat_index(out_idx, out);
  // Unflatten into the input's dimensions.
  std::vector<int64_t> strides = row_major_strides(in);
  std::vector<Expr> idx(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == 1) {
      idx[i] = Expr(int64_t{0});
      continue;
    }
    Expr q = flat / Expr(strides[i]);
    idx[i] = i == 0 ? q : q % Expr(in[i]);
  }
  return read(0, idx);
}

}  // namespace kiln::ops
