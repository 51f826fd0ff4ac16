// Softmax and LogSoftmax over one axis (attribute axis:i, non-negative;
// default the last), numerically stable: the axis maximum is subtracted first.
#include "ops/op_families.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;
using kir::Stmt;

Status infer_softmax(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  int64_t axis = node.attrs.get_int("axis", x.rank() - 1);
  if (axis < 0 || axis >= x.rank())
    return Status::invalid(std::string(ir::op_name(node.op)) + " axis " + std::to_string(axis) +
                           " is out of range for " + x.str());
  outputs->assign(1, x);
  return Status::ok();
}

// for every position of the other axes (outermost parallel, innermost
// vectorized): max over the axis; sum of exp(x - max); then each output once.
Expected<Stmt> lower_softmax(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::TensorType& x = node.inputs[0]->type;
  int64_t axis = node.attrs.get_int("axis", x.rank() - 1);
  bool log = node.op == OpKind::kLogSoftmax;
  kir::Type t = scalar_type(x.dtype);
  Expr zero = Expr(int64_t{0});
  int64_t len = x.shape[axis];


  auto point = [&](const std::vector<Expr>& base) -> Stmt {
    kir::Buffer mx = kir::make_buffer("mx", x.dtype);
    kir::Buffer sum = kir::make_buffer("sum", x.dtype);
    auto at = [&](const Expr& j) {
      std::vector<Expr> i = base;
      i[axis] = j;
      return i;
    };
    Expr j1 = kir::var("j"), j2 = kir::var("j"), j3 = kir::var("j");
    Expr m = kir::load(mx, zero);
    Expr s = kir::load(sum, zero);
    Stmt find_max = kir::for_loop(j1, zero, Expr(len), kir::ForKind::kSerial,
                                  kir::store(mx, zero, kir::max(m, ctx.read(0, at(j1)))));
    Stmt add_exp = kir::for_loop(j2, zero, Expr(len), kir::ForKind::kSerial,
                                 kir::store(sum, zero, s + kir::call(kir::Intrinsic::kExp, {ctx.read(0, at(j2)) - m})));
    Expr shifted = ctx.read(0, at(j3)) - m;
    Expr value = log ? shifted - kir::call(kir::Intrinsic::kLog, {s})
                     : kir::call(kir::Intrinsic::kExp, {shifted}) / s;
    Stmt emit = kir::for_loop(j3, zero, Expr(len), kir::ForKind::kSerial, ctx.write(0, at(j3), value));
    Stmt body = kir::block({kir::store(mx, zero, lowest_value(x.dtype)), find_max,
                            kir::store(sum, zero, kir::make_const(t, 0)), add_exp, emit});
    return kir::allocate(mx, Expr(int64_t{1}), kir::allocate(sum, Expr(int64_t{1}), body));
  };

  return lower_along_axis(ctx, x.shape, axis, point);
}

}  // namespace kiln::ops
