// Level-3 direct Conv (DESIGN.md "Known-good kernel strategies") on NCHW or
// NHWC activations: a register tile of mr output positions x nr output
// channels held in vector accumulators, reduced over the window and the
// group's input channels with channel-block weight vectors (pre-packed
// "ohwi<nr>o") and one broadcast input per position, then stored as channel
// vectors through the fused epilogue (NCHW row groups in input-channel blocks:
// from the row buffer, as vectors along the rows).
//
// The threads share (image, row group, group x channel block) iterations. A
// row's interior tiles run as loops; border tiles are emitted one by one and
// leave out their taps in the padding. Rows shorter than a tile (late stages:
// 7x7) run their tiles over the whole image instead, and a 1x1, stride-1,
// unpadded conv runs flat over positions (contiguous in both layouts) in
// chunks that the threads share with the channel blocks.
//
// Input-channel blocks: with many input channels a tile's weights for all
// taps do not fit in L1 (256 channels, 3x3, 32 output channels: 295 KB), and
// every tile streamed them from L2 again; on a core with two FMA ports that
// kept Conv 256->256 3x3 at 56x56 at 55 % of peak. Then the reduction runs in
// blocks of cb channels whose weights (kh x kw x cb x nr) stay in L1 while
// every tile of a group of rows uses them, and the group's accumulators wait
// in a stack buffer between blocks (that conv, AVX-512, 1 thread: 28.3 ->
// 22.1 ms). Row groups run weights-major (one block of output channels
// through every row group) when all the weights would not stay in L2.
//
// Reduction order: where the registers hold a window row's weight vectors
// beside the accumulators (32-register targets), the channel loop is
// outermost with the window unrolled in it and its updates ordered by the
// input they read ("sliding", see tile()); otherwise one channel loop per tap.
#include "ops/conv_direct.h"

#include <algorithm>
#include <map>
#include <set>

#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

// Positions per chunk of a flat (1x1) conv, rounded to whole tiles: an input
// chunk (positions x Cin) stays in cache while every channel block reads it.
constexpr int64_t kChunkPositions = 96;
// A channel block's weights (all taps, nr output channels): half of a 32 KiB
// L1, leaving room for the block's input rows.
constexpr int64_t kWeightBlockBytes = 16 * 1024;
// Blocks of fewer channels than this (large windows) spend more on saving and
// reloading the accumulators than they save; then the reduction is not blocked.
constexpr int64_t kMinBlockChannels = 8;
// The row buffer that holds the accumulators between blocks (on the stack):
// more rows per group, more tiles per block's weights (Conv 256->256 3x3 at
// 56x56, 1 thread: 16 KiB 25.6 ms, 32 KiB 22.6, 48 KiB 22.1).
constexpr int64_t kMaxRowBufferBytes = 48 * 1024;
// Weights that stay in L2 while an iteration's rows visit every channel block.
constexpr int64_t kL2Bytes = 512 * 1024;
// Floats per 64-byte cache line.
constexpr int64_t kLineFloats = 16;
// Up to this many input channels (a network's first conv) the channel loop is unrolled.
constexpr int64_t kMaxUnrolledChannels = 4;
// The sliding order needs this many accumulators (twice the FMA latency x FMA
// ports of the targets, 4 x 2) to keep the FMAs busy. AVX2 at 3x3 would have 8:
// measured no faster than the tap-major order's 12 (x86-64-v3 code on the
// AVX-512 host); the 7x7 stem at AVX-512 has 16: 1.72 -> 1.48 ms (ORT 1.55).
constexpr int64_t kMinSlidingAccumulators = 16;
// ... and pays when each broadcast input feeds at least this many updates on
// average (a tile row's updates over the distinct inputs they read): 3x3 at
// stride 1 2.6, the 7x7 stem at stride 2 2.7; a 3x3 at stride 2 has 1.4, and
// the tap-major order's full-width tiles are faster there (AVX-512, 1 thread,
// NHWC: 128->128 at 56x56 1.16 -> 1.09 ms, 256->256 at 28x28 1.05 -> 0.99,
// 512->512 at 14x14 1.33 -> 1.20).
constexpr double kMinSlidingReuse = 2.0;

Expr zero() { return Expr(int64_t{0}); }

// A run of `count` equal tiles of `size` positions starting at `start`.
struct TileRun {
  int64_t start, count, size;
};

// Splits [0, len) into ceil(len / mr) tiles whose sizes differ by at most one
// (so no tile is left with a sliver of positions), as at most two runs.
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

class DirectConv {
 public:
  DirectConv(const LowerContext& ctx, const ConvParams& p, const RegisterTile& tile, bool nhwc)
      : ctx_(ctx), p_(p), nhwc_(nhwc) {
    std::optional<PackedWeight> packed = packed_weight(ctx.node);
    packed_ = packed.has_value();
    nr_ = packed ? packed->block : tile.nr;
    mr_ = tile.mr;
    mg_ = p.m / p.group;
    blocks_ = (mg_ + nr_ - 1) / nr_;
    gbs_ = p.group * blocks_;
    flat_ = conv_is_flat(p);
    // Columns whose window row lies inside [0, w) need no column check.
    int64_t span = (p.kw - 1) * p.dw;
    lo_ = std::min((p.pl + p.sw - 1) / p.sw, p.ow);
    hi_ = p.w - 1 - span + p.pl >= 0 ? (p.w - 1 - span + p.pl) / p.sw + 1 : 0;
    hi_ = std::max(lo_, std::min(hi_, p.ow));
    // Rows shorter than a tile would leave too few accumulators to hide the FMA
    // latency: then tiles run over the whole image, each emitted once with its
    // positions known, so that taps in the padding are left out.
    whole_ = !flat_ && p.ow < mr_ && p.oh > 1 && p.oh * p.ow <= 16 * mr_;
    // Tiles reduce in sliding order (see tile()) when the window row's weight
    // vectors fit in the registers beside kMinSlidingAccumulators (AVX-512: 12
    // of 14 positions at 3x3, 8 at 7x7; 16-register AVX2 keeps the tap-major
    // order).
    int64_t nv = (nr_ + ctx.opts.f32_lanes - 1) / std::max(1, ctx.opts.f32_lanes);
    int64_t mr_sliding = std::min<int64_t>(mr_, (std::max(8, ctx.opts.vector_registers) - 1 - nv * p.kw) / nv);
    sliding_ = !flat_ && mr_sliding * nv >= kMinSlidingAccumulators && sliding_reuse(mr_sliding) >= kMinSlidingReuse;
    if (sliding_) mr_ = mr_sliding;
    chunk_ = std::max<int64_t>(1, kChunkPositions / mr_) * mr_;
    // Channel blocks, over the whole image or over groups of rows (as many as
    // the row buffer holds, in equal groups) so that a block's weights serve
    // several tiles (14x14 images have one tile per row).
    int64_t cb_max = kWeightBlockBytes / (p.kh * p.kw * nr_ * int64_t{sizeof(float)});
    int64_t row_bytes = p.ow * nr_ * int64_t{sizeof(float)};
    if (!flat_ && cb_max >= kMinBlockChannels && p.cg > cb_max) {
      int64_t fit = std::max<int64_t>(1, kMaxRowBufferBytes / row_bytes);  // rows the buffer holds
      if (!whole_) groups_ = (p.oh + fit - 1) / fit;
      rows_ = whole_ ? p.oh : (p.oh + groups_ - 1) / groups_;
      if (rows_ * p.ow > mr_ && rows_ * row_bytes <= kMaxRowBufferBytes) {
        nblk_ = (p.cg + cb_max - 1) / cb_max;
        cb_ = (p.cg + nblk_ - 1) / nblk_;
      }
    }
    if (nblk_ == 1) rows_ = 1, groups_ = p.oh;
    // The loop over (row group, channel block) runs weights-major when all the
    // weights would not stay in a core's L2 (512 KiB and up on the targets)
    // while a row group visits them, so that one block's weights serve every row.
    weights_major_ = p.m * p.cg * p.kh * p.kw * int64_t{sizeof(float)} > kL2Bytes;
    prefetch_blocks_ = whole_ && !sliding_ && packed_ && nblk_ > 1 && weights_major_;
    // NCHW row groups in channel blocks write their sums after the last block,
    // from the row buffer, as vectors along the rows (write_rows()).
    write_rows_ = !nhwc_ && !whole_ && nblk_ > 1;
  }

  // Updates per distinct input in a window row of a tile of mr positions.
  double sliding_reuse(int64_t mr) const {
    std::set<int64_t> inputs;
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t k = 0; k < p_.kw; ++k) inputs.insert(i * p_.sw + k * p_.dw);
    return double(mr * p_.kw) / double(std::max<size_t>(1, inputs.size()));
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
    } else if (weights_major_) {
      std::tie(gb_, ohg_) = split_index(nest.add("it", groups_ * gbs_), gbs_, groups_);
    } else {
      std::tie(ohg_, gb_) = split_index(nest.add("it", groups_ * gbs_), groups_, gbs_);
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
  // Every tile of this iteration's positions for channels [off, off + width)
  // of the block, in input-channel blocks when the reduction is blocked.
  Stmt channels(int64_t off, int64_t width) {
    if (flat_) return flat_chunk(off, width);
    if (nblk_ > 1) racc_ = kir::make_buffer("racc", ctx_.node.inputs[0]->type.dtype), icb_ = kir::var("icb");
    Stmt tiles;
    if (whole_) {
      tiles = image_tiles(off, width);
    } else if (rows_ == 1) {
      oh_ = ohg_;
      tiles = row_tiles(off, width);
    } else {
      row_ = kir::var("r");
      oh_ = ohg_ * Expr(rows_) + row_;
      Expr extent = p_.oh % rows_ == 0 ? Expr(rows_) : kir::min(Expr(rows_), Expr(p_.oh) - ohg_ * Expr(rows_));
      tiles = kir::for_loop(row_, zero(), extent, kir::ForKind::kSerial, row_tiles(off, width));
    }
    if (nblk_ == 1) return tiles;
    Stmt blocks = kir::for_loop(icb_, zero(), Expr(nblk_), kir::ForKind::kSerial, tiles);
    int64_t slots = whole_ ? p_.oh * p_.ow : rows_ * p_.ow;
    if (write_rows_) blocks = kir::block({blocks, write_rows(off, width)});
    return kir::allocate(racc_, Expr(slots * width), blocks);
  }

  // NCHW row groups: the last block parks its sums too, and they are written
  // here through the epilogue, channel by channel, as vectors along the rows:
  // contiguous stores instead of each tile scattering its channel vectors a
  // plane apart (Conv 256->256 3x3 at 56x56, AVX-512, 1 thread: 1-3 % faster).
  Stmt write_rows(int64_t off, int64_t width) {
    Expr g = p_.group == 1 ? zero() : gb_ / Expr(blocks_);
    Expr ob = p_.group == 1 ? gb_ : gb_ % Expr(blocks_);
    Expr r = kir::var("wr"), c = kir::var("wc");
    Expr oc = g * Expr(mg_) + ob * Expr(nr_) + Expr(off) + c;
    Expr orow = rows_ == 1 ? ohg_ : ohg_ * Expr(rows_) + r;
    Stmt cols = vector_loop("wx", 0, p_.ow, ctx_.opts.f32_lanes, true, [&](const Expr& col) {
      Expr slot = (rows_ == 1 ? col : r * Expr(p_.ow) + col) * Expr(width) + c;
      return ctx_.write(0, act(n_, oc, orow, col), kir::load(racc_, slot));
    });
    Stmt chans = kir::for_loop(c, zero(), Expr(width), kir::ForKind::kSerial, cols);
    if (rows_ == 1) return chans;
    Expr extent = p_.oh % rows_ == 0 ? Expr(rows_) : kir::min(Expr(rows_), Expr(p_.oh) - ohg_ * Expr(rows_));
    return kir::for_loop(r, zero(), extent, kir::ForKind::kSerial, chans);
  }

  Stmt image_tiles(int64_t off, int64_t width) {
    std::vector<Stmt> parts;
    for (const TileRun& run : balanced_tiles(p_.oh * p_.ow, mr_))
      for (int64_t t = 0; t < run.count; ++t) {
        int64_t start = run.start + t * run.size;
        parts.push_back(tile(Expr(start), run.size, off, width, start));
      }
    return kir::block(std::move(parts));
  }

  // One output row: runs of interior tiles become loops; tiles touching the
  // padding are emitted one by one (their taps in the padding left out).
  Stmt row_tiles(int64_t off, int64_t width) {
    std::vector<Stmt> parts;
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

  // The index of activation element (image, channel, row, column) in the layout.
  std::vector<Expr> act(const Expr& img, const Expr& c, const Expr& h, const Expr& w) const {
    return nhwc_ ? std::vector<Expr>{img, h, w, c} : std::vector<Expr>{img, c, h, w};
  }

  // The input element of flat position `pos` (1x1, stride 1, unpadded: input
  // and output positions coincide): indexed through the W axis alone, which
  // the row-major strides turn into the flat offset.
  Expr flat_input(const Expr& pos, const Expr& cin) const {
    if (p_.w > 1) return ctx_.read(0, act(n_, cin, zero(), pos));
    return ctx_.read(0, act(n_, cin, pos, zero()));
  }

  // One mr x width tile starting at position c0 (a column of row oh_, or a
  // flat position for flat_ and whole_), channels from `off` in the block.
  // `c0_const` is c0 when known at compile time (>= 0): border tiles then
  // leave out exactly their taps in the padding.
  Stmt tile(const Expr& c0, int64_t mr, int64_t off, int64_t width, int64_t c0_const) {
    DType dt = ctx_.node.inputs[0]->type.dtype;
    kir::Type t = scalar_type(dt);
    Expr j = kir::var("j");
    Expr g = p_.group == 1 ? zero() : gb_ / Expr(blocks_);
    Expr ob = p_.group == 1 ? gb_ : gb_ % Expr(blocks_);
    Expr lane = Expr(off) + j;  // channel within the block
    Expr oc = g * Expr(mg_) + ob * Expr(nr_) + lane;
    kir::Buffer acc = kir::make_buffer("acc", dt);
    Expr kh = kir::var("kh"), kw = kir::var("kw"), icl = kir::var("ic");
    Expr ic = nblk_ > 1 ? icb_ * Expr(cb_) + icl : icl;
    Expr cin = p_.group == 1 ? ic : g * Expr(p_.cg) + ic;
    Expr fzero = kir::make_const(t, 0);
    // Taps at known window positions leave out the positions whose tap lies in
    // the padding instead of checking them; that pays while the channel loop
    // is a loop (not a few unrolled channels, as in a network's first conv):
    // border tiles of a row unroll the window columns, whole-image tiles the
    // window (3x3 at most).
    bool loop_channels = p_.cg > kMaxUnrolledChannels;
    bool border = !flat_ && !whole_ && c0_const >= 0 && (c0_const < lo_ || c0_const + mr > hi_);
    bool unroll_cols = border && loop_channels;
    bool unroll_window = whole_ && loop_channels && p_.kh * p_.kw <= 9;
    // Whole-image tiles of weights that do not stay in L2 (late layers: few
    // positions, megabytes of weights read once per run) wait on each block's
    // weights: the first tile prefetches the next block's (into L2) as it
    // reads this one's, one line of each tap per input channel.
    bool prefetch_next = prefetch_blocks_ && c0_const == 0;
    auto with_prefetches = [&](const Expr& khe, const Expr& kwe, Stmt s) {
      if (!prefetch_next) return s;
      Expr next = icb_ + Expr(int64_t{1});
      Expr gbn = gb_ + next / Expr(nblk_), icn = next % Expr(nblk_) * Expr(cb_) + icl;
      for (int64_t l = off; l < off + width; l += kLineFloats) {
        Expr pf = kir::call(kir::Intrinsic::kPrefetch, {ctx_.read(1, {gbn, khe, kwe, icn, Expr(l)})});
        s = kir::let_stmt(kir::var("pw", t), pf, s);
      }
      return s;
    };

    // The input of tile position i at window tap (khe, kwe), whose values khc
    // and kwc are known when >= 0; null when that tap lies in the padding.
    auto input = [&](int64_t i, const Expr& khe, int64_t khc, const Expr& kwe, int64_t kwc) -> Expr {
      Expr col = c0 + Expr(i);
      if (flat_) return flat_input(col, cin);
      // (row, column) of the first window tap: of position i, or of row oh_ and column col.
      Expr r0 = oh_ * Expr(p_.sh) - Expr(p_.pt), c0e = col * Expr(p_.sw) - Expr(p_.pl);
      int64_t r0c = -1, c0c = -1;
      if (whole_) {
        int64_t pos = c0_const + i;
        r0c = pos / p_.ow * p_.sh - p_.pt, c0c = pos % p_.ow * p_.sw - p_.pl;
        r0 = Expr(r0c), c0e = Expr(c0c);
      } else if (c0_const >= 0) {
        c0c = (c0_const + i) * p_.sw - p_.pl;
      }
      Expr ihe = r0 + khe * Expr(p_.dh), iwe = c0e + kwe * Expr(p_.dw);
      // A tap at a known position in the padding is left out; other taps whose
      // row (whole-image tiles; a row tile's rows are checked outside its taps)
      // or column may leave the input are checked.
      auto outside = [](int64_t at, int64_t extent) { return at < 0 || at >= extent; };
      bool check_h = false, check_w = false;
      if (whole_) {
        if (khc >= 0 && outside(r0c + khc * p_.dh, p_.h)) return Expr();
        if (khc < 0) check_h = outside(r0c, p_.h) || outside(r0c + (p_.kh - 1) * p_.dh, p_.h);
      }
      if (kwc >= 0 && outside(c0c + kwc * p_.dw, p_.w)) return Expr();
      if (kwc < 0 && whole_) check_w = outside(c0c, p_.w) || outside(c0c + (p_.kw - 1) * p_.dw, p_.w);
      if (kwc < 0 && !whole_ && c0_const >= 0) check_w = c0_const + i < lo_ || c0_const + i >= hi_;
      Expr xv = ctx_.read(0, act(n_, cin, check_h ? clamp_index(ihe, p_.h) : ihe, check_w ? clamp_index(iwe, p_.w) : iwe));
      Expr ok;
      if (check_h) ok = ihe >= zero() && ihe < Expr(p_.h);
      if (check_w) ok = ok ? (ok && iwe >= zero() && iwe < Expr(p_.w)) : (iwe >= zero() && iwe < Expr(p_.w));
      return ok ? kir::select(ok, xv, fzero) : xv;
    };
    // Where in its window row tile position i reads at window column kwo: the
    // input column relative to the tile's first, or for whole-image tiles (on
    // several rows) the input position in the padded image.
    auto input_key = [&](int64_t i, int64_t kwo) -> int64_t {
      if (!whole_) return i * p_.sw + kwo * p_.dw;
      int64_t pos = c0_const + i;
      return pos / p_.ow * p_.sh * (p_.w + p_.pl + p_.pr) + pos % p_.ow * p_.sw + kwo * p_.dw;
    };
    // acc[i] += x * w over the tile's positions whose tap (khe, kwe) is inside,
    // each with the input_key it reads (window column kwo, when the taps are unrolled).
    auto column_updates = [&](const Expr& khe, int64_t khc, const Expr& kwe, int64_t kwc, int64_t kwo) {
      Expr wv = packed_ ? ctx_.read(1, {gb_, khe, kwe, ic, lane}) : ctx_.read(1, {oc, ic, khe, kwe});
      std::vector<std::pair<int64_t, Stmt>> u;
      for (int64_t i = 0; i < mr; ++i)
        if (Expr xv = input(i, khe, khc, kwe, kwc))
          u.push_back({input_key(i, kwo), kir::store(acc, Expr(i), kir::load(acc, Expr(i)) + xv * wv)});
      return u;
    };
    auto updates = [&](const Expr& khe, int64_t khc, const Expr& kwe, int64_t kwc) {
      std::vector<Stmt> u;
      for (auto& [key, st] : column_updates(khe, khc, kwe, kwc, 0)) u.push_back(std::move(st));
      return u;
    };
    // A few input channels (a network's first conv): unroll them so the loop
    // that remains is over the window columns, not a 3-trip channel loop.
    auto channel_loop = [&](std::vector<Stmt> u) {
      kir::ForKind kind = loop_channels ? kir::ForKind::kSerial : kir::ForKind::kUnrolled;
      Expr extent = nblk_ == 1        ? Expr(p_.cg)
                    : p_.cg % cb_ == 0 ? Expr(cb_)
                                       : kir::min(Expr(cb_), Expr(p_.cg) - icb_ * Expr(cb_));
      return kir::for_loop(icl, zero(), extent, kind, kir::block(std::move(u)));
    };
    // The taps of window row khe: window columns unrolled or one loop.
    auto window_row = [&](const Expr& khe, int64_t khc) {
      if (!unroll_cols && !unroll_window)
        return kir::for_loop(kw, zero(), Expr(p_.kw), kir::ForKind::kSerial, channel_loop(updates(khe, khc, kw, -1)));
      std::vector<Stmt> taps;
      for (int64_t k = 0; k < p_.kw; ++k)
        if (std::vector<Stmt> u = updates(khe, khc, Expr(k), k); !u.empty())
          taps.push_back(channel_loop({with_prefetches(khe, Expr(k), kir::block(std::move(u)))}));
      return kir::block(std::move(taps));
    };
    // Sliding order: the taps of window row khe unrolled, their updates ordered
    // by the input they read, so that each broadcast input feeds all of its
    // taps at once (3 per input in a 3x3 window at stride 1) while the row's
    // weight vectors stay in registers: a third of the loads of the tap-major
    // order, and one channel loop instead of one per tap (AVX-512, 1 thread,
    // % of the peak measured beside it: Conv 256->256 3x3 at 56x56 84 -> 98,
    // whole-image tiles of Conv 512->512 3x3 at 7x7 59 -> 78).
    auto sliding_row = [&](const Expr& khe, int64_t khc) {
      std::map<int64_t, std::vector<Stmt>> by_input;
      for (int64_t k = 0; k < p_.kw; ++k)
        for (auto& [key, st] : column_updates(khe, khc, Expr(k), c0_const >= 0 ? k : -1, k))
          by_input[key].push_back(std::move(st));
      std::vector<Stmt> stmts;
      for (auto& [key, same_input] : by_input)
        for (Stmt& st : same_input) stmts.push_back(std::move(st));
      return kir::block(std::move(stmts));
    };
    // Row tiles check their window rows against the input's rows.
    bool check_rows = !flat_ && !whole_ && (p_.pt > 0 || p_.pb > 0);
    auto row_inside = [&](const Expr& khe, Stmt s) {
      if (!check_rows) return s;
      Expr ih = oh_ * Expr(p_.sh) + khe * Expr(p_.dh) - Expr(p_.pt);
      return kir::if_then_else(ih >= zero() && ih < Expr(p_.h), s);
    };
    Stmt red;
    if (sliding_ && p_.kh * p_.kw <= 9) {
      // The whole window inside one channel loop.
      std::vector<Stmt> rows;
      for (int64_t k = 0; k < p_.kh; ++k) rows.push_back(row_inside(Expr(k), sliding_row(Expr(k), k)));
      red = channel_loop({kir::block(std::move(rows))});
    } else if (sliding_) {
      red = kir::for_loop(kh, zero(), Expr(p_.kh), kir::ForKind::kSerial, row_inside(kh, channel_loop({sliding_row(kh, -1)})));
    } else if (unroll_window) {
      std::vector<Stmt> rows;
      for (int64_t k = 0; k < p_.kh; ++k) rows.push_back(window_row(Expr(k), k));
      red = kir::block(std::move(rows));
    } else {
      red = kir::for_loop(kh, zero(), Expr(p_.kh), kir::ForKind::kSerial, row_inside(kh, window_row(kh, -1)));
    }

    std::vector<Stmt> init, out, resume, park;
    for (int64_t i = 0; i < mr; ++i) {
      Expr col = c0 + Expr(i);
      init.push_back(kir::store(acc, Expr(i), ctx_.node.inputs.size() == 3 ? ctx_.read(2, {oc}) : fzero));
      Expr orow = oh_, ocol = col;
      if (whole_) orow = Expr((c0_const + i) / p_.ow), ocol = Expr((c0_const + i) % p_.ow);
      if (flat_) orow = col / Expr(p_.ow), ocol = col % Expr(p_.ow);
      out.push_back(ctx_.write(0, act(n_, oc, orow, ocol), kir::load(acc, Expr(i))));
      if (nblk_ > 1) {
        Expr slot = (row_ ? row_ * Expr(p_.ow) + col : col) * Expr(width) + j;
        resume.push_back(kir::store(acc, Expr(i), kir::load(racc_, slot)));
        park.push_back(kir::store(racc_, slot, kir::load(acc, Expr(i))));
      }
    }
    // Blocked: the first block starts from the bias, the last one stores
    // through the epilogue, the others resume from and park in the row buffer.
    Stmt first = kir::block(std::move(init)), last = kir::block(std::move(out));
    if (nblk_ > 1) {
      first = kir::if_then_else(icb_ == zero(), first, kir::block(std::move(resume)));
      last = write_rows_ ? kir::block(std::move(park))
                         : kir::if_then_else(icb_ == Expr(nblk_ - 1), last, kir::block(std::move(park)));
    }
    Stmt body = kir::allocate(acc, Expr(mr), kir::block({first, red, last}));
    return kir::for_loop(j, zero(), Expr(width), kir::ForKind::kVectorized, body);
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  bool nhwc_ = false, packed_ = false, flat_ = false, whole_ = false, weights_major_ = false, sliding_ = false;
  bool prefetch_blocks_ = false;  // whole-image tiles prefetch the next weight block
  bool write_rows_ = false;
  int64_t nr_ = 1, mr_ = 1, mg_ = 1, blocks_ = 1, gbs_ = 1, lo_ = 0, hi_ = 0, chunk_ = 1, chunks_ = 1;
  int64_t nblk_ = 1, cb_ = 1;        // input-channel blocks
  int64_t rows_ = 1, groups_ = 1;    // output rows per iteration, row groups
  Expr n_, gb_, ohg_, oh_ = Expr(int64_t{0}), row_, pc_ = Expr(int64_t{0}), icb_;
  kir::Buffer racc_;
};

}  // namespace

bool conv_is_flat(const ConvParams& p) {
  return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0;
}

Stmt lower_conv_direct(const LowerContext& ctx, const ConvParams& p, const RegisterTile& tile, bool nhwc) {
  return DirectConv(ctx, p, tile, nhwc).build();
}

}  // namespace kiln::ops
