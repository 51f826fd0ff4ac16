// Det: the determinant of each square matrix in the last two dimensions of
// X [..., M, M] -> [...]. LU decomposition with partial pivoting on a local
// copy, in float64 whatever the input's float type; a zero pivot column makes
// the determinant 0.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Status infer_det(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  if (!dtype_is_float(x.dtype)) return Status::invalid("Det needs a float input, got " + x.str());
  if (x.rank() < 2 || x.shape[x.rank() - 1] != x.shape[x.rank() - 2])
    return Status::invalid("Det needs square matrices in the last two dimensions, got " + x.str());
  outputs->assign(1, ir::TensorType{x.dtype, ir::Shape(x.shape.begin(), x.shape.end() - 2)});
  return Status::ok();
}

// for each matrix (outermost parallel): copy into a[M*M] (f64); for each
// column k: find the largest |a[i][k]| for i >= k, swap that row up (negating
// the sign), multiply det by the pivot, eliminate below it.
Expected<Stmt> lower_det(const LowerContext& ctx) {
  const ir::TensorType& x = ctx.node.inputs[0]->type;
  int64_t rank = x.rank();
  int64_t m = x.shape[rank - 1];
  kir::Type f64 = scalar_type(DType::kF64);
  auto c = [&](double v) { return kir::make_const(f64, v); };
  Expr zero = Expr(int64_t{0}), one = Expr(int64_t{1});

  LoopNest nest;
  std::vector<Expr> batch;
  for (int64_t d = 0; d < rank - 2; ++d) batch.push_back(nest.add("b" + std::to_string(d), x.shape[d]));
  kir::Buffer a = kir::make_buffer("a", DType::kF64);
  kir::Buffer det = kir::make_buffer("det", DType::kF64);
  kir::Buffer piv = kir::make_buffer("piv", DType::kI64);
  kir::Buffer best = kir::make_buffer("best", DType::kF64);
  auto at = [&](const Expr& i, const Expr& j) { return i * Expr(m) + j; };
  auto load = [&](const Expr& i, const Expr& j) { return kir::load(a, at(i, j)); };

  Expr i = kir::var("i"), j = kir::var("j"), k = kir::var("k");
  std::vector<Expr> src = batch;
  src.push_back(i);
  src.push_back(j);
  Expr in = ctx.read(0, src);
  Stmt copy = kir::for_loop(i, zero, Expr(m), kir::ForKind::kSerial,
                            kir::for_loop(j, zero, Expr(m), kir::ForKind::kSerial,
                                          kir::store(a, at(i, j), in.type() == f64 ? in : kir::cast(f64, in))));

  // Pivot search: rows k..m-1 of column k.
  Expr pi = kir::var("pi");
  Expr mag = kir::call(kir::Intrinsic::kAbs, {load(pi, k)});
  Expr wins = kir::var("wins", kir::boolean());
  Stmt search = kir::block(
      {kir::store(piv, zero, k), kir::store(best, zero, c(-1)),
       kir::for_loop(pi, k, Expr(m) - k, kir::ForKind::kSerial,
                     kir::let_stmt(wins, mag > kir::load(best, zero),
                                   kir::block({kir::store(best, zero, kir::select(wins, mag, kir::load(best, zero))),
                                               kir::store(piv, zero, kir::select(wins, pi, kir::load(piv, zero)))})))});
  // Row swap (a no-op when the pivot is row k) and the sign.
  Expr p = kir::var("p"), sj = kir::var("sj"), tmp = kir::var("tmp", f64);
  Stmt swap = kir::for_loop(sj, zero, Expr(m), kir::ForKind::kSerial,
                            kir::let_stmt(tmp, load(k, sj),
                                          kir::block({kir::store(a, at(k, sj), load(p, sj)), kir::store(a, at(p, sj), tmp)})));
  Stmt sign = kir::store(det, zero, kir::select(p != k, -kir::load(det, zero), kir::load(det, zero)));
  // Elimination below the pivot (skipped for a zero pivot: det is 0 then).
  Expr pivot = kir::var("pivot", f64), f = kir::var("f", f64), ei = kir::var("ei"), ej = kir::var("ej");
  Stmt eliminate = kir::for_loop(
      ei, k + one, Expr(m) - k - one, kir::ForKind::kSerial,
      kir::let_stmt(f, load(ei, k) / pivot,
                    kir::for_loop(ej, k + one, Expr(m) - k - one, kir::ForKind::kSerial,
                                  kir::store(a, at(ei, ej), load(ei, ej) - f * load(k, ej)))));
  Stmt step = kir::block(
      {search, kir::let_stmt(p, kir::load(piv, zero), kir::block({swap, sign})),
       kir::let_stmt(pivot, load(k, k),
                     kir::block({kir::store(det, zero, kir::load(det, zero) * pivot),
                                 kir::if_then_else(pivot != c(0), eliminate)}))});
  Expr result = kir::load(det, zero);
  if (x.dtype != DType::kF64) result = kir::cast(scalar_type(x.dtype), result);
  Stmt body = kir::block({copy, kir::store(det, zero, c(1)),
                          kir::for_loop(k, zero, Expr(m), kir::ForKind::kSerial, step), ctx.write(0, batch, result)});
  body = kir::allocate(a, Expr(m * m), body);
  body = kir::allocate(det, one, kir::allocate(piv, one, kir::allocate(best, one, body)));
  bool parallel = ctx.opts.parallelize() && nest.total() * m * m * m >= 64 * 1024;
  return nest.build(body, parallel);
}

}  // namespace kiln::ops
