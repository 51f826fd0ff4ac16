// Level-3 MatMul (DESIGN.md "Known-good kernel strategies", fp32 GEMM): the
// GEMM microkernel of ops/gemm_tiler.h (an mr x nr register tile, A elements
// broadcast, B rows as vectors from nr-column panels, pre-packed "kn<nr>n"
// when B is a constant), cache-blocked as ops/gemm_blocking.h plans it.
// Batch loops outside, the work items of each product inside; the outermost
// loop with more than one iteration runs on the thread pool.
#include "ops/gemm_tiler.h"
#include "ops/matmul_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

bool matmul_tiled_applies(const ir::Node& node, const MatMulParams& p, const KernelOptions& opts) {
  if (opts.level < 3 || opts.f32_lanes < 4 || node.inputs[0]->type.dtype != DType::kF32) return false;
  // Products by a column vector and very narrow outputs keep the level-2
  // loops. A row vector times a matrix (a classifier at batch 1) runs here:
  // its B, packed in column panels, then streams contiguously (the level-2
  // loops read B's rows N apart, one cache line per row and K rows per column
  // block).
  return !p.b_vec && p.n >= 4;
}

Expected<Stmt> lower_matmul_tiled(const LowerContext& ctx, const MatMulParams& p) {
  std::optional<PackedWeight> packed = packed_weight(ctx.node);
  RegisterTile tile = register_tile(ctx.opts);
  DType dt = ctx.node.inputs[0]->type.dtype;
  LoopNest nest;
  std::vector<Expr> bidx;
  int64_t batches = 1;
  for (size_t i = 0; i < p.batch.size(); ++i) {
    bidx.push_back(nest.add("b" + std::to_string(i), p.batch[i]));
    batches *= p.batch[i];
  }
  std::vector<Expr> a_pre = broadcast_index(bidx, p.a_batch), b_pre = broadcast_index(bidx, p.b_batch);
  GemmPlan plan = plan_gemm(p.m, p.n, p.k, tile.mr, packed ? packed->block : tile.nr, batches);
  GemmOperands ops;
  ops.a = [&](const Expr& m0, int64_t row, int64_t, const Expr& k) {
    std::vector<Expr> i = a_pre;
    if (!p.a_vec) i.push_back(m0 + Expr(row));
    i.push_back(k);
    return ctx.read(0, i);
  };
  ops.b = [&](const Expr& k, const Expr& n, const Expr& panel, const Expr& lane) {
    if (packed) return ctx.read(1, {panel, k, lane});
    std::vector<Expr> i = b_pre;
    i.push_back(k);
    i.push_back(n);
    return ctx.read(1, i);
  };
  ops.prefetch_b = packed.has_value();
  ops.write = [&](const Expr& m, const Expr& n, const Expr& v) {
    std::vector<Expr> i = bidx;
    if (!p.a_vec) i.push_back(m);
    i.push_back(n);
    return ctx.write(0, i, v);
  };
  Expr w = nest.add("w", plan.items());
  bool parallel = ctx.opts.parallelize() && nest.total() * p.m * p.n * p.k >= 64 * 1024;
  GemmTiler tiler(plan, p.n, p.k, dt, ctx.opts.f32_lanes, ops);
  return nest.build(tiler.item(w), parallel);
}

}  // namespace kiln::ops
