// Mod with numpy broadcasting. Attribute fmod:i — 1: C fmod (the result takes
// the dividend's sign; required for floats); 0: integer modulo whose result
// takes the divisor's sign (Python's %). A zero divisor gives 0 for integers.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

Status infer_mod(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 2));
  const ir::TensorType& a = node.inputs[0]->type;
  const ir::TensorType& b = node.inputs[1]->type;
  if (a.dtype != b.dtype)
    return Status::invalid("Mod needs both inputs of one dtype, got " + a.str() + " and " + b.str());
  if (a.dtype == DType::kBool || a.dtype == DType::kF16)
    return Status::invalid("Mod does not take " + a.str());
  int64_t fmod = node.attrs.get_int("fmod", 0);
  if (dtype_is_float(a.dtype) && fmod == 0)
    return Status::invalid("Mod of floats needs fmod=1, got inputs " + a.str());
  KILN_ASSIGN_OR_RETURN(ir::Shape shape, broadcast_shapes(a.shape, b.shape));
  outputs->assign(1, ir::TensorType{a.dtype, shape});
  return Status::ok();
}

Expr element_mod(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  auto in = [&](int i) { return read(i, broadcast_index(out_idx, node.inputs[i]->type.shape)); };
  Expr a = in(0);
  Expr b = in(1);
  kir::Type t = a.type();
  if (t.is_float()) return a % b;
  Expr zero = kir::make_const(t, 0);
  // An integer remainder by zero traps: divide by 1 instead and yield 0.
  Expr safe_b = kir::select(b == zero, kir::make_const(t, 1), b);
  Expr r = a % safe_b;
  if (node.attrs.get_int("fmod", 0) == 0 && !dtype_is_unsigned(t.elem)) {
    Expr fix = (r != zero) && ((r < zero) != (b < zero));
    r = kir::select(fix, r + b, r);
  }
  return kir::select(b == zero, zero, r);
}

}  // namespace kiln::ops
