// Level-3 Conv on NHWC activations (layout="NHWC"; passes/convert_layout).
// Output channels are contiguous in NHWC, so the register tile is mr output
// positions x nr output channels: weights load as channel vectors (pre-packed
// "ohwi<nr>o"), each position's input is one broadcast, the reduction runs
// over the window and the input channels (contiguous, innermost), and the tile
// is stored as whole channel vectors through the fused epilogue. A 1x1,
// stride-1, unpadded conv is a GEMM over (N*H*W) x Cin x Cout whose positions
// run flat across rows, in chunks that the threads share with the channel
// blocks. Depthwise convs have their own kernel (depthwise_nhwc.cpp).
#include <algorithm>

#include "ops/conv_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

// Positions per chunk of a flat (1x1) conv, rounded to whole tiles: an input
// chunk (positions x Cin) stays in cache while every channel block reads it.
constexpr int64_t kChunkPositions = 96;

Expr zero() { return Expr(int64_t{0}); }

// A run of `count` equal tiles of `size` positions starting at `start`.
struct TileRun {
  int64_t start, count, size;
};

// Splits [0, len) into ceil(len / mr) tiles whose sizes differ by at most one,
// as at most two runs.
std::vector<TileRun> balanced_tiles(int64_t len, int64_t mr) {
  int64_t nt = (len + mr - 1) / mr, q = len / nt, r = len % nt;
  std::vector<TileRun> runs;
  if (r > 0) runs.push_back({0, r, q + 1});
  if (nt - r > 0) runs.push_back({r * (q + 1), nt - r, q});
  return runs;
}

// a / b and a % b of a loop index, folded when b or the extent is 1.
std::pair<Expr, Expr> split_index(const Expr& it, int64_t outer, int64_t inner) {
  if (inner == 1) return {it, zero()};
  if (outer == 1) return {zero(), it};
  return {it / Expr(inner), it % Expr(inner)};
}

bool is_flat(const ConvParams& p) {
  return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0;
}

class NhwcConvTiler {
 public:
  NhwcConvTiler(const LowerContext& ctx, const ConvParams& p) : ctx_(ctx), p_(p) {
    std::optional<PackedWeight> packed = packed_weight(ctx.node);
    RegisterTile tile = nhwc_conv_tile(p, ctx.opts);
    packed_ = packed.has_value();
    nr_ = packed ? packed->block : tile.nr;
    mr_ = tile.mr;
    mg_ = p.m / p.group;
    blocks_ = (mg_ + nr_ - 1) / nr_;
    gbs_ = p.group * blocks_;
    flat_ = is_flat(p);
    // Columns whose window row lies inside [0, w) need no column check.
    int64_t span = (p.kw - 1) * p.dw;
    lo_ = std::min((p.pl + p.sw - 1) / p.sw, p.ow);
    hi_ = p.w - 1 - span + p.pl >= 0 ? (p.w - 1 - span + p.pl) / p.sw + 1 : 0;
    hi_ = std::max(lo_, std::min(hi_, p.ow));
    // Rows shorter than a tile (small late-stage images): tiles run over the
    // whole image, each emitted once with its positions known, so that only the
    // positions whose window leaves the input are checked.
    whole_ = !flat_ && p.ow < mr_ && p.oh > 1 && p.oh * p.ow <= 16 * mr_;
    chunk_ = std::max<int64_t>(1, kChunkPositions / mr_) * mr_;
  }

  Stmt build() {
    LoopNest nest;
    n_ = nest.add("n", p_.n);
    if (flat_) {
      // One loop over (position chunk, group x channel block), chunk-major: a
      // thread keeps its input chunk in cache across the channel blocks.
      chunks_ = (p_.oh * p_.ow + chunk_ - 1) / chunk_;
      std::tie(pc_, gb_) = split_index(nest.add("it", chunks_ * gbs_), chunks_, gbs_);
    } else if (whole_) {
      gb_ = nest.add("gb", gbs_);
    } else {
      // One loop over (output row, group x channel block): the input rows of a
      // row stay in cache across the channel blocks.
      std::tie(oh_, gb_) = split_index(nest.add("it", p_.oh * gbs_), p_.oh, gbs_);
    }
    int64_t tail = mg_ - (blocks_ - 1) * nr_;
    Stmt body = channels(0, nr_);
    if (tail != nr_) {
      std::vector<Stmt> pieces;
      for (auto [off, w] : vector_pieces(tail, ctx_.opts.f32_lanes)) pieces.push_back(channels(off, w));
      Stmt last = kir::block(std::move(pieces));
      body = blocks_ == 1 ? last : kir::if_then_else(gb_ % Expr(blocks_) == Expr(blocks_ - 1), last, body);
    }
    return nest.build(body, ctx_.opts.parallelize());
  }

 private:
  // Every tile of this loop iteration's positions for channels [off, off + width) of the block.
  Stmt channels(int64_t off, int64_t width) {
    if (flat_) return flat_chunk(off, width);
    std::vector<Stmt> parts;
    if (whole_) {
      for (const TileRun& run : balanced_tiles(p_.oh * p_.ow, mr_))
        for (int64_t t = 0; t < run.count; ++t) {
          int64_t start = run.start + t * run.size;
          parts.push_back(tile(Expr(start), run.size, off, width, start));
        }
      return kir::block(std::move(parts));
    }
    // One output row: runs of interior tiles become loops; tiles touching the
    // padding are emitted one by one with a column check on exactly the columns that need it.
    for (const TileRun& run : balanced_tiles(p_.ow, mr_)) {
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

  // The tiles of chunk pc_ of a flat conv: full chunks as one loop of mr-tiles;
  // the last, shorter chunk as balanced tiles at known positions.
  Stmt flat_chunk(int64_t off, int64_t width) {
    int64_t positions = p_.oh * p_.ow, full = positions / chunk_, rem = positions % chunk_;
    Stmt full_body, tail_body;
    if (full > 0) {
      Expr ti = kir::var("t");
      full_body = kir::for_loop(ti, zero(), Expr(chunk_ / mr_), kir::ForKind::kSerial,
                                tile(pc_ * Expr(chunk_) + ti * Expr(mr_), mr_, off, width, -1));
    }
    if (rem > 0) {
      std::vector<Stmt> parts;
      for (const TileRun& run : balanced_tiles(rem, mr_)) {
        int64_t start = full * chunk_ + run.start;
        if (run.count == 1) {
          parts.push_back(tile(Expr(start), run.size, off, width, start));
          continue;
        }
        Expr ti = kir::var("t");
        parts.push_back(kir::for_loop(ti, zero(), Expr(run.count), kir::ForKind::kSerial,
                                      tile(Expr(start) + ti * Expr(run.size), run.size, off, width, -1)));
      }
      tail_body = kir::block(std::move(parts));
    }
    if (!full_body) return tail_body;
    if (!tail_body) return full_body;
    return kir::if_then_else(pc_ == Expr(full), tail_body, full_body);
  }

  // The input element of flat position `pos` (1x1, stride 1, unpadded: input
  // and output positions coincide and are contiguous): indexed through the W
  // axis alone, which the row-major strides turn into pos * C.
  Expr flat_input(const Expr& pos, const Expr& cin) const {
    if (p_.w > 1) return ctx_.read(0, {n_, zero(), pos, cin});
    return ctx_.read(0, {n_, pos, zero(), cin});
  }

  // One mr x width tile starting at column c0 (flat_ and whole_: at flat
  // position c0), channels from `off` in the block. `c0_const` is c0 when known
  // at compile time (>= 0), which lets border tiles check only their edge columns.
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
    Expr fzero = kir::make_const(t, 0);

    std::vector<Stmt> init, update, out;
    Expr wv = packed_ ? ctx_.read(1, {gb_, kh, kw, ic, lane}) : ctx_.read(1, {oc, ic, kh, kw});
    for (int64_t i = 0; i < mr; ++i) {
      Expr col = c0 + Expr(i);
      init.push_back(kir::store(acc, Expr(i), ctx_.node.inputs.size() == 3 ? ctx_.read(2, {oc}) : fzero));
      Expr xv, orow, ocol;
      if (flat_) {
        xv = flat_input(col, cin);
        orow = col / Expr(p_.ow), ocol = col % Expr(p_.ow);
      } else if (whole_) {
        int64_t pos = c0_const + i, r = pos / p_.ow, c = pos % p_.ow;
        Expr ihi = Expr(r * p_.sh - p_.pt) + kh * Expr(p_.dh), iwi = Expr(c * p_.sw - p_.pl) + kw * Expr(p_.dw);
        bool check_h = r * p_.sh - p_.pt < 0 || r * p_.sh - p_.pt + (p_.kh - 1) * p_.dh >= p_.h;
        bool check_w = c * p_.sw - p_.pl < 0 || c * p_.sw - p_.pl + (p_.kw - 1) * p_.dw >= p_.w;
        xv = ctx_.read(0, {n_, check_h ? clamp_index(ihi, p_.h) : ihi, check_w ? clamp_index(iwi, p_.w) : iwi, cin});
        Expr ok;
        if (check_h) ok = ihi >= zero() && ihi < Expr(p_.h);
        if (check_w) ok = ok ? (ok && iwi >= zero() && iwi < Expr(p_.w)) : (iwi >= zero() && iwi < Expr(p_.w));
        if (ok) xv = kir::select(ok, xv, fzero);
        orow = Expr(r), ocol = Expr(c);
      } else {
        Expr iw = col * Expr(p_.sw) + kw * Expr(p_.dw) - Expr(p_.pl);
        bool interior = c0_const < 0 || (c0_const + i >= lo_ && c0_const + i < hi_);
        if (interior) {
          xv = ctx_.read(0, {n_, ih, iw, cin});
        } else {
          Expr ok = iw >= zero() && iw < Expr(p_.w);
          xv = kir::select(ok, ctx_.read(0, {n_, ih, clamp_index(iw, p_.w), cin}), fzero);
        }
        orow = oh_, ocol = col;
      }
      update.push_back(kir::store(acc, Expr(i), kir::load(acc, Expr(i)) + xv * wv));
      out.push_back(ctx_.write(0, {n_, orow, ocol, oc}, kir::load(acc, Expr(i))));
    }
    // A few input channels (a network's first conv): unroll them so the loop
    // that remains is over the window columns, not a 3-trip channel loop.
    kir::ForKind ic_kind = p_.cg <= 4 ? kir::ForKind::kUnrolled : kir::ForKind::kSerial;
    Stmt red = kir::for_loop(ic, zero(), Expr(p_.cg), ic_kind, kir::block(update));
    red = kir::for_loop(kw, zero(), Expr(p_.kw), kir::ForKind::kSerial, red);
    if (!flat_ && !whole_ && (p_.pt > 0 || p_.pb > 0)) red = kir::if_then_else(ih >= zero() && ih < Expr(p_.h), red);
    red = kir::for_loop(kh, zero(), Expr(p_.kh), kir::ForKind::kSerial, red);
    Stmt body = kir::allocate(acc, Expr(mr), kir::block({kir::block(init), red, kir::block(out)}));
    return kir::for_loop(j, zero(), Expr(width), kir::ForKind::kVectorized, body);
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  bool packed_ = false, flat_ = false, whole_ = false;
  int64_t nr_ = 1, mr_ = 1, mg_ = 1, blocks_ = 1, gbs_ = 1, lo_ = 0, hi_ = 0, chunk_ = 1, chunks_ = 1;
  Expr n_, gb_, oh_ = Expr(int64_t{0}), pc_ = Expr(int64_t{0});
};

}  // namespace

RegisterTile nhwc_conv_tile(const ConvParams& p, const KernelOptions& opts) {
  RegisterTile tile = register_tile(opts);
  // The mr positions of a tile read their inputs (sw x C floats apart) in
  // lockstep. At a multiple of 4 KiB apart they all map to one L1 set, which
  // holds 8 lines on the cores kiln targets: more rows than that evict each
  // other at every step (ResNet-50's 1024-channel 1x1 convs ran at 75 % of the
  // speed of 1000-channel ones). Then the tile has 8 rows.
  int64_t stride_bytes = (is_flat(p) ? 1 : p.sw) * p.c * 4;
  if (tile.mr > 8 && stride_bytes % 4096 == 0) tile.mr = 8;
  return tile;
}

Expected<Stmt> lower_conv_nhwc(const LowerContext& ctx, const ConvParams& p) {
  if (p.cg == 1 && p.m == p.group) return lower_depthwise_nhwc(ctx, p);
  return NhwcConvTiler(ctx, p).build();
}

}  // namespace kiln::ops
