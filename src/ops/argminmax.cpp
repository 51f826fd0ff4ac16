// ArgMax and ArgMin over one axis. Attributes: axis:i (non-negative),
// keepdims:i (default 1), select_last_index:i (default 0: the first extremum
// wins ties). The output is int64.
#include "ops/op_families.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;
using kir::Stmt;

Status infer_argminmax(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  const char* name = ir::op_name(node.op);
  if (x.dtype == DType::kBool) return Status::invalid(std::string(name) + " does not take a bool input (" + x.str() + ")");
  int64_t axis = node.attrs.get_int("axis", 0);
  if (axis < 0 || axis >= x.rank())
    return Status::invalid(std::string(name) + " axis " + std::to_string(axis) + " is out of range for " + x.str());
  if (x.shape[axis] == 0) return Status::invalid(std::string(name) + " over an empty axis of " + x.str());
  ir::Shape shape = x.shape;
  if (node.attrs.get_int("keepdims", 1) != 0) shape[axis] = 1;
  else shape.erase(shape.begin() + axis);
  outputs->assign(1, ir::TensorType{DType::kI64, shape});
  return Status::ok();
}

// for every position of the other axes (outermost parallel, innermost
// vectorized): best = x[0]; for j in 1..n: if x[j] beats best, take it.
Expected<Stmt> lower_argminmax(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::TensorType& x = node.inputs[0]->type;
  int64_t axis = node.attrs.get_int("axis", 0);
  bool keepdims = node.attrs.get_int("keepdims", 1) != 0;
  bool last = node.attrs.get_int("select_last_index", 0) != 0;
  bool is_max = node.op == OpKind::kArgMax;
  Expr zero = Expr(int64_t{0});
  int64_t len = x.shape[axis];


  auto point = [&](const std::vector<Expr>& base) -> Stmt {
    kir::Buffer best = kir::make_buffer("best", x.dtype);
    kir::Buffer arg = kir::make_buffer("arg", DType::kI64);
    auto at = [&](const Expr& j) {
      std::vector<Expr> i = base;
      i[axis] = j;
      return i;
    };
    Expr j = kir::var("j");
    Expr v = ctx.read(0, at(j));
    Expr b = kir::load(best, zero);
    Expr wins = is_max ? (last ? v >= b : v > b) : (last ? v <= b : v < b);
    Stmt scan = kir::for_loop(j, Expr(int64_t{1}), Expr(len - 1), kir::ForKind::kSerial,
                              kir::block({kir::store(arg, zero, kir::select(wins, j, kir::load(arg, zero))),
                                          kir::store(best, zero, kir::select(wins, v, b))}));
    std::vector<Expr> out_idx = base;
    if (keepdims) out_idx[axis] = zero;
    else out_idx.erase(out_idx.begin() + axis);
    Stmt body = kir::block({kir::store(best, zero, ctx.read(0, at(zero))), kir::store(arg, zero, zero),
                            len > 1 ? scan : Stmt(), ctx.write(0, out_idx, kir::load(arg, zero))});
    return kir::allocate(best, Expr(int64_t{1}), kir::allocate(arg, Expr(int64_t{1}), body));
  };

  return lower_along_axis(ctx, x.shape, axis, point);
}

}  // namespace kiln::ops
