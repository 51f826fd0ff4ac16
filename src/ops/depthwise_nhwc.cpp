// Level-3 depthwise Conv (group == channels, one output per channel) on NHWC
// activations (layout="NHWC"; passes/convert_layout). Channels are contiguous,
// so the kernel vectorizes over a block of channels: a register tile is mr
// output columns x one channel vector, each window tap one weight vector
// (pre-packed "chw<nr>c": the taps of a channel block side by side) times mr
// input vectors. The window columns are unrolled so that neighbouring output
// columns share their input loads. Interior tiles run without bounds checks;
// border columns and rows are checked (one scalar test per tap, not per lane).
#include <algorithm>

#include "ops/conv_params.h"
#include "ops/depthwise_common.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }

class NhwcDepthwise {
 public:
  NhwcDepthwise(const LowerContext& ctx, const ConvParams& p) : ctx_(ctx), p_(p), packed_(packed_weight(ctx.node)) {
    lanes_ = std::max(1, ctx.opts.f32_lanes);
    nr_ = packed_ ? packed_->block : lanes_;
    // 8 columns x 1 vector: 8 accumulators, the unrolled window row's weights
    // and the shared input vectors fit 16 registers.
    mr_ = 8;
    DepthwiseInterior in = depthwise_interior(p);
    rlo_ = in.rlo, rhi_ = in.rhi, clo_ = in.clo, chi_ = in.chi;
  }

  Stmt build() {
    LoopNest nest;
    n_ = nest.add("n", p_.n);
    oh_ = nest.add("oh", p_.oh);
    Stmt body = row(false);
    if (rlo_ > 0 || rhi_ < p_.oh) {
      Expr inside = oh_ >= Expr(rlo_) && oh_ < Expr(rhi_);
      body = rlo_ >= rhi_ ? row(true) : kir::if_then_else(inside, body, row(true));
    }
    return nest.build(body, depthwise_parallel(ctx_.opts, p_));
  }

 private:
  // Output row oh_: every channel block, then the channel tail in pieces.
  Stmt row(bool check_rows) {
    int64_t full = p_.m / nr_, tail = p_.m - full * nr_;
    std::vector<Stmt> parts;
    if (full > 0) {
      Expr cb = kir::var("cb");
      parts.push_back(kir::for_loop(cb, zero(), Expr(full), kir::ForKind::kSerial, columns(cb, 0, nr_, check_rows)));
    }
    for (auto [off, w] : vector_pieces(tail, lanes_)) parts.push_back(columns(Expr(full), off, w, check_rows));
    return kir::block(std::move(parts));
  }

  // All output columns of the row for channels [cb * nr + off, + width).
  Stmt columns(const Expr& cb, int64_t off, int64_t width, bool check_rows) {
    std::vector<Stmt> parts;
    for (int64_t c = 0; c < clo_; ++c) parts.push_back(tile(Expr(c), 1, cb, off, width, check_rows, true));
    int64_t cols = chi_ - clo_, full = cols / mr_, rest = cols - full * mr_;
    if (full > 0) {
      Expr t = kir::var("t");
      parts.push_back(kir::for_loop(t, zero(), Expr(full), kir::ForKind::kSerial,
                                    tile(Expr(clo_) + t * Expr(mr_), mr_, cb, off, width, check_rows, false)));
    }
    if (rest > 0) parts.push_back(tile(Expr(clo_ + full * mr_), rest, cb, off, width, check_rows, false));
    for (int64_t c = std::max(chi_, clo_); c < p_.ow; ++c)
      parts.push_back(tile(Expr(c), 1, cb, off, width, check_rows, true));
    return kir::block(std::move(parts));
  }

  Stmt tile(const Expr& ow0, int64_t mr, const Expr& cb, int64_t off, int64_t width, bool check_rows,
            bool check_cols) {
    DepthwiseTile t;
    t.dt = ctx_.node.inputs[0]->type.dtype;
    kir::Type st = scalar_type(t.dt);
    t.mr = mr, t.width = width, t.j = kir::var("j"), t.kh = kir::var("kh"), t.kw = kir::var("kw");
    Expr c = cb * Expr(nr_) + Expr(off) + t.j;
    Expr ih = oh_ * Expr(p_.sh) + t.kh * Expr(p_.dh) - Expr(p_.pt);
    t.w = packed_ ? ctx_.read(1, {cb, t.kh, t.kw, zero(), Expr(off) + t.j}) : ctx_.read(1, {c, zero(), t.kh, t.kw});
    t.init = ctx_.node.inputs.size() == 3 ? ctx_.read(2, {c}) : kir::make_const(st, 0);
    t.x = [&](int64_t i) {
      Expr iw = (ow0 + Expr(i)) * Expr(p_.sw) + t.kw * Expr(p_.dw) - Expr(p_.pl);
      if (!check_cols) return ctx_.read(0, {n_, ih, iw, c});
      Expr ok = iw >= zero() && iw < Expr(p_.w);
      return kir::select(ok, ctx_.read(0, {n_, ih, clamp_index(iw, p_.w), c}), kir::make_const(st, 0));
    };
    t.out = [&](int64_t i, const Expr& v) { return ctx_.write(0, {n_, oh_, ow0 + Expr(i), c}, v); };
    t.kw_kind = p_.kw <= 7 ? kir::ForKind::kUnrolled : kir::ForKind::kSerial;
    if (check_rows) t.row_ok = ih >= zero() && ih < Expr(p_.h);
    return depthwise_tile(t, p_);
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  std::optional<PackedWeight> packed_;
  int lanes_ = 1;
  int64_t nr_ = 1, mr_ = 1, rlo_ = 0, rhi_ = 0, clo_ = 0, chi_ = 0;
  Expr n_, oh_;
};

}  // namespace

Expected<Stmt> lower_depthwise_nhwc(const LowerContext& ctx, const ConvParams& p) {
  return NhwcDepthwise(ctx, p).build();
}

}  // namespace kiln::ops
