// Gemm and MatMul -> core MatMul, with Gemm's transA/transB as Transpose, alpha
// and beta as Mul by scalar constants (only when != 1), and C as a broadcast Add.
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

Expected<Value*> transposed_2d(NodeContext& ctx, Value* v, const std::string& suffix) {
  if (v->type.rank() != 2) return ctx.error("Gemm input " + v->type.str() + " needs rank 2");
  ir::Attrs attrs;
  attrs.set("perm", std::vector<int64_t>{1, 0});
  return ctx.add(OpKind::kTranspose, {v}, attrs, suffix);
}

}  // namespace

Status map_gemm(NodeContext& ctx) {
  Value* a = ctx.input(0);
  Value* b = ctx.input(1);
  if (a->type.rank() != 2 || b->type.rank() != 2)
    return ctx.error("inputs " + a->type.str() + " and " + b->type.str() + " need rank 2");
  if (ctx.attr_int("transA", 0)) {
    KILN_ASSIGN_OR_RETURN(a, transposed_2d(ctx, a, "transpose_a"));
  }
  if (ctx.attr_int("transB", 0)) {
    KILN_ASSIGN_OR_RETURN(b, transposed_2d(ctx, b, "transpose_b"));
  }
  double alpha = ctx.attr_float("alpha", 1.0);
  double beta = ctx.attr_float("beta", 1.0);
  bool has_c = ctx.has_input(2) && beta != 0.0;
  DType dtype = a->type.dtype;

  // The last node of the expansion carries the node's own name.
  bool scale_ab = alpha != 1.0;
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kMatMul, {a, b}, {}, scale_ab || has_c ? "matmul" : ""));
  if (scale_ab) {
    Value* s = ctx.scalar(dtype, alpha, "alpha");
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kMul, {y, s}, {}, has_c ? "alpha_mul" : ""));
  }
  if (has_c) {
    Value* c = ctx.input(2);
    if (beta != 1.0) {
      Value* s = ctx.scalar(dtype, beta, "beta");
      KILN_ASSIGN_OR_RETURN(c, ctx.add(OpKind::kMul, {c, s}, {}, "beta_mul"));
    }
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kAdd, {y, c}));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_matmul(NodeContext& ctx) {
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kMatMul, {ctx.input(0), ctx.input(1)}));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
