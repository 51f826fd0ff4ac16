// LayerNorm: layer normalization over the last axis (the frontend maps ONNX
// LayerNormalization onto it, reshaping the normalized axes into one).
// Attribute epsilon:f. Inputs X[..., N], Scale[N], optional Bias[N]:
//   Y = (X - mean) / sqrt(var + epsilon) * Scale + Bias, mean and (population)
//   variance over the last axis.
#include "ops/op_families.h"
#include "ops/row_reduce.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Status infer_layer_norm(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 3));
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  const ir::TensorType& x = node.inputs[0]->type;
  if (x.rank() < 1) return Status::invalid("LayerNorm needs an input of rank 1 or more, got " + x.str());
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    const ir::TensorType& p = node.inputs[i]->type;
    if (p.dtype != x.dtype || p.shape != ir::Shape{x.shape.back()})
      return Status::invalid(std::string(i == 1 ? "LayerNorm scale " : "LayerNorm bias ") + p.str() + " must be " +
                             dtype_name(x.dtype) + "[" + std::to_string(x.shape.back()) + "] for input " + x.str());
  }
  outputs->assign(1, x);
  return Status::ok();
}

// Row by row (the outer loops parallel), vectorized along the row, three
// passes while the row is in L1: the mean; the variance about it (two passes
// keep the precision of the definition); the outputs.
Expected<Stmt> lower_layer_norm(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::TensorType& x = node.inputs[0]->type;
  kir::Type t = scalar_type(x.dtype);
  Expr zero = Expr(int64_t{0});
  int64_t axis = x.rank() - 1, len = x.shape.back();
  int lanes = ctx.opts.vectorize() ? ctx.opts.f32_lanes : 1;
  double eps = node.attrs.get_float("epsilon", 1e-5);
  RowLoops rows(x.shape, axis);
  auto at = [&](const Expr& j) { return rows.at(j); };
  kir::Buffer sum = kir::make_buffer("sum", x.dtype), sq = kir::make_buffer("sq", x.dtype);
  kir::Buffer stats = kir::make_buffer("stats", x.dtype);  // mean, 1 / stddev
  Expr mean = kir::load(stats, zero), rstd = kir::load(stats, Expr(int64_t{1}));
  Expr inv_len = kir::make_const(t, 1.0 / static_cast<double>(len));
  Stmt add_x = fold_row(len, lanes, x.dtype, kir::make_const(t, 0), kir::BinOp::kAdd, sum,
                        [&](const Expr& j, const kir::Buffer& acc) {
                          return kir::store(acc, zero, kir::load(acc, zero) + ctx.read(0, at(j)));
                        });
  Stmt add_sq = fold_row(len, lanes, x.dtype, kir::make_const(t, 0), kir::BinOp::kAdd, sq,
                         [&](const Expr& j, const kir::Buffer& acc) {
                           Expr d = kir::var("d", t);
                           return kir::let_stmt(d, ctx.read(0, at(j)) - mean,
                                                kir::store(acc, zero, kir::load(acc, zero) + d * d));
                         });
  Expr var = kir::load(sq, zero) * inv_len + kir::make_const(t, eps);
  Stmt set_rstd = kir::store(stats, Expr(int64_t{1}),
                             kir::make_const(t, 1) / kir::call(kir::Intrinsic::kSqrt, {var}));
  Stmt emit = for_row(len, lanes, [&](const Expr& j) {
    Expr y = (ctx.read(0, at(j)) - mean) * rstd * ctx.read(1, {j});
    if (node.inputs.size() == 3) y = y + ctx.read(2, {j});
    return ctx.write(0, at(j), y);
  });
  Stmt body = kir::block({add_x, kir::store(stats, zero, kir::load(sum, zero) * inv_len), add_sq, set_rstd, emit});
  body = kir::allocate(sum, Expr(int64_t{1}), kir::allocate(sq, Expr(int64_t{1}), body));
  body = kir::allocate(stats, Expr(int64_t{2}), body);
  return rows.build(body, ctx.opts.parallelize());
}

}  // namespace kiln::ops
