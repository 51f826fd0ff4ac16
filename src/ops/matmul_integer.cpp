// MatMulInteger: numpy matmul of uint8/int8 operands with exact int32
// accumulation: y[.., m, n] = sum_k (a[.., m, k] - a_zero_point[m]) *
// (b[.., k, n] - b_zero_point[n]). Inputs A, B (uint8 or int8 each, 1-D operands
// and batch broadcasting as MatMul), a_zero_point (A's type: one element, or
// [M] per row of a matrix A), b_zero_point (B's type: one element, or [N] per
// column of a matrix B). The plain (level 1/2) loop nest, or at level 3 with a
// constant B the tiled int8 kernel as a 1x1 conv (ops/int8_conv.h: B packed
// by passes/pack_weights, "packed_shape" holding its logical shape, a fifth
// input holding the dot4 form's corrections); the bias Add and Requantize of a
// quantized layer fuse as its epilogue through ctx.write.
#include "ops/int8_conv.h"
#include "ops/matmul_params.h"
#include "ops/op_families.h"
#include "ops/quant_types.h"
#include "ops/weight_layout.h"

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

}  // namespace

Expected<MatMulParams> matmul_integer_params(const ir::Node& node) {
  std::optional<PackedWeight> packed = packed_weight(node);
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 4, packed ? 5 : 4));
  const ir::TensorType& a = node.inputs[0]->type;
  // (Packed, B's zero point has B's type.)
  ir::TensorType b = packed ? ir::TensorType{node.inputs[3]->type.dtype, packed->logical} : node.inputs[1]->type;
  if (!is_quantized_type(a.dtype) || !is_quantized_type(b.dtype))
    return Status::invalid("MatMulInteger needs uint8 or int8 inputs, got " + a.str() + " and " + b.str());
  KILN_ASSIGN_OR_RETURN(MatMulParams p, matmul_shapes("MatMulInteger", a, b));
  KILN_RETURN_IF_ERROR(check_zero_point(node, 2, a.dtype, p.m, !p.a_vec));
  KILN_RETURN_IF_ERROR(check_zero_point(node, 3, b.dtype, p.n, !p.b_vec));
  return p;
}

ConvParams matmul_integer_as_conv(const MatMulParams& p) {
  int64_t rows = p.m;
  for (int64_t d : p.a_batch) rows *= d;
  ConvParams c{};
  c.n = 1, c.c = p.k, c.h = 1, c.w = rows;
  c.m = p.n, c.cg = p.k, c.kh = 1, c.kw = 1, c.group = 1;
  c.sh = c.sw = c.dh = c.dw = 1;
  c.oh = 1, c.ow = rows;
  return c;
}

bool matmul_integer_tiled_applies(const ir::Node& node, const MatMulParams& p, const KernelOptions& opts) {
  if (opts.level < 3 || opts.f32_lanes < 4) return false;
  for (int i = 1; i <= 3; ++i)
    if (!node.inputs[i]->is_constant()) return false;
  return node.inputs[1]->type.rank() == 2 && node.inputs[2]->type.num_elements() == 1 && p.n >= 4;
}

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
  if (packed_weight(ctx.node)) return lower_conv_integer_tiled(ctx, matmul_integer_as_conv(p));
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
