// MatMulInteger: numpy matmul of uint8/int8 operands with exact int32
// accumulation: y[.., m, n] = sum_k (a[.., m, k] - a_zero_point[m]) *
// (b[.., k, n] - b_zero_point[n]). Inputs A, B (uint8 or int8 each, 1-D operands
// and batch broadcasting as MatMul), a_zero_point (A's type: one element, or
// [M] per row of a matrix A), b_zero_point (B's type: one element, or [N] per
// column of a matrix B). The plain (level 1/2) loop nest; the bias Add and
// Requantize of a quantized layer fuse as its epilogue through ctx.write.
#include "ops/matmul_params.h"
#include "ops/op_families.h"
#include "ops/quant_types.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Status check_zero_point(const ir::Node& node, int i, DType want, int64_t per, bool allow_per) {
  const ir::TensorType& z = node.inputs[i]->type;
  std::string which = i == 2 ? "MatMulInteger a_zero_point " : "MatMulInteger b_zero_point ";
  if (z.dtype != want) return Status::invalid(which + z.str() + " must have its input's type " + dtype_name(want));
  bool one = z.num_elements() == 1 && z.rank() <= 1;
  bool per_vec = allow_per && z.shape == ir::Shape{per};
  if (!one && !per_vec)
    return Status::invalid(
        which + z.str() + " must be a scalar" +
        (allow_per ? " or have " + std::to_string(per) + (i == 2 ? " values (one per row)" : " values (one per column)")
                   : std::string()));
  return Status::ok();
}

Expected<MatMulParams> matmul_integer_params(const ir::Node& node) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 4, 4));
  const ir::TensorType& a = node.inputs[0]->type;
  const ir::TensorType& b = node.inputs[1]->type;
  if (!is_quantized_type(a.dtype) || !is_quantized_type(b.dtype))
    return Status::invalid("MatMulInteger needs uint8 or int8 inputs, got " + a.str() + " and " + b.str());
  KILN_ASSIGN_OR_RETURN(MatMulParams p, matmul_shapes("MatMulInteger", a, b));
  KILN_RETURN_IF_ERROR(check_zero_point(node, 2, a.dtype, p.m, !p.a_vec));
  KILN_RETURN_IF_ERROR(check_zero_point(node, 3, b.dtype, p.n, !p.b_vec));
  return p;
}

}  // namespace

Status infer_matmul_integer(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_ASSIGN_OR_RETURN(MatMulParams p, matmul_integer_params(node));
  ir::Shape s = p.batch;
  if (!p.a_vec) s.push_back(p.m);
  if (!p.b_vec) s.push_back(p.n);
  outputs->assign(1, ir::TensorType{DType::kI32, s});
  return Status::ok();
}

// for batch..., m (the outermost big loop parallel), n (vectorized):
//   acc = 0; for k: acc += (A - za[m]) * (B - zb[n]); write.
Expected<Stmt> lower_matmul_integer(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(MatMulParams p, matmul_integer_params(ctx.node));
  LoopNest nest;
  std::vector<Expr> bidx;
  for (size_t i = 0; i < p.batch.size(); ++i) bidx.push_back(nest.add("b" + std::to_string(i), p.batch[i]));
  Expr m = nest.add("m", p.m);
  std::vector<Expr> a_pre = broadcast_index(bidx, p.a_batch);
  std::vector<Expr> b_pre = broadcast_index(bidx, p.b_batch);
  Expr az = zero_point_i32(ctx, 2, m);
  Expr zero = Expr(int64_t{0});

  auto point = [&](const Expr& n) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", DType::kI32);
    Expr k = kir::var("k");
    std::vector<Expr> ai = a_pre, bi = b_pre, oi = bidx;
    if (!p.a_vec) ai.push_back(m), oi.push_back(m);
    ai.push_back(k);
    bi.push_back(k);
    if (!p.b_vec) bi.push_back(n), oi.push_back(n);
    Expr av = kir::cast(kir::i32(), ctx.read(0, ai));
    if (az) av = av - az;
    Expr bv = kir::cast(kir::i32(), ctx.read(1, bi));
    if (Expr bz = zero_point_i32(ctx, 3, n)) bv = bv - bz;
    Stmt update = kir::store(acc, zero, kir::load(acc, zero) + av * bv);
    Stmt body = kir::block({kir::store(acc, zero, kir::make_const(kir::i32(), 0)),
                            kir::for_loop(k, zero, Expr(p.k), kir::ForKind::kSerial, update),
                            ctx.write(0, oi, kir::load(acc, zero))});
    return kir::allocate(acc, Expr(int64_t{1}), body);
  };
  bool parallel = ctx.opts.parallelize() && nest.total() * p.n * p.k >= 16 * 1024;
  bool single_row = nest.total() == 1;
  Stmt row = vector_loop("n", 0, p.n, ctx.opts.f32_lanes, ctx.opts.vectorize(), point, parallel && single_row);
  return nest.build(row, parallel);
}

}  // namespace kiln::ops
