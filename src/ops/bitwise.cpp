// The integer bitwise ops: BitShift (direction:i, 0 left, 1 right), BitwiseAnd,
// BitwiseOr, BitwiseXor (broadcasting, both inputs of one integer dtype) and
// BitwiseNot. Shifting by >= the bit width gives 0 (see kir::BinOp::kShl).
#include "ops/op_families.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;

Status infer_bitwise(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  const char* name = ir::op_name(node.op);
  bool unary = node.op == OpKind::kBitwiseNot;
  KILN_RETURN_IF_ERROR(check_num_inputs(node, unary ? 1 : 2, unary ? 1 : 2));
  const ir::TensorType& a = node.inputs[0]->type;
  if (dtype_is_float(a.dtype) || a.dtype == DType::kBool)
    return Status::invalid(std::string(name) + " needs integer inputs, got " + a.str());
  if (unary) {
    outputs->assign(1, a);
    return Status::ok();
  }
  const ir::TensorType& b = node.inputs[1]->type;
  if (a.dtype != b.dtype)
    return Status::invalid(std::string(name) + " needs both inputs of one dtype, got " + a.str() + " and " + b.str());
  KILN_ASSIGN_OR_RETURN(ir::Shape shape, broadcast_shapes(a.shape, b.shape));
  outputs->assign(1, ir::TensorType{a.dtype, shape});
  return Status::ok();
}

Expr element_bitwise(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  auto in = [&](int i) { return read(i, broadcast_index(out_idx, node.inputs[i]->type.shape)); };
  switch (node.op) {
    case OpKind::kBitwiseNot: {
      Expr x = in(0);
      return kir::binary(kir::BinOp::kBitXor, x, kir::int_imm(-1, x.type()));
    }
    case OpKind::kBitwiseAnd: return kir::binary(kir::BinOp::kBitAnd, in(0), in(1));
    case OpKind::kBitwiseOr: return kir::binary(kir::BinOp::kBitOr, in(0), in(1));
    case OpKind::kBitwiseXor: return kir::binary(kir::BinOp::kBitXor, in(0), in(1));
    case OpKind::kBitShift:
      return kir::binary(node.attrs.get_int("direction", 0) == 0 ? kir::BinOp::kShl : kir::BinOp::kShr, in(0), in(1));
    default: break;
  }
  KILN_UNREACHABLE("element_bitwise: " << ir::op_name(node.op) << " is not a bitwise op");
}

}  // namespace kiln::ops
