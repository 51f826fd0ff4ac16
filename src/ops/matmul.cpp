// MatMul: numpy matmul. A 1-D first operand is a row [1,K] and a 1-D second one
// a column [K,1], their unit dimension dropped from the result; the batch
// dimensions (all but the last two) broadcast.
#include "ops/matmul_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Expected<MatMulParams> matmul_shapes(const std::string& op, const ir::TensorType& a, const ir::TensorType& b) {
  if (a.rank() == 0 || b.rank() == 0)
    return Status::invalid(op + " inputs must have rank >= 1, got " + a.str() + " and " + b.str());
  MatMulParams p;
  p.a_vec = a.rank() == 1;
  p.b_vec = b.rank() == 1;
  ir::Shape as = p.a_vec ? ir::Shape{1, a.shape[0]} : a.shape;
  ir::Shape bs = p.b_vec ? ir::Shape{b.shape[0], 1} : b.shape;
  p.m = as[as.size() - 2];
  p.k = as.back();
  p.n = bs.back();
  if (bs[bs.size() - 2] != p.k)
    return Status::invalid(op + " inner dimensions differ: " + a.str() + " x " + b.str() + " (" +
                           std::to_string(p.k) + " vs " + std::to_string(bs[bs.size() - 2]) + ")");
  p.a_batch.assign(as.begin(), as.end() - 2);
  p.b_batch.assign(bs.begin(), bs.end() - 2);
  auto batch = broadcast_shapes(p.a_batch, p.b_batch);
  if (!batch) return Status::invalid(op + " batch dimensions of " + a.str() + " and " + b.str() + ": " +
                                     batch.status().message());
  p.batch = *batch;
  return p;
}

Expected<MatMulParams> matmul_params(const ir::Node& node) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 2));
  const ir::TensorType& a = node.inputs[0]->type;
  // A packed B (passes/pack_weights) keeps its logical [K, N] shape in the node.
  std::optional<PackedWeight> packed = packed_weight(node);
  const ir::TensorType b = packed ? ir::TensorType{node.inputs[1]->type.dtype, packed->logical} : node.inputs[1]->type;
  if (packed && (b.rank() != 2 || node.inputs[1]->type.shape != packed_matmul_shape(packed->logical, packed->block)))
    return Status::internal("MatMul packed weights " + node.inputs[1]->type.str() + " do not match layout " +
                            packed->layout + " of " + b.str());
  if (a.dtype != b.dtype)
    return Status::invalid("MatMul needs both inputs of one dtype, got " + a.str() + " and " + b.str());
  if (a.dtype == DType::kBool) return Status::invalid("MatMul does not take bool inputs (" + a.str() + ")");
  return matmul_shapes("MatMul", a, b);
}

namespace {

ir::Shape output_shape(const MatMulParams& p) {
  ir::Shape s = p.batch;
  if (!p.a_vec) s.push_back(p.m);
  if (!p.b_vec) s.push_back(p.n);
  return s;
}

}  // namespace

Status infer_matmul(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_ASSIGN_OR_RETURN(MatMulParams p, matmul_params(node));
  outputs->assign(1, ir::TensorType{node.inputs[0]->type.dtype, output_shape(p)});
  return Status::ok();
}

Stmt lower_matmul_loops(const LowerContext& ctx, const MatMulParams& p, DType acc_type, const MatMulTerm& term) {
  LoopNest nest;
  std::vector<Expr> bidx;
  for (size_t i = 0; i < p.batch.size(); ++i) bidx.push_back(nest.add("b" + std::to_string(i), p.batch[i]));
  Expr m = nest.add("m", p.m);
  std::vector<Expr> a_pre = broadcast_index(bidx, p.a_batch);
  std::vector<Expr> b_pre = broadcast_index(bidx, p.b_batch);

  auto point = [&](const Expr& n) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", acc_type);
    Expr k = kir::var("k");
    std::vector<Expr> ai = a_pre, bi = b_pre, oi = bidx;
    if (!p.a_vec) ai.push_back(m), oi.push_back(m);
    ai.push_back(k);
    bi.push_back(k);
    if (!p.b_vec) bi.push_back(n), oi.push_back(n);
    Expr zero = Expr(int64_t{0});
    Stmt update = kir::store(acc, zero, kir::load(acc, zero) + term(ai, bi, m, n, k));
    Stmt body = kir::block({kir::store(acc, zero, kir::make_const(scalar_type(acc_type), 0)),
                            kir::for_loop(k, zero, Expr(p.k), kir::ForKind::kSerial, update),
                            ctx.write(0, oi, kir::load(acc, zero))});
    return kir::allocate(acc, Expr(int64_t{1}), body);
  };
  bool parallel = ctx.opts.parallelize() && nest.total() * p.n * p.k >= 16 * 1024;
  // A single row (a matrix-vector product) splits its columns among threads instead.
  bool single_row = nest.total() == 1;
  Stmt row = vector_loop("n", 0, p.n, ctx.opts.f32_lanes, ctx.opts.vectorize(), point, parallel && single_row);
  return nest.build(row, parallel);
}

// acc += A[.., m, k] * B[.., k, n] (B read from its packed panels when pack_weights packed it).
Expected<Stmt> lower_matmul(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(MatMulParams p, matmul_params(ctx.node));
  if (matmul_tiled_applies(ctx.node, p, ctx.opts)) return lower_matmul_tiled(ctx, p);
  std::optional<PackedWeight> packed = packed_weight(ctx.node);
  return lower_matmul_loops(ctx, p, ctx.node.inputs[0]->type.dtype,
                            [&](const std::vector<Expr>& ai, const std::vector<Expr>& bi, const Expr&, const Expr& n,
                                const Expr& k) {
                              Expr bv = packed ? ctx.read(1, packed_matmul_index(k, n, packed->block)) : ctx.read(1, bi);
                              return ctx.read(0, ai) * bv;
                            });
}

}  // namespace kiln::ops
