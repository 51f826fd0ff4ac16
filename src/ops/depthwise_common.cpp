// Shared depthwise Conv pieces (see depthwise_common.h).
#include "ops/depthwise_common.h"

#include <algorithm>

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

// [lo, hi): the output indices whose whole window lies inside [0, in) along
// one axis (stride s, pad before pb, kernel k, dilation d), clamped to [0, out).
std::pair<int64_t, int64_t> interior(int64_t in, int64_t out, int64_t s, int64_t pb, int64_t k, int64_t d) {
  int64_t span = (k - 1) * d;
  int64_t lo = std::min((pb + s - 1) / s, out);
  int64_t hi = in - 1 - span + pb >= 0 ? (in - 1 - span + pb) / s + 1 : 0;
  return {lo, std::max(lo, std::min(hi, out))};
}

}  // namespace

bool depthwise_parallel(const KernelOptions& opts, const ConvParams& p) {
  constexpr int64_t kMinParallelMacs = int64_t{1} << 20;
  return opts.parallelize() && p.n * p.m * p.oh * p.ow * p.kh * p.kw >= kMinParallelMacs;
}

DepthwiseInterior depthwise_interior(const ConvParams& p) {
  DepthwiseInterior r;
  std::tie(r.rlo, r.rhi) = interior(p.h, p.oh, p.sh, p.pt, p.kh, p.dh);
  std::tie(r.clo, r.chi) = interior(p.w, p.ow, p.sw, p.pl, p.kw, p.dw);
  return r;
}

Stmt depthwise_tile(const DepthwiseTile& t, const ConvParams& p) {
  Expr zero(int64_t{0});
  kir::Buffer acc = kir::make_buffer("acc", t.dt);
  std::vector<Stmt> init, update, out;
  for (int64_t i = 0; i < t.mr; ++i) {
    init.push_back(kir::store(acc, Expr(i), t.init));
    update.push_back(kir::store(acc, Expr(i), kir::load(acc, Expr(i)) + t.x(i) * t.w));
    out.push_back(t.out(i, kir::load(acc, Expr(i))));
  }
  Stmt red = kir::for_loop(t.kw, zero, Expr(p.kw), t.kw_kind, kir::block(update));
  if (t.row_ok) red = kir::if_then_else(t.row_ok, red);
  red = kir::for_loop(t.kh, zero, Expr(p.kh), kir::ForKind::kSerial, red);
  Stmt body = kir::allocate(acc, Expr(t.mr), kir::block({kir::block(init), red, kir::block(out)}));
  return kir::for_loop(t.j, zero, Expr(t.width), kir::ForKind::kVectorized, body);
}

}  // namespace kiln::ops
