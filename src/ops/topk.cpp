// TopKIndices: the indices of the k largest (largest:i = 1) or smallest
// elements along axis:i (non-negative), sorted by value; ties keep the lower
// index first. The frontend gathers TopK's values with GatherElements.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Status infer_topk_indices(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  if (x.dtype == DType::kBool) return Status::invalid("TopK does not take a bool input (" + x.str() + ")");
  int64_t axis = node.attrs.get_int("axis", 0);
  if (axis < 0 || axis >= x.rank())
    return Status::invalid("TopK axis " + std::to_string(axis) + " is out of range for " + x.str());
  int64_t k = node.attrs.get_int("k", 0);
  if (k < 0 || k > x.shape[axis])
    return Status::invalid("TopK k = " + std::to_string(k) + " is out of range for axis " + std::to_string(axis) +
                           " of " + x.str());
  ir::Shape shape = x.shape;
  shape[axis] = k;
  outputs->assign(1, ir::TensorType{DType::kI64, shape});
  return Status::ok();
}

// for every position of the other axes (outermost parallel): k selection
// passes over the axis, each taking the best element not taken yet.
Expected<Stmt> lower_topk_indices(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::TensorType& x = node.inputs[0]->type;
  int64_t axis = node.attrs.get_int("axis", 0);
  int64_t k = node.attrs.get_int("k", 0);
  bool largest = node.attrs.get_int("largest", 1) != 0;
  Expr zero = Expr(int64_t{0});
  int64_t len = x.shape[axis];
  if (k == 0) return Stmt();

  LoopNest nest;
  std::vector<Expr> base(x.rank(), zero);
  for (int64_t d = 0; d < x.rank(); ++d)
    if (d != axis) base[d] = nest.add("i" + std::to_string(d), x.shape[d]);

  kir::Type u8 = scalar_type(DType::kU8);
  kir::Buffer taken = kir::make_buffer("taken", DType::kU8);
  kir::Buffer best = kir::make_buffer("best", x.dtype);
  kir::Buffer arg = kir::make_buffer("arg", DType::kI64);
  Expr j0 = kir::var("j"), t = kir::var("t"), j = kir::var("j");
  std::vector<Expr> at = base;
  at[axis] = j;
  Expr v = ctx.read(0, at);
  Expr b = kir::load(best, zero);
  Expr a = kir::load(arg, zero);
  Expr free = kir::load(taken, j) == kir::make_const(u8, 0);
  Expr wins = free && ((a < zero) || (largest ? v > b : v < b));
  Expr w = kir::var("wins", kir::boolean());  // bound once: the stores change what `wins` reads
  Stmt scan = kir::for_loop(j, zero, Expr(len), kir::ForKind::kSerial,
                            kir::let_stmt(w, wins, kir::block({kir::store(best, zero, kir::select(w, v, b)),
                                                               kir::store(arg, zero, kir::select(w, j, a))})));
  std::vector<Expr> out_idx = base;
  out_idx[axis] = t;
  Stmt pass = kir::block({kir::store(arg, zero, Expr(int64_t{-1})), kir::store(best, zero, kir::make_const(scalar_type(x.dtype), 0)),
                          scan, kir::store(taken, clamp_index(kir::load(arg, zero), len), kir::make_const(u8, 1)),
                          ctx.write(0, out_idx, kir::load(arg, zero))});
  Stmt body = kir::block({kir::for_loop(j0, zero, Expr(len), kir::ForKind::kSerial,
                                        kir::store(taken, j0, kir::make_const(u8, 0))),
                          kir::for_loop(t, zero, Expr(k), kir::ForKind::kSerial, pass)});
  Stmt point = kir::allocate(taken, Expr(len), kir::allocate(best, Expr(int64_t{1}), kir::allocate(arg, Expr(int64_t{1}), body)));
  bool parallel = ctx.opts.parallelize() && nest.total() * len * k >= 16 * 1024;
  return nest.build(point, parallel);
}

}  // namespace kiln::ops
