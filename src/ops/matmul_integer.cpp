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

// The loops of lower_matmul_loops with acc (int32) += (A - za[m]) * (B - zb[n]).
Expected<Stmt> lower_matmul_integer(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(MatMulParams p, matmul_integer_params(ctx.node));
  return lower_matmul_loops(ctx, p, DType::kI32,
                            [&](const std::vector<Expr>& ai, const std::vector<Expr>& bi, const Expr& m, const Expr& n,
                                const Expr&) {
                              Expr av = kir::cast(kir::i32(), ctx.read(0, ai));
                              if (Expr az = zero_point_i32(ctx, 2, m)) av = av - az;
                              Expr bv = kir::cast(kir::i32(), ctx.read(1, bi));
                              if (Expr bz = zero_point_i32(ctx, 3, n)) bv = bv - bz;
                              return av * bv;
                            });
}

}  // namespace kiln::ops
