// Level-3 Conv (DESIGN.md "Known-good kernel strategies", direct conv): a
// register tile of mr output columns x nr output channels held in vector
// accumulators, reduced over the window and the group's input channels with
// channel-block weight vectors (pre-packed "ohwi<nr>o") and broadcast inputs.
#include <algorithm>

#include "ops/conv_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

// A run of `count` equal tiles of `size` columns starting at `start`.
struct TileRun {
  int64_t start, count, size;
};

// Splits [0, len) into ceil(len / mr) tiles whose sizes differ by at most one
// (so no tile is left with a sliver of columns), as at most two runs.
std::vector<TileRun> balanced_tiles(int64_t len, int64_t mr) {
  int64_t nt = (len + mr - 1) / mr, q = len / nt, r = len % nt;
  std::vector<TileRun> runs;
  if (r > 0) runs.push_back({0, r, q + 1});
  if (nt - r > 0) runs.push_back({r * (q + 1), nt - r, q});
  return runs;
}

Expr zero() { return Expr(int64_t{0}); }

class ConvTiler {
 public:
  ConvTiler(const LowerContext& ctx, const ConvParams& p) : ctx_(ctx), p_(p) {
    std::optional<PackedWeight> packed = packed_weight(ctx.node);
    RegisterTile tile = register_tile(ctx.opts);
    packed_ = packed.has_value();
    nr_ = packed ? packed->block : tile.nr;
    mr_ = tile.mr;
    mg_ = p.m / p.group;
    blocks_ = (mg_ + nr_ - 1) / nr_;
    // A 1x1, stride-1, unpadded conv reads its input rows back to back: one
    // row of oh*ow columns lets tiles run across row ends.
    flat_ = p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0;
    rows_ = flat_ ? 1 : p.oh;
    cols_ = flat_ ? p.oh * p.ow : p.ow;
    // Columns whose window row lies inside [0, w) need no column check.
    int64_t span = (p.kw - 1) * p.dw;
    lo_ = std::min((p.pl + p.sw - 1) / p.sw, cols_);
    hi_ = p.w - 1 - span + p.pl >= 0 ? (p.w - 1 - span + p.pl) / p.sw + 1 : 0;
    hi_ = std::max(lo_, std::min(hi_, cols_));
    if (flat_) lo_ = 0, hi_ = cols_;
    // Rows too short for a tile (late ResNet stages: 7x7 down to 2x2) would
    // leave too few accumulators to hide the FMA latency: then tiles run over
    // the whole image, every tile emitted once with its positions known, so
    // that only the positions whose window leaves the input get a check.
    whole_ = !flat_ && p.ow < mr_ && p.oh > 1 && p.oh * p.ow <= 16 * mr_;
    if (whole_) rows_ = 1, cols_ = p.oh * p.ow, lo_ = 0, hi_ = 0;
  }

  Stmt build() {
    LoopNest nest;
    n_ = nest.add("n", p_.n);
    // One loop over (group, output-channel block, output row): the threads
    // split many equal rows instead of a few channel blocks.
    int64_t gbs = p_.group * blocks_;
    Expr gbo = nest.add("gbo", gbs * rows_);
    gb_ = rows_ == 1 ? gbo : gbs == 1 ? Expr(int64_t{0}) : gbo / Expr(rows_);
    oh_ = rows_ == 1 ? Expr(int64_t{0}) : gbs == 1 ? gbo : gbo % Expr(rows_);
    int64_t tail = mg_ - (blocks_ - 1) * nr_;
    Stmt body = row(0, nr_);
    if (tail != nr_) {
      std::vector<Stmt> pieces;
      for (auto [off, w] : vector_pieces(tail, ctx_.opts.f32_lanes)) pieces.push_back(row(off, w));
      Stmt last = kir::block(std::move(pieces));
      body = blocks_ == 1 ? last : kir::if_then_else(gb_ % Expr(blocks_) == Expr(blocks_ - 1), last, body);
    }
    return nest.build(body, ctx_.opts.parallelize());
  }

 private:
  // All tiles of one output row for channels [off, off + width) of a block:
  // runs of interior tiles become loops; tiles touching the padding are
  // emitted one by one with a column check on exactly the columns that need it.
  Stmt row(int64_t off, int64_t width) {
    std::vector<Stmt> parts;
    for (const TileRun& run : balanced_tiles(cols_, mr_)) {
      int64_t t = 0;
      while (t < run.count) {
        int64_t start = run.start + t * run.size;
        if (start >= lo_ && start + run.size <= hi_) {
          int64_t n = 1;
          while (t + n < run.count && run.start + (t + n + 1) * run.size <= hi_) ++n;
          if (n == 1) {
            parts.push_back(tile(Expr(start), run.size, off, width, start));
          } else {
            Expr ti = kir::var("t");
            parts.push_back(kir::for_loop(ti, zero(), Expr(n), kir::ForKind::kSerial,
                                          tile(Expr(start) + ti * Expr(run.size), run.size, off, width, -1)));
          }
          t += n;
        } else {
          parts.push_back(tile(Expr(start), run.size, off, width, start));
          ++t;
        }
      }
    }
    return kir::block(std::move(parts));
  }

  // The output (row, column) of flat column index `col` in row oh_.
  std::pair<Expr, Expr> out_pos(const Expr& col) const {
    if (!flat_) return {oh_, col};
    return {col / Expr(p_.ow), col % Expr(p_.ow)};
  }

  // One mr x width tile at column c0, channels from `off` in the block. `c0_const` is its column when known at
  // compile time (>= 0), which lets border tiles check only their edge columns.
  Stmt tile(const Expr& c0, int64_t mr, int64_t off, int64_t width, int64_t c0_const) {
    DType dt = ctx_.node.inputs[0]->type.dtype;
    kir::Type t = scalar_type(dt);
    Expr j = kir::var("j");
    Expr g = p_.group == 1 ? zero() : gb_ / Expr(blocks_);
    Expr ob = p_.group == 1 ? gb_ : gb_ % Expr(blocks_);
    Expr lane = Expr(off) + j;  // channel within the block
    Expr oc = g * Expr(mg_) + ob * Expr(nr_) + lane;
    kir::Buffer acc = kir::make_buffer("acc", dt);
    Expr kh = kir::var("kh"), kw = kir::var("kw"), ic = kir::var("ic");
    Expr ih = oh_ * Expr(p_.sh) + kh * Expr(p_.dh) - Expr(p_.pt);
    Expr cin = p_.group == 1 ? ic : g * Expr(p_.cg) + ic;

    std::vector<Stmt> init, update, out;
    Expr wv = packed_ ? ctx_.read(1, {gb_, kh, kw, ic, lane}) : ctx_.read(1, {oc, ic, kh, kw});
    for (int64_t i = 0; i < mr; ++i) {
      Expr col = c0 + Expr(i);
      init.push_back(kir::store(acc, Expr(i), ctx_.node.inputs.size() == 3 ? ctx_.read(2, {oc})
                                                                                       : kir::make_const(t, 0)));
      Expr xv;
      if (whole_) {
        int64_t pos = c0_const + i, r = pos / p_.ow, c = pos % p_.ow;
        Expr ihi = Expr(r * p_.sh - p_.pt) + kh * Expr(p_.dh), iwi = Expr(c * p_.sw - p_.pl) + kw * Expr(p_.dw);
        bool check_h = r * p_.sh - p_.pt < 0 || r * p_.sh - p_.pt + (p_.kh - 1) * p_.dh >= p_.h;
        bool check_w = c * p_.sw - p_.pl < 0 || c * p_.sw - p_.pl + (p_.kw - 1) * p_.dw >= p_.w;
        xv = ctx_.read(0, {n_, cin, check_h ? clamp_index(ihi, p_.h) : ihi, check_w ? clamp_index(iwi, p_.w) : iwi});
        Expr ok;
        if (check_h) ok = ihi >= zero() && ihi < Expr(p_.h);
        if (check_w) ok = ok ? (ok && iwi >= zero() && iwi < Expr(p_.w)) : (iwi >= zero() && iwi < Expr(p_.w));
        if (ok) xv = kir::select(ok, xv, kir::make_const(t, 0));
      } else if (flat_) {
        xv = ctx_.read(0, {n_, cin, col / Expr(p_.w), col % Expr(p_.w)});
      } else {
        Expr iw = col * Expr(p_.sw) + kw * Expr(p_.dw) - Expr(p_.pl);
        bool interior = c0_const < 0 || (c0_const + i >= lo_ && c0_const + i < hi_);
        if (interior) {
          xv = ctx_.read(0, {n_, cin, ih, iw});
        } else {
          Expr ok = iw >= zero() && iw < Expr(p_.w);
          xv = kir::select(ok, ctx_.read(0, {n_, cin, ih, clamp_index(iw, p_.w)}), kir::make_const(t, 0));
        }
      }
      update.push_back(kir::store(acc, Expr(i), kir::load(acc, Expr(i)) + xv * wv));
      auto [orow, ocol] = whole_ ? std::pair{Expr((c0_const + i) / p_.ow), Expr((c0_const + i) % p_.ow)} : out_pos(col);
      out.push_back(ctx_.write(0, {n_, oc, orow, ocol}, kir::load(acc, Expr(i))));
    }
    // A few input channels (a network's first conv): unroll them so the loop
    // that remains is over the window columns, not a 3-trip channel loop.
    kir::ForKind ic_kind = p_.cg <= 4 ? kir::ForKind::kUnrolled : kir::ForKind::kSerial;
    Stmt red = kir::for_loop(ic, zero(), Expr(p_.cg), ic_kind, kir::block(update));
    red = kir::for_loop(kw, zero(), Expr(p_.kw), kir::ForKind::kSerial, red);
    if (!whole_ && (p_.pt > 0 || p_.pb > 0)) red = kir::if_then_else(ih >= zero() && ih < Expr(p_.h), red);
    red = kir::for_loop(kh, zero(), Expr(p_.kh), kir::ForKind::kSerial, red);
    Stmt body = kir::allocate(acc, Expr(mr), kir::block({kir::block(init), red, kir::block(out)}));
    return kir::for_loop(j, zero(), Expr(width), kir::ForKind::kVectorized, body);
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  bool packed_ = false, flat_ = false, whole_ = false;
  int64_t nr_ = 1, mr_ = 1, mg_ = 1, blocks_ = 1, rows_ = 1, cols_ = 1, lo_ = 0, hi_ = 0;
  Expr n_, gb_, oh_;
};

}  // namespace

bool conv_tiled_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts) {
  if (opts.level < 3 || opts.f32_lanes < 4 || node.inputs[0]->type.dtype != DType::kF32) return false;
  // Depthwise and narrow groups would fill a fraction of the vector lanes;
  // they keep the level-2 loops (vectorized over output columns).
  return p.m / p.group >= 4;
}

Expected<Stmt> lower_conv_tiled(const LowerContext& ctx, const ConvParams& p) {
  if (conv_1x1_rows_applies(p, ctx.opts)) return lower_conv_1x1_rows(ctx, p);
  return ConvTiler(ctx, p).build();
}

}  // namespace kiln::ops
