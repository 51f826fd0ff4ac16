// The broadcasting binary ops (arithmetic, comparisons, logic) and Where.
// Integer Div truncates toward zero, as ONNX Runtime does; Pow accepts an
// exponent of another numeric type (converted to the base's type).
#include "ops/op_families.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;

namespace {

bool is_comparison(OpKind op) { return op == OpKind::kEqual || op == OpKind::kLess || op == OpKind::kGreater; }
bool is_logical(OpKind op) { return op == OpKind::kAnd || op == OpKind::kOr; }

}  // namespace

Status infer_binary(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  const char* name = ir::op_name(node.op);
  if (node.op == OpKind::kWhere) {
    KILN_RETURN_IF_ERROR(check_num_inputs(node, 3, 3));
    const ir::TensorType& c = node.inputs[0]->type;
    const ir::TensorType& x = node.inputs[1]->type;
    const ir::TensorType& y = node.inputs[2]->type;
    if (c.dtype != DType::kBool) return Status::invalid("Where needs a bool condition, got " + c.str());
    if (x.dtype != y.dtype)
      return Status::invalid("Where needs its two value inputs of one dtype, got " + x.str() + " and " + y.str());
    KILN_ASSIGN_OR_RETURN(ir::Shape xy, broadcast_shapes(x.shape, y.shape));
    KILN_ASSIGN_OR_RETURN(ir::Shape shape, broadcast_shapes(c.shape, xy));
    outputs->assign(1, ir::TensorType{x.dtype, shape});
    return Status::ok();
  }
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 2));
  const ir::TensorType& a = node.inputs[0]->type;
  const ir::TensorType& b = node.inputs[1]->type;
  DType out = a.dtype;
  if (is_logical(node.op)) {
    if (a.dtype != DType::kBool || b.dtype != DType::kBool)
      return Status::invalid(std::string(name) + " needs bool inputs, got " + a.str() + " and " + b.str());
  } else if (node.op == OpKind::kPow) {
    if (a.dtype == DType::kBool || b.dtype == DType::kBool)
      return Status::invalid(std::string("Pow does not take bool inputs, got ") + a.str() + " and " + b.str());
  } else {
    if (a.dtype != b.dtype)
      return Status::invalid(std::string(name) + " needs both inputs of one dtype, got " + a.str() + " and " +
                             b.str() + " (insert a Cast)");
    if (is_comparison(node.op)) {
      out = DType::kBool;
    } else if (a.dtype == DType::kBool) {
      return Status::invalid(std::string(name) + " does not take bool inputs (" + a.str() + ")");
    }
  }
  KILN_ASSIGN_OR_RETURN(ir::Shape shape, broadcast_shapes(a.shape, b.shape));
  outputs->assign(1, ir::TensorType{out, shape});
  return Status::ok();
}

Expr element_binary(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  auto in = [&](int i) { return read(i, broadcast_index(out_idx, node.inputs[i]->type.shape)); };
  if (node.op == OpKind::kWhere) return kir::select(in(0), in(1), in(2));
  Expr a = in(0);
  Expr b = in(1);
  switch (node.op) {
    case OpKind::kAdd: return a + b;
    case OpKind::kSub: return a - b;
    case OpKind::kMul: return a * b;
    case OpKind::kDiv: return a / b;
    case OpKind::kPow: {
      kir::Type t = a.type();
      if (t.is_float()) {
        if (b.type() != t) b = kir::cast(t, b);
        return kir::call(kir::Intrinsic::kPow, {a, b});
      }
      // Integer power: computed in float64, exact for results below 2^53.
      kir::Type f = scalar_type(DType::kF64);
      return kir::cast(t, kir::call(kir::Intrinsic::kPow, {kir::cast(f, a), kir::cast(f, b)}));
    }
    case OpKind::kMax: return kir::max(a, b);
    case OpKind::kMin: return kir::min(a, b);
    case OpKind::kEqual: return a == b;
    case OpKind::kLess: return a < b;
    case OpKind::kGreater: return a > b;
    case OpKind::kAnd: return a && b;
    case OpKind::kOr: return a || b;
    default: break;
  }
  KILN_UNREACHABLE("element_binary: " << ir::op_name(node.op) << " is not a binary op");
}

}  // namespace kiln::ops
