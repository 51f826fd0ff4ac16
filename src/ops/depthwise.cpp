// Level-3 depthwise Conv (group == channels, one output per channel) on NCHW:
// register tiles of mr output rows x nr output columns (vectors along the
// row), one broadcast weight per window tap, interior tiles without bounds
// checks; border rows and columns run in narrow checked tiles.
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

class DepthwiseTiler {
 public:
  DepthwiseTiler(const LowerContext& ctx, const ConvParams& p) : ctx_(ctx), p_(p) {
    // 4 rows x 2 vectors. LLVM unrolls the 3x3 window and keeps the 9 tap
    // weights in registers, so on AVX2 this spills a little; sizing the tile
    // to fit (4 x 1 vector) measured slower (fewer independent FMA chains).
    lanes_ = ctx.opts.f32_lanes;
    nr_ = 2 * lanes_;
    mr_ = std::clamp<int64_t>((ctx.opts.vector_registers - 4) / 2, 1, 4);
    DepthwiseInterior in = depthwise_interior(p);
    rlo_ = in.rlo, rhi_ = in.rhi, clo_ = in.clo, chi_ = in.chi;
  }

  Stmt build() {
    LoopNest nest;
    n_ = nest.add("n", p_.n);
    c_ = nest.add("c", p_.m);
    std::vector<Stmt> parts;
    for (int64_t r = 0; r < rlo_; ++r) parts.push_back(row_block(Expr(r), 1, true));
    int64_t rows = rhi_ - rlo_;
    if (rows > 0) {
      int64_t nt = (rows + mr_ - 1) / mr_, q = rows / nt, rem = rows % nt;
      auto run = [&](int64_t start, int64_t count, int64_t size) {
        if (count == 0) return;
        if (count == 1) return parts.push_back(row_block(Expr(start), size, false));
        Expr t = kir::var("rt");
        parts.push_back(kir::for_loop(t, zero(), Expr(count), kir::ForKind::kSerial,
                                      row_block(Expr(start) + t * Expr(size), size, false)));
      };
      run(rlo_, rem, q + 1);
      run(rlo_ + rem * (q + 1), nt - rem, q);
    }
    for (int64_t r = std::max(rhi_, rlo_); r < p_.oh; ++r) parts.push_back(row_block(Expr(r), 1, true));
    return nest.build(kir::block(std::move(parts)), ctx_.opts.parallelize());
  }

 private:
  // Output rows [oh0, oh0 + mr): checked single columns at the borders,
  // vector panels over the interior columns.
  Stmt row_block(const Expr& oh0, int64_t mr, bool check_rows) {
    std::vector<Stmt> parts;
    for (int64_t c = 0; c < clo_; ++c) parts.push_back(tile(oh0, mr, Expr(c), 1, check_rows, true));
    int64_t cols = chi_ - clo_, full = cols / nr_;
    if (full > 0) {
      Expr pb = kir::var("pb");
      parts.push_back(kir::for_loop(pb, zero(), Expr(full), kir::ForKind::kSerial,
                                    tile(oh0, mr, Expr(clo_) + pb * Expr(nr_), nr_, check_rows, false)));
    }
    for (auto [off, w] : vector_pieces(cols - full * nr_, static_cast<int>(lanes_)))
      parts.push_back(tile(oh0, mr, Expr(clo_ + full * nr_ + off), w, check_rows, false));
    for (int64_t c = std::max(chi_, clo_); c < p_.ow; ++c) parts.push_back(tile(oh0, mr, Expr(c), 1, check_rows, true));
    return kir::block(std::move(parts));
  }

  Stmt tile(const Expr& oh0, int64_t mr, const Expr& ow0, int64_t width, bool check_rows, bool check_cols) {
    DepthwiseTile t;
    t.dt = ctx_.node.inputs[0]->type.dtype;
    kir::Type st = scalar_type(t.dt);
    t.mr = mr, t.width = width, t.j = kir::var("j"), t.kh = kir::var("kh"), t.kw = kir::var("kw");
    Expr ow = ow0 + t.j;
    Expr iw = ow * Expr(p_.sw) + t.kw * Expr(p_.dw) - Expr(p_.pl);
    std::optional<PackedWeight> packed = packed_weight(ctx_.node);
    t.w = packed ? ctx_.read(1, packed_conv_index(c_, zero(), t.kh, t.kw, 1, packed->block))
                 : ctx_.read(1, {c_, zero(), t.kh, t.kw});
    t.init = ctx_.node.inputs.size() == 3 ? ctx_.read(2, {c_}) : kir::make_const(st, 0);
    auto ih = [&](const Expr& oh) { return oh * Expr(p_.sh) + t.kh * Expr(p_.dh) - Expr(p_.pt); };
    t.x = [&](int64_t i) {
      Expr xv = ctx_.read(0, {n_, c_, ih(oh0 + Expr(i)), check_cols ? clamp_index(iw, p_.w) : iw});
      if (check_cols) xv = kir::select(iw >= zero() && iw < Expr(p_.w), xv, kir::make_const(st, 0));
      return xv;
    };
    t.out = [&](int64_t i, const Expr& v) { return ctx_.write(0, {n_, c_, oh0 + Expr(i), ow}, v); };
    // Only single-row blocks are checked: skip the window rows outside the input.
    if (check_rows) t.row_ok = ih(oh0) >= zero() && ih(oh0) < Expr(p_.h);
    return depthwise_tile(t, p_);
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  int64_t lanes_ = 1, nr_ = 1, mr_ = 1, rlo_ = 0, rhi_ = 0, clo_ = 0, chi_ = 0;
  Expr n_, c_;
};

}  // namespace

bool depthwise_tiled_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts) {
  if (opts.level < 3 || opts.f32_lanes < 4 || node.inputs[0]->type.dtype != DType::kF32) return false;
  return p.cg == 1 && p.group == p.c && p.m == p.c && p.sw <= 4;
}

Expected<Stmt> lower_depthwise_tiled(const LowerContext& ctx, const ConvParams& p) {
  return DepthwiseTiler(ctx, p).build();
}

}  // namespace kiln::ops
