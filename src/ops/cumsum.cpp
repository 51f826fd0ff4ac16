// CumSum and CumProd: running sums (products) along one axis. Attributes:
// axis:i (non-negative), exclusive:i (1: each output leaves out its own
// element), reverse:i (1: they run from the end of the axis).
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Status infer_cumsum(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  const char* op = ir::op_name(node.op);
  if (x.dtype == DType::kBool) return Status::invalid(std::string(op) + " does not take a bool input (" + x.str() + ")");
  int64_t axis = node.attrs.get_int("axis", 0);
  if (axis < 0 || axis >= x.rank())
    return Status::invalid(std::string(op) + " axis " + std::to_string(axis) + " is out of range for " + x.str());
  outputs->assign(1, x);
  return Status::ok();
}

// for every position of the other axes (outermost parallel, innermost
// vectorized): acc = 0 (1 for products); for each j along the axis (in
// order): write, accumulate.
Expected<Stmt> lower_cumsum(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::TensorType& x = node.inputs[0]->type;
  int64_t axis = node.attrs.get_int("axis", 0);
  bool exclusive = node.attrs.get_int("exclusive", 0) != 0;
  bool reverse = node.attrs.get_int("reverse", 0) != 0;
  bool product = node.op == ir::OpKind::kCumProd;
  Expr zero = Expr(int64_t{0});
  int64_t len = x.shape[axis];
  if (len == 0) return Stmt();


  auto point = [&](const std::vector<Expr>& base) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", x.dtype);
    Expr j = kir::var("j");
    std::vector<Expr> at = base;
    at[axis] = reverse ? Expr(len - 1) - j : j;
    Expr a = kir::load(acc, zero);
    Expr sum = product ? a * ctx.read(0, at) : a + ctx.read(0, at);
    Stmt step = exclusive ? kir::block({ctx.write(0, at, a), kir::store(acc, zero, sum)})
                          : kir::block({kir::store(acc, zero, sum), ctx.write(0, at, kir::load(acc, zero))});
    Stmt body = kir::block({kir::store(acc, zero, kir::make_const(scalar_type(x.dtype), product ? 1 : 0)),
                            kir::for_loop(j, zero, Expr(len), kir::ForKind::kSerial, step)});
    return kir::allocate(acc, Expr(int64_t{1}), body);
  };

  return lower_along_axis(ctx, x.shape, axis, point);
}

}  // namespace kiln::ops
