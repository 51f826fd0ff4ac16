// Level-4 Conv by Winograd F(m x m, 3 x 3) (Lavin & Gray, 2016) on NCHW or
// NHWC activations (ops/layout.h), in one kernel of three phases, each
// parallel over the runtime's pool:
//  1. input transform: every alpha x alpha input tile d (zeros outside the
//     image) becomes B^T d B, stored as V[p][t][c] (p: transform point, t: tile
//     over batch x rows x columns, c: input channel), vectors along c;
//  2. one GEMM per point, M[p][t][k] = sum_c V[p][t][c] U[p][c][k], U = G g G^T
//     pre-packed at compile time in nr-channel panels (ops/winograd.h), with
//     matmul_tiled's register tile: mr tiles x nr channels, V broadcast, U vectors,
//     the next U panel prefetched;
//  3. output transform: A^T M A per tile plus bias, vectors along k, stored
//     through ctx.write so the fused epilogue (activation, residual add) applies.
// Large images run in blocks of tiles (the three phases per block) so that V
// and M stay bounded; they are kernel-local buffers, which the pipeline
// places in the arena (lower/hoist_scratch).
#include <algorithm>
#include <cmath>

#include "ops/conv_params.h"
#include "ops/layout.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"
#include "ops/winograd.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }

// Bounds on V + M (bytes) per block of tiles (see WinogradConv's constructor).
constexpr int64_t kMinScratchBytes = int64_t{1} << 20;
constexpr int64_t kMaxScratchBytes = int64_t{16} << 20;

// sum_s coef(s) * in(s) over the nonzero coefficients, in order of s (+-1
// become adds and subtracts); 0 if all are zero.
Expr linear_combination(int count, const std::function<double(int)>& coef, const std::function<Expr(int)>& in) {
  Expr acc;
  for (int s = 0; s < count; ++s) {
    double c = coef(s);
    if (c == 0) continue;
    Expr x = in(s);
    if (!acc) {
      acc = c == 1 ? x : c == -1 ? -x : kir::make_const(x.type(), c) * x;
    } else if (c == 1) {
      acc = acc + x;
    } else if (c == -1) {
      acc = acc - x;
    } else {
      acc = acc + kir::make_const(x.type(), c) * x;
    }
  }
  return acc ? acc : kir::make_const(kir::f32(), 0);
}

class WinogradConv {
 public:
  WinogradConv(const LowerContext& ctx, const ConvParams& p, const PackedWeight& packed)
      : ctx_(ctx), p_(p), t_(winograd_transform(winograd_tile(packed))) {
    m_ = t_.m;
    a_ = t_.alpha;
    points_ = int64_t{a_} * a_;
    nr_ = packed.block;
    mr_ = register_tile(ctx.opts).mr;
    kb_ = (p.m + nr_ - 1) / nr_;
    kp_ = kb_ * nr_;
    th_ = (p.oh + m_ - 1) / m_;
    tw_ = (p.ow + m_ - 1) / m_;
    tiles_ = p.n * th_ * tw_;
    // Tiles per block: V and M together within twice U's size (U is read once
    // per block), but at least 1 MB (an L2) and at most 16 MB; equal blocks.
    // 64 channels at 56x56 in 4 blocks measured 6-10% faster than in one;
    // 256 channels in blocks, slower (U is 9.4 MB there).
    int64_t per_tile = points_ * (p.c + kp_) * int64_t{sizeof(float)};
    int64_t u_bytes = points_ * p.c * kp_ * int64_t{sizeof(float)};
    int64_t budget = std::clamp(2 * u_bytes, kMinScratchBytes, kMaxScratchBytes);
    int64_t blocks = std::max<int64_t>(1, (tiles_ * per_tile + budget - 1) / budget);
    block_ = ctx.node.attrs.get_int(kWinogradBlockAttr, (tiles_ + blocks - 1) / blocks);
    block_ = std::clamp<int64_t>(block_, std::min<int64_t>(mr_, tiles_), tiles_);
    lanes_ = ctx.opts.vectorize() ? ctx.opts.f32_lanes : 1;
    nhwc_ = is_channels_last(ctx.node);
  }

  Stmt build() {
    kir::Buffer v = kir::make_buffer("wino_v", DType::kF32), m = kir::make_buffer("wino_m", DType::kF32);
    // Tiles [t0, t0 + count) through the three phases.
    auto phases = [&](const Expr& t0, int64_t count) {
      return kir::block({input_transform(v, t0, count), batched_gemm(v, m, count), output_transform(m, t0, count)});
    };
    int64_t full = tiles_ / block_, last = tiles_ % block_;
    Stmt body;
    if (full == 1 && last == 0) {
      body = phases(zero(), block_);
    } else {
      Expr b = kir::var("tb");
      body = kir::for_loop(b, zero(), Expr(full), kir::ForKind::kSerial, phases(b * Expr(block_), block_));
      if (last > 0) body = kir::block({body, phases(Expr(full * block_), last)});
    }
    return kir::allocate(v, Expr(points_ * block_ * p_.c), kir::allocate(m, Expr(points_ * block_ * kp_), body));
  }

 private:
  // The (image, tile row, tile column) of flat tile index t.
  void tile_pos(const Expr& t, Expr* img, Expr* ty, Expr* tx) const {
    *img = p_.n == 1 ? zero() : t / Expr(th_ * tw_);
    *ty = th_ == 1 ? zero() : (t / Expr(tw_)) % Expr(th_);
    *tx = tw_ == 1 ? zero() : t % Expr(tw_);
  }

  // Activation index of (image, channel, row, column) in the node's layout.
  std::vector<Expr> act(const Expr& img, const Expr& c, const Expr& h, const Expr& w) const {
    return nhwc_ ? std::vector<Expr>{img, h, w, c} : std::vector<Expr>{img, c, h, w};
  }

  // Phase 1: V[p][l][c] = (B^T d B)[p] of tile t0 + l, tiles in parallel,
  // vectors along c. Tiles whose window lies inside the image skip the bounds checks.
  Stmt input_transform(const kir::Buffer& v, const Expr& t0, int64_t count) {
    LoopNest nest;
    Expr l = nest.add("t", count);
    Expr t = t0 + l;
    Expr img, ty, tx;
    tile_pos(t, &img, &ty, &tx);
    Expr ih0 = ty * Expr(int64_t{m_}) - Expr(p_.pt), iw0 = tx * Expr(int64_t{m_}) - Expr(p_.pl);
    auto channels = [&](bool checked) {
      return vector_loop("c", 0, p_.c, lanes_, ctx_.opts.vectorize(), [&](const Expr& c) {
        kir::Buffer d = kir::make_buffer("wd", DType::kF32), rows = kir::make_buffer("wr", DType::kF32);
        std::vector<Stmt> body;
        for (int i = 0; i < a_; ++i)
          for (int j = 0; j < a_; ++j) {
            Expr ih = ih0 + Expr(int64_t{i}), iw = iw0 + Expr(int64_t{j});
            Expr x;
            if (checked) {
              Expr ok = ih >= zero() && ih < Expr(p_.h) && iw >= zero() && iw < Expr(p_.w);
              x = kir::select(ok, ctx_.read(0, act(img, c, clamp_index(ih, p_.h), clamp_index(iw, p_.w))),
                              kir::make_const(kir::f32(), 0));
            } else {
              x = ctx_.read(0, act(img, c, ih, iw));
            }
            body.push_back(kir::store(d, Expr(int64_t{i * a_ + j}), x));
          }
        // rows = B^T d, then V = rows B.
        for (int i = 0; i < a_; ++i)
          for (int j = 0; j < a_; ++j)
            body.push_back(kir::store(rows, Expr(int64_t{i * a_ + j}),
                                      linear_combination(a_, [&](int s) { return t_.bt_at(i, s); },
                                                         [&](int s) { return kir::load(d, Expr(int64_t{s * a_ + j})); })));
        for (int i = 0; i < a_; ++i)
          for (int j = 0; j < a_; ++j) {
            Expr val = linear_combination(a_, [&](int s) { return t_.bt_at(j, s); },
                                          [&](int s) { return kir::load(rows, Expr(int64_t{i * a_ + s})); });
            Expr idx = (Expr(int64_t{i * a_ + j}) * Expr(block_) + l) * Expr(p_.c) + c;
            body.push_back(kir::store(v, idx, val));
          }
        return kir::allocate(d, Expr(points_), kir::allocate(rows, Expr(points_), kir::block(std::move(body))));
      });
    };
    Expr interior = ih0 >= zero() && ih0 + Expr(int64_t{a_}) <= Expr(p_.h) && iw0 >= zero() &&
                    iw0 + Expr(int64_t{a_}) <= Expr(p_.w);
    return nest.build(kir::if_then_else(interior, channels(false), channels(true)), ctx_.opts.parallelize());
  }

  // Phase 2: per point p and nr-channel panel nb (in parallel), M[p][l][k] for
  // the block's tiles in row tiles of mr: accumulators mr x nr, the c loop serial.
  Stmt batched_gemm(const kir::Buffer& v, const kir::Buffer& m, int64_t count) {
    LoopNest nest;
    Expr pk = nest.add("pk", points_ * kb_);
    Expr p = kb_ == 1 ? pk : pk / Expr(kb_);
    Expr nb = kb_ == 1 ? zero() : pk % Expr(kb_);
    Expr next = kir::min(pk + Expr(int64_t{1}), Expr(points_ * kb_ - 1));  // the panel after this one
    int64_t nt = (count + mr_ - 1) / mr_, q = count / nt, r = count % nt;
    std::vector<Stmt> parts;
    auto run = [&](int64_t start, int64_t n, int64_t size) {  // n tiles of `size` rows
      if (n == 0) return;
      if (n == 1) return parts.push_back(gemm_tile(v, m, p, nb, next, Expr(start), size, count));
      Expr ti = kir::var("mt");
      parts.push_back(kir::for_loop(ti, zero(), Expr(n), kir::ForKind::kSerial,
                                    gemm_tile(v, m, p, nb, next, Expr(start) + ti * Expr(size), size, count)));
    };
    run(0, r, q + 1);
    run(r * (q + 1), nt - r, q);
    return nest.build(kir::block(std::move(parts)), ctx_.opts.parallelize());
  }

  Stmt gemm_tile(const kir::Buffer& v, const kir::Buffer& m, const Expr& p, const Expr& nb, const Expr& next,
                 const Expr& t0, int64_t rows, int64_t count) {
    Expr j = kir::var("j"), c = kir::var("c");
    kir::Buffer acc = kir::make_buffer("acc", DType::kF32);
    Expr u = ctx_.read(1, {p, nb, c, j});
    std::vector<Stmt> init, update, out;
    for (int64_t i = 0; i < rows; ++i) {
      Expr row = p * Expr(block_) + t0 + Expr(i);
      init.push_back(kir::store(acc, Expr(i), kir::make_const(kir::f32(), 0)));
      update.push_back(kir::store(acc, Expr(i), kir::load(acc, Expr(i)) + kir::load(v, row * Expr(p_.c) + c) * u));
      out.push_back(kir::store(m, row * Expr(kp_) + nb * Expr(nr_) + j, kir::load(acc, Expr(i))));
    }
    // One prefetch per c (into L2) of the next U panel (C x nr, contiguous),
    // each row tile from its share of the panel's cache lines on (as the
    // GEMM tiler's B panels, GemmPlan::prefetch_start), so that U, cold and
    // read once, streams in while this panel is multiplied. Measured on
    // ResNet-50's layers (AVX-512, 1 thread): F(4x4) 10-25% faster, F(2x2) 5-30%.
    int64_t line = std::min<int64_t>(64 / sizeof(float), nr_), per_row = nr_ / line;
    Expr start = per_row <= 1 ? zero() : kir::min(t0 * Expr(per_row * p_.c) / Expr(count), Expr((per_row - 1) * p_.c));
    Expr pf = kir::call(kir::Intrinsic::kPrefetch, {ctx_.read(1, {zero(), next, zero(), (start + c) * Expr(line)})});
    Stmt step = kir::let_stmt(kir::var("pf", kir::f32()), pf, kir::block(update));
    Stmt red = kir::for_loop(c, zero(), Expr(p_.c), kir::ForKind::kSerial, step);
    Stmt body = kir::allocate(acc, Expr(rows), kir::block({kir::block(init), red, kir::block(out)}));
    kir::ForKind kind = ctx_.opts.vectorize() ? kir::ForKind::kVectorized : kir::ForKind::kSerial;
    return kir::for_loop(j, zero(), Expr(nr_), kind, body);
  }

  // Phase 3: Y = A^T M A + bias per tile (tiles in parallel, vectors along k),
  // through ctx.write; positions past the output's edge are not written.
  Stmt output_transform(const kir::Buffer& m, const Expr& t0, int64_t count) {
    LoopNest nest;
    Expr l = nest.add("t", count);
    Expr t = t0 + l;
    Expr img, ty, tx;
    tile_pos(t, &img, &ty, &tx);
    int64_t rem_h = p_.oh % m_, rem_w = p_.ow % m_;
    Stmt body = vector_loop("k", 0, p_.m, lanes_, ctx_.opts.vectorize(), [&](const Expr& k) {
      kir::Buffer mm = kir::make_buffer("wm", DType::kF32), rows = kir::make_buffer("wa", DType::kF32);
      std::vector<Stmt> stmts;
      for (int64_t q = 0; q < points_; ++q)
        stmts.push_back(kir::store(mm, Expr(q), kir::load(m, (Expr(q * block_) + l) * Expr(kp_) + k)));
      // rows = A^T M (m x alpha), then Y = rows A (m x m).
      for (int i = 0; i < m_; ++i)
        for (int j = 0; j < a_; ++j)
          stmts.push_back(kir::store(rows, Expr(int64_t{i * a_ + j}),
                                     linear_combination(a_, [&](int s) { return t_.at_at(i, s); },
                                                        [&](int s) { return kir::load(mm, Expr(int64_t{s * a_ + j})); })));
      Expr bias = ctx_.node.inputs.size() == 3 ? ctx_.read(2, {k}) : Expr();
      for (int i = 0; i < m_; ++i)
        for (int j = 0; j < m_; ++j) {
          Expr y = linear_combination(a_, [&](int s) { return t_.at_at(j, s); },
                                      [&](int s) { return kir::load(rows, Expr(int64_t{i * a_ + s})); });
          if (bias) y = y + bias;
          Expr oh = ty * Expr(int64_t{m_}) + Expr(int64_t{i}), ow = tx * Expr(int64_t{m_}) + Expr(int64_t{j});
          Stmt w = ctx_.write(0, act(img, k, oh, ow), y);
          // Only the last tile row/column can stick out, and only at i >= rem.
          Expr inside;
          if (rem_h != 0 && i >= rem_h) inside = ty < Expr(th_ - 1);
          if (rem_w != 0 && j >= rem_w) inside = inside ? (inside && tx < Expr(tw_ - 1)) : (tx < Expr(tw_ - 1));
          stmts.push_back(inside ? kir::if_then_else(inside, w) : w);
        }
      return kir::allocate(mm, Expr(points_), kir::allocate(rows, Expr(int64_t{m_} * a_), kir::block(std::move(stmts))));
    });
    return nest.build(body, ctx_.opts.parallelize());
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  const WinogradTransform& t_;
  int m_ = 4, a_ = 6, lanes_ = 1;
  bool nhwc_ = false;
  int64_t points_ = 36, nr_ = 1, mr_ = 1, kb_ = 1, kp_ = 1, th_ = 1, tw_ = 1, tiles_ = 1, block_ = 1;
};

}  // namespace

Expected<Stmt> lower_conv_winograd(const LowerContext& ctx, const ConvParams& p) {
  std::optional<PackedWeight> packed = packed_weight(ctx.node);
  KILN_CHECK(packed && winograd_tile(*packed) > 0) << ctx.node.label() << ": Winograd lowering without Winograd weights";
  if (p.kh != 3 || p.kw != 3 || p.sh != 1 || p.sw != 1 || p.dh != 1 || p.dw != 1 || p.group != 1)
    return Status::internal("Winograd weights on a conv that is not 3x3, stride 1, dilation 1, one group");
  return WinogradConv(ctx, p, *packed).build();
}

}  // namespace kiln::ops
