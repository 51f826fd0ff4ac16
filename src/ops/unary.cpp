// The one-input elementwise ops: activations, math functions, Not and Cast.
// Attributes: LeakyRelu alpha:f (0.01); Clip min:f max:f (absent: unbounded);
// HardSigmoid alpha:f (0.2) beta:f (0.5); Cast to:i (a DType value).
#include <cmath>

#include "ops/op_families.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;
using kir::Intrinsic;

namespace {

// Ops whose input may be any numeric type (the rest need floats).
bool accepts_ints(OpKind op) {
  switch (op) {
    case OpKind::kIdentity:
    case OpKind::kRelu:
    case OpKind::kLeakyRelu:
    case OpKind::kClip:
    case OpKind::kNeg:
    case OpKind::kAbs: return true;
    default: return false;
  }
}

}  // namespace

Status infer_unary(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& in = node.inputs[0]->type;
  ir::TensorType out = in;
  if (node.op == OpKind::kCast) {
    if (!node.attrs.has("to")) return Status::invalid("Cast needs the attribute 'to'");
    int64_t to = node.attrs.get_int("to");
    if (!dtype_from_code(to)) return Status::invalid("Cast to unknown dtype value " + std::to_string(to));
    out.dtype = static_cast<DType>(to);
  } else if (node.op == OpKind::kNot) {
    if (in.dtype != DType::kBool) return Status::invalid("Not needs a bool input, got " + in.str());
  } else if (node.op == OpKind::kIdentity) {
    // any dtype
  } else if (in.dtype == DType::kBool) {
    return Status::invalid(std::string(ir::op_name(node.op)) + " does not take a bool input (" + in.str() + ")");
  } else if (!accepts_ints(node.op) && !dtype_is_float(in.dtype)) {
    return Status::invalid(std::string(ir::op_name(node.op)) + " needs a float input, got " + in.str());
  }
  outputs->assign(1, out);
  return Status::ok();
}

Expr element_unary(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  Expr x = read(0, out_idx);
  kir::Type t = x.type();
  auto c = [&](double v) { return kir::make_const(t, v); };
  const ir::Attrs& a = node.attrs;
  switch (node.op) {
    case OpKind::kIdentity: return x;
    case OpKind::kRelu: return kir::max(x, c(0));
    case OpKind::kLeakyRelu: return kir::select(x < c(0), x * c(a.get_float("alpha", 0.01)), x);
    case OpKind::kClip: {
      Expr r = x;
      if (a.has("min")) r = kir::max(r, c(a.get_float("min")));
      if (a.has("max")) r = kir::min(r, c(a.get_float("max")));
      return r;
    }
    case OpKind::kSigmoid: return kir::call(Intrinsic::kSigmoid, {x});
    case OpKind::kTanh: return kir::call(Intrinsic::kTanh, {x});
    case OpKind::kHardSigmoid:
      return kir::max(c(0), kir::min(c(1), x * c(a.get_float("alpha", 0.2)) + c(a.get_float("beta", 0.5))));
    case OpKind::kHardSwish: return x * kir::max(c(0), kir::min(c(1), x * c(1.0 / 6.0) + c(0.5)));
    case OpKind::kExp: return kir::call(Intrinsic::kExp, {x});
    case OpKind::kLog: return kir::call(Intrinsic::kLog, {x});
    case OpKind::kSqrt: return kir::call(Intrinsic::kSqrt, {x});
    case OpKind::kNeg: return -x;
    case OpKind::kAbs: return t.is_float() ? kir::call(Intrinsic::kAbs, {x}) : kir::select(x < c(0), -x, x);
    case OpKind::kErf: return kir::call(Intrinsic::kErf, {x});
    case OpKind::kReciprocal: return c(1) / x;
    case OpKind::kFloor: return kir::call(Intrinsic::kFloor, {x});
    case OpKind::kCeil: return kir::call(Intrinsic::kCeil, {x});
    case OpKind::kRound: return kir::call(Intrinsic::kRoundEven, {x});
    case OpKind::kSin: return kir::call(Intrinsic::kSin, {x});
    case OpKind::kCos: return kir::call(Intrinsic::kCos, {x});
    case OpKind::kTan: return kir::call(Intrinsic::kTan, {x});
    case OpKind::kAsin: return kir::call(Intrinsic::kAsin, {x});
    case OpKind::kAcos: return kir::call(Intrinsic::kAcos, {x});
    case OpKind::kAtan: return kir::call(Intrinsic::kAtan, {x});
    case OpKind::kNot: return kir::call(Intrinsic::kNot, {x});
    case OpKind::kCast: {
      kir::Type to = scalar_type(static_cast<DType>(a.get_int("to")));
      if (to == t) return x;
      if (to.is_bool()) return x != c(0);  // nonzero is true (NaN too)
      return kir::cast(to, x);
    }
    default: break;
  }
  KILN_UNREACHABLE("element_unary: " << ir::op_name(node.op) << " is not a unary op");
}

}  // namespace kiln::ops
