// Level-3 1x1 unpadded Conv on NCHW as GEMMs:
// output channels x positions = W[oc, ic] x X[ic, positions], per image and
// group, on the GEMM microkernel of ops/gemm_tiler.h (mr output channels x nr
// positions, weights broadcast, vectors along the contiguous positions, so
// loads and the epilogue's stores are contiguous vectors). With unit strides
// the whole H x W plane is one row of positions; with a row stride alone (or
// an epilogue that reads an input broadcast along only one of H and W) each
// output row is its own GEMM. A column stride (the stride-2 projection
// shortcuts of ResNets) keeps the output plane one row of positions whose
// inputs lie apart: B's full panels are then always gathered into the
// contiguous local buffer below. Rows that fill vectors badly (7x7 = 49 =
// 32 + 16 + 1 lanes) with a long K run the transposed GEMM instead: positions
// x output channels, the channel vectors stored HW apart. An input bigger
// than L2 (B, its rows a plane apart) has each column panel copied into a
// contiguous local buffer first (gemm_blocking.h, plan_packed_b).
#include <algorithm>

#include "ops/conv_params.h"
#include "ops/gemm_tiler.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }

// Rows of positions whose vector pieces keep fewer than this share (percent)
// of their lanes busy (49 = 32 + 16 + 1 at 16 lanes: 77 %) run transposed
// when K is at least kMinTransposedK: the scattered stores of the output
// channel vectors cost about a cycle per element, the reduction K / (2 x lanes).
constexpr int64_t kMinLaneUse = 90;
constexpr int64_t kMinTransposedK = 512;

// Whether a flat position p may stand for (0, p) in the output plane.
bool plane_is_one_row(const LowerContext& ctx) {
  Expr oh = kir::var("oh"), ow = kir::var("ow");
  return write_indexes_all_or_none(ctx, {zero(), zero(), oh, ow}, {oh, ow});
}

// The GEMMs of a 1x1 conv: a loop nest over images, groups and (unless the
// plane is one row) output rows, then the work items of one GEMM.
class OneByOne {
 public:
  OneByOne(const LowerContext& ctx, const ConvParams& p) : ctx_(ctx), p_(p), mg_(p.m / p.group) {
    bool flat = (p.sh == 1 || p.sw > 1) && plane_is_one_row(ctx);
    flat_strided_ = flat && (p.sh > 1 || p.sw > 1);
    cols_ = flat ? p.oh * p.ow : p.ow;
    n_ = nest_.add("n", p.n), g_ = nest_.add("g", p.group);
    oh_ = flat ? zero() : nest_.add("oh", p.oh);
    batches_ = p.n * p.group * (flat ? 1 : p.oh);
  }

  // Output channels x positions = W[oc, ic] x X[ic, positions]: mr output
  // channels broadcast (weights tile-packed by passes/pack_weights,
  // "rowtile<mr>", each tile's rows interleaved: one contiguous stream of
  // broadcasts; or OIHW; or, from elsewhere, packed in output-channel blocks).
  Expected<Stmt> rows(const std::optional<PackedWeight>& packed) {
    RegisterTile tile = register_tile(ctx_.opts);
    bool tiled = packed && packed->layout == gemm_rows_layout_name(packed->block);
    GemmPlan plan = plan_gemm(mg_, cols_, p_.cg, tiled ? packed->block : tile.mr, tile.nr, batches_);
    // The input's rows (B's) lie a plane apart; with a column stride, its columns too.
    plan_packed_b(plan, cols_, p_.cg, p_.sw > 1);
    GemmOperands ops;
    ops.a = [&](const Expr& m0, int64_t i, int64_t rows, const Expr& k) {
      if (tiled) return ctx_.read(1, {oc(m0) * Expr(p_.cg) + k * Expr(rows) + Expr(i)});
      Expr m = m0 + Expr(i);
      if (packed) return ctx_.read(1, packed_conv_index(oc(m), k, zero(), zero(), mg_, packed->block));
      return ctx_.read(1, {oc(m), k, zero(), zero()});
    };
    ops.b = [&](const Expr& k, const Expr& col, const Expr&, const Expr&) { return input(k, col); };
    ops.write = [&](const Expr& m, const Expr& col, const Expr& v) { return output(m, col, v); };
    return build(plan, cols_, ops);
  }

  // Positions x output channels = X^T[positions, ic] x W^T[ic, oc]: mr
  // positions broadcast, nr output channels as vectors from the "ohwi<nr>o"
  // weights, stored as channel vectors HW apart (scattered).
  Expected<Stmt> transposed(int64_t nr) {
    GemmPlan plan = plan_gemm(cols_, mg_, p_.cg, register_tile(ctx_.opts).mr, nr, batches_);
    GemmOperands ops;
    ops.a = [&](const Expr& m0, int64_t i, int64_t, const Expr& k) { return input(k, m0 + Expr(i)); };
    ops.b = [&](const Expr& k, const Expr&, const Expr& panel, const Expr& lane) {
      return ctx_.read(1, {p_.group == 1 ? panel : g_ * Expr((mg_ + nr - 1) / nr) + panel, zero(), zero(), k, lane});
    };
    ops.prefetch_b = true;
    ops.write = [&](const Expr& m, const Expr& col, const Expr& v) { return output(col, m, v); };
    return build(plan, mg_, ops);
  }

 private:
  Expr oc(const Expr& m) const { return p_.group == 1 ? m : g_ * Expr(mg_) + m; }
  // X[n, input channel k of the group, ...] of output position col (of the
  // plane, or of row oh_).
  Expr input(const Expr& k, const Expr& col) const {
    Expr c = p_.group == 1 ? k : g_ * Expr(p_.cg) + k;
    if (flat_strided_) return ctx_.read(0, {n_, c, col / Expr(p_.ow) * Expr(p_.sh), col % Expr(p_.ow) * Expr(p_.sw)});
    return ctx_.read(0, {n_, c, oh_ * Expr(p_.sh), p_.sw == 1 ? col : col * Expr(p_.sw)});
  }
  // Output channel m of the group at position col, plus the bias.
  Stmt output(const Expr& m, const Expr& col, const Expr& v) const {
    Expr y = ctx_.node.inputs.size() == 3 ? v + ctx_.read(2, {oc(m)}) : v;
    return ctx_.write(0, {n_, oc(m), oh_, col}, y);
  }
  Expected<Stmt> build(const GemmPlan& plan, int64_t n, const GemmOperands& ops) {
    Expr w = nest_.add("w", plan.items());
    bool parallel = ctx_.opts.parallelize() && p_.n * p_.m * p_.oh * p_.ow * p_.cg >= 64 * 1024;
    GemmTiler tiler(plan, n, p_.cg, ctx_.node.inputs[0]->type.dtype, ctx_.opts.f32_lanes, ops);
    return nest_.build(tiler.item(w), parallel);
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  int64_t mg_, cols_ = 1, batches_ = 1;
  bool flat_strided_ = false;  // one row of output positions, their inputs strided
  LoopNest nest_;
  Expr n_, g_, oh_;
};

// The positions of one GEMM's row: the whole plane (unless an epilogue
// operand broadcast along H or W splits it, plane_is_one_row), or one output
// row where only the row stride is not 1.
int64_t row_positions(const ConvParams& p) { return p.sh == 1 || p.sw > 1 ? p.oh * p.ow : p.ow; }

}  // namespace

bool conv_1x1_rows_applies(const ConvParams& p, const KernelOptions& opts) {
  bool unit = p.kh == 1 && p.kw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0;
  // Rows of positions at least half a panel long keep most vector lanes busy.
  return unit && 2 * row_positions(p) >= register_tile(opts).nr;
}

bool conv_1x1_transposed(const ConvParams& p, const KernelOptions& opts) {
  int64_t lanes = std::max(1, opts.f32_lanes), nr = register_tile(opts).nr, row = row_positions(p);
  // Vector operations per row of positions: whole vectors, then one per tail piece.
  int64_t ops = row / lanes + static_cast<int64_t>(vector_pieces(row % lanes, static_cast<int>(lanes)).size());
  bool ragged = row < ops * lanes * kMinLaneUse / 100;
  return ragged && p.cg >= kMinTransposedK && p.m / p.group >= nr && (p.m / p.group) % lanes == 0;
}

Expected<Stmt> lower_conv_1x1_rows(const LowerContext& ctx, const ConvParams& p) {
  // passes/pack_weights packs the weights in output-channel blocks for the transposed GEMM.
  std::optional<PackedWeight> packed = packed_weight(ctx.node);
  if (packed && packed->layout == conv_layout_name(packed->block) && conv_1x1_transposed(p, ctx.opts))
    return OneByOne(ctx, p).transposed(packed->block);
  return OneByOne(ctx, p).rows(packed);
}

}  // namespace kiln::ops
