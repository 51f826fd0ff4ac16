// Level-3 MatMul (DESIGN.md "Known-good kernel strategies", fp32 GEMM): an
// mr x nr register tile of vector accumulators, A elements broadcast, B rows
// loaded as vectors from nr-column panels (pre-packed "kn<nr>n" when B is a
// constant), the k loop serial, threads over column panels.
#include <algorithm>

#include "ops/matmul_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }

class MatMulTiler {
 public:
  MatMulTiler(const LowerContext& ctx, const MatMulParams& p) : ctx_(ctx), p_(p) {
    std::optional<PackedWeight> packed = packed_weight(ctx.node);
    RegisterTile tile = register_tile(ctx.opts);
    packed_ = packed.has_value();
    nr_ = packed ? packed->block : tile.nr;
    mr_ = tile.mr;
    panels_ = (p.n + nr_ - 1) / nr_;
  }

  Stmt build() {
    LoopNest nest;
    for (size_t i = 0; i < p_.batch.size(); ++i) bidx_.push_back(nest.add("b" + std::to_string(i), p_.batch[i]));
    a_pre_ = broadcast_index(bidx_, p_.a_batch);
    b_pre_ = broadcast_index(bidx_, p_.b_batch);
    nb_ = nest.add("nb", panels_);
    int64_t tail = p_.n - (panels_ - 1) * nr_;
    Stmt body = panel(0, nr_);
    if (tail != nr_) {
      std::vector<Stmt> pieces;
      for (auto [off, w] : vector_pieces(tail, ctx_.opts.f32_lanes)) pieces.push_back(panel(off, w));
      Stmt last = kir::block(std::move(pieces));
      body = panels_ == 1 ? last : kir::if_then_else(nb_ == Expr(panels_ - 1), last, body);
    }
    bool parallel = ctx_.opts.parallelize() && nest.total() * p_.m * p_.n * p_.k >= 64 * 1024;
    return nest.build(body, parallel);
  }

 private:
  // All row tiles of columns [off, off + width) of one column panel: ceil(m / mr)
  // tiles whose heights differ by at most one, as at most two loops.
  Stmt panel(int64_t off, int64_t width) {
    int64_t nt = (p_.m + mr_ - 1) / mr_, q = p_.m / nt, r = p_.m % nt;
    std::vector<Stmt> parts;
    auto run = [&](int64_t start, int64_t count, int64_t size) {
      if (count == 0) return;
      if (count == 1) return parts.push_back(tile(Expr(start), size, off, width));
      Expr ti = kir::var("mt");
      parts.push_back(kir::for_loop(ti, zero(), Expr(count), kir::ForKind::kSerial,
                                    tile(Expr(start) + ti * Expr(size), size, off, width)));
    };
    run(0, r, q + 1);
    run(r * (q + 1), nt - r, q);
    return kir::block(std::move(parts));
  }

  Stmt tile(const Expr& m0, int64_t mr, int64_t off, int64_t width) {
    DType dt = ctx_.node.inputs[0]->type.dtype;
    Expr j = kir::var("j"), k = kir::var("k");
    Expr lane = Expr(off) + j;  // column within the panel
    Expr n = nb_ * Expr(nr_) + lane;
    kir::Buffer acc = kir::make_buffer("acc", dt);
    std::vector<Expr> bi = b_pre_;
    bi.push_back(k);
    bi.push_back(n);
    Expr bv = packed_ ? ctx_.read(1, {nb_, k, lane}) : ctx_.read(1, bi);
    std::vector<Stmt> init, update, out;
    for (int64_t i = 0; i < mr; ++i) {
      Expr m = m0 + Expr(i);
      std::vector<Expr> ai = a_pre_, oi = bidx_;
      ai.push_back(m);
      ai.push_back(k);
      oi.push_back(m);
      oi.push_back(n);
      init.push_back(kir::store(acc, Expr(i), kir::make_const(scalar_type(dt), 0)));
      update.push_back(kir::store(acc, Expr(i), kir::load(acc, Expr(i)) + ctx_.read(0, ai) * bv));
      out.push_back(ctx_.write(0, oi, kir::load(acc, Expr(i))));
    }
    Stmt red = kir::for_loop(k, zero(), Expr(p_.k), kir::ForKind::kSerial, kir::block(update));
    Stmt body = kir::allocate(acc, Expr(mr), kir::block({kir::block(init), red, kir::block(out)}));
    return kir::for_loop(j, zero(), Expr(width), kir::ForKind::kVectorized, body);
  }

  const LowerContext& ctx_;
  const MatMulParams& p_;
  bool packed_ = false;
  int64_t nr_ = 1, mr_ = 1, panels_ = 1;
  std::vector<Expr> bidx_, a_pre_, b_pre_;
  Expr nb_;
};

}  // namespace

bool matmul_tiled_applies(const ir::Node& node, const MatMulParams& p, const KernelOptions& opts) {
  if (opts.level < 3 || opts.f32_lanes < 4 || node.inputs[0]->type.dtype != DType::kF32) return false;
  // Matrix-vector products and very narrow outputs keep the level-2 loops.
  return !p.a_vec && !p.b_vec && p.m >= 2 && p.n >= 4;
}

Expected<Stmt> lower_matmul_tiled(const LowerContext& ctx, const MatMulParams& p) {
  return MatMulTiler(ctx, p).build();
}

}  // namespace kiln::ops
