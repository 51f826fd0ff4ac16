// Level-3 1x1 stride-1 Conv on NCHW as a GEMM per output row: output
// channels x positions = W[oc, ic] x X[ic, positions]. Register tile: mr output
// channels x nr positions, vectors along the (contiguous) row, weights
// broadcast, so loads and the epilogue's stores are contiguous vectors; this is
// better than channel vectors when the reduction (input channels) is short.
#include <algorithm>

#include "ops/conv_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }

class Conv1x1Rows {
 public:
  Conv1x1Rows(const LowerContext& ctx, const ConvParams& p) : ctx_(ctx), p_(p), packed_(packed_weight(ctx.node)) {
    RegisterTile tile = register_tile(ctx.opts);
    nr_ = tile.nr;
    // The GEMM tile. LLVM unrolls the channel loop by two and spills a few
    // registers on AVX2 at this height; one row less measured slower (r50).
    mr_ = tile.mr;
    mg_ = p.m / p.group;
  }

  // Loops: n, g, channel chunk (weights of a chunk stay in cache over the
  // image) x output row, position panel (an input panel stays in cache over
  // the chunk's tiles), channel tile.
  Stmt build() {
    int64_t chunk = 4 * mr_, chunks = (mg_ + chunk - 1) / chunk, last = mg_ - (chunks - 1) * chunk;
    LoopNest nest;
    n_ = nest.add("n", p_.n);
    g_ = nest.add("g", p_.group);
    // One loop over (channel chunk, output row) so threads split many rows.
    Expr cbo = nest.add("cbo", chunks * p_.oh);
    Expr cb = p_.oh == 1 ? cbo : chunks == 1 ? Expr(int64_t{0}) : cbo / Expr(p_.oh);
    oh_ = p_.oh == 1 ? Expr(int64_t{0}) : chunks == 1 ? cbo : cbo % Expr(p_.oh);
    Expr c_base = cb * Expr(chunk);
    Stmt body = row(c_base, chunk);
    if (last != chunk) body = chunks == 1 ? row(c_base, last) : kir::if_then_else(cb == Expr(chunks - 1), row(c_base, last), body);
    return nest.build(body, ctx_.opts.parallelize());
  }

 private:
  // Channels [c_base, c_base + count) of row oh_, panel by panel.
  Stmt row(const Expr& c_base, int64_t count) {
    int64_t full = p_.ow / nr_, tail = p_.ow % nr_;
    std::vector<Stmt> parts;
    if (full > 0) {
      Expr pb = kir::var("pb");
      parts.push_back(kir::for_loop(pb, zero(), Expr(full), kir::ForKind::kSerial,
                                    panel(c_base, count, pb * Expr(nr_), nr_)));
    }
    for (auto [off, w] : vector_pieces(tail, ctx_.opts.f32_lanes)) parts.push_back(panel(c_base, count, Expr(full * nr_ + off), w));
    return kir::block(std::move(parts));
  }

  // The channel tiles of positions [ow0, ow0 + width): ceil(count / mr) tiles
  // whose heights differ by at most one.
  Stmt panel(const Expr& c_base, int64_t count, const Expr& ow0, int64_t width) {
    int64_t nt = (count + mr_ - 1) / mr_, q = count / nt, r = count % nt;
    std::vector<Stmt> parts;
    auto run = [&](int64_t start, int64_t n, int64_t size) {
      if (n == 0) return;
      if (n == 1) return parts.push_back(tile(c_base + Expr(start), size, ow0, width));
      Expr ti = kir::var("ct");
      parts.push_back(kir::for_loop(ti, zero(), Expr(n), kir::ForKind::kSerial,
                                    tile(c_base + Expr(start) + ti * Expr(size), size, ow0, width)));
    };
    run(0, r, q + 1);
    run(r * (q + 1), nt - r, q);
    return kir::block(std::move(parts));
  }

  Stmt tile(const Expr& c0, int64_t mr, const Expr& ow0, int64_t width) {
    DType dt = ctx_.node.inputs[0]->type.dtype;
    Expr j = kir::var("j"), ic = kir::var("ic");
    Expr ow = ow0 + j;
    Expr cin = p_.group == 1 ? ic : g_ * Expr(p_.cg) + ic;
    Expr xv = ctx_.read(0, {n_, cin, oh_ * Expr(p_.sh), ow});
    kir::Buffer acc = kir::make_buffer("acc", dt);
    std::vector<Stmt> init, update, out;
    for (int64_t i = 0; i < mr; ++i) {
      Expr oc = g_ * Expr(mg_) + c0 + Expr(i);
      Expr wv = packed_ ? ctx_.read(1, packed_conv_index(oc, ic, zero(), zero(), mg_, packed_->block))
                        : ctx_.read(1, {oc, ic, zero(), zero()});
      Expr init_v = ctx_.node.inputs.size() == 3 ? ctx_.read(2, {oc}) : kir::make_const(scalar_type(dt), 0);
      init.push_back(kir::store(acc, Expr(i), init_v));
      update.push_back(kir::store(acc, Expr(i), kir::load(acc, Expr(i)) + wv * xv));
      out.push_back(ctx_.write(0, {n_, oc, oh_, ow}, kir::load(acc, Expr(i))));
    }
    Stmt red = kir::for_loop(ic, zero(), Expr(p_.cg), kir::ForKind::kSerial, kir::block(update));
    Stmt body = kir::allocate(acc, Expr(mr), kir::block({kir::block(init), red, kir::block(out)}));
    return kir::for_loop(j, zero(), Expr(width), kir::ForKind::kVectorized, body);
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  std::optional<PackedWeight> packed_;
  int64_t mr_ = 1, nr_ = 1, mg_ = 1;
  Expr n_, g_, oh_;
};

}  // namespace

bool conv_1x1_rows_applies(const ConvParams& p, const KernelOptions& opts) {
  bool unit = p.kh == 1 && p.kw == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0;
  // Rows of at least half a panel keep most vector lanes busy.
  return unit && 2 * p.ow >= register_tile(opts).nr;
}

Expected<Stmt> lower_conv_1x1_rows(const LowerContext& ctx, const ConvParams& p) {
  return Conv1x1Rows(ctx, p).build();
}

}  // namespace kiln::ops
