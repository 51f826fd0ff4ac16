// ConvTranspose (2-D) on NHWC activations (layout="NHWC"; passes/convert_layout):
// for each output position, vectors of output channels summed over the taps
// that map to it and the group's input channels. Weights pre-packed
// "ohwi<nr>o" (weight_layout.h) load as channel vectors; each input is one
// broadcast. With dilation 1 only the valid taps are visited: output o takes
// tap k = r + j*s (r = (o + pad) mod s) from input (o + pad - k) / s.
#include <algorithm>

#include "ops/conv_transpose_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Expected<Stmt> lower_conv_transpose_nhwc(const LowerContext& ctx, const ConvTransposeParams& p) {
  if (p.in.size() != 2)
    return Status::internal("ConvTranspose has no NHWC kernel for " + ctx.node.inputs[0]->type.str());
  std::optional<PackedWeight> packed = packed_weight(ctx.node);
  DType dt = ctx.node.inputs[0]->type.dtype;
  kir::Type t = scalar_type(dt);
  Expr zero = Expr(int64_t{0});
  int64_t nr = packed ? packed->block : register_tile(ctx.opts).nr;
  int64_t blocks = (p.mg + nr - 1) / nr;
  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr oh = nest.add("oh", p.out[0]);
  Expr ow = kir::var("ow"), gb = kir::var("gb");
  Expr g = p.group == 1 ? zero : gb / Expr(blocks);
  Expr ob = p.group == 1 ? gb : gb % Expr(blocks);
  std::vector<Expr> o = {oh, ow};

  // The taps of axis i as (loop var, extent, tap index, input index, validity).
  struct Axis {
    Expr var, extent, k, in, valid;
  };
  auto axis = [&](size_t i, const std::string& name) {
    Axis a;
    a.var = kir::var(name);
    int64_t s = p.strides[i], d = p.dilations[i];
    Expr base = o[i] + Expr(p.pad_begin[i]);
    Expr num;
    if (d == 1 && s > 1) {
      Expr r = base % Expr(s);
      a.extent = (Expr(p.kernel[i]) - r + Expr(s - 1)) / Expr(s);
      a.k = r + a.var * Expr(s);
      num = base - a.k;
      a.valid = num >= zero && num < Expr(p.in[i] * s);
    } else {
      a.extent = Expr(p.kernel[i]);
      a.k = a.var;
      num = base - a.k * Expr(d);
      a.valid = num >= zero && num < Expr(p.in[i] * s);
      if (s > 1) a.valid = a.valid && (num % Expr(s)) == zero;
    }
    a.in = s > 1 ? num / Expr(s) : num;
    return a;
  };
  Axis ah = axis(0, "kh"), aw = axis(1, "kw");

  // Output channels [off, off + width) of block ob at position (oh, ow).
  auto point = [&](int64_t off, int64_t width) -> Stmt {
    Expr j = kir::var("j"), ci = kir::var("ci");
    Expr lane = Expr(off) + j;
    Expr mi = ob * Expr(nr) + lane;
    Expr m = g * Expr(p.mg) + mi;
    Expr ic = g * Expr(p.cg) + ci;
    Expr wv = packed ? ctx.read(1, {gb, ah.k, aw.k, ci, lane}) : ctx.read(1, {ic, mi, ah.k, aw.k});
    Expr xv = ctx.read(0, {n, ah.in, aw.in, ic});
    kir::Buffer acc = kir::make_buffer("acc", dt);
    Expr a0 = kir::load(acc, zero);
    Stmt red = kir::for_loop(ci, zero, Expr(p.cg), kir::ForKind::kSerial, kir::store(acc, zero, a0 + xv * wv));
    red = kir::for_loop(aw.var, zero, aw.extent, kir::ForKind::kSerial, kir::if_then_else(aw.valid, red));
    red = kir::for_loop(ah.var, zero, ah.extent, kir::ForKind::kSerial, kir::if_then_else(ah.valid, red));
    Expr init = ctx.node.inputs.size() == 3 ? ctx.read(2, {m}) : kir::make_const(t, 0);
    Stmt body = kir::block({kir::store(acc, zero, init), red, ctx.write(0, {n, oh, ow, m}, kir::load(acc, zero))});
    return kir::for_loop(j, zero, Expr(width), kir::ForKind::kVectorized, kir::allocate(acc, Expr(int64_t{1}), body));
  };
  int64_t tail = p.mg - (blocks - 1) * nr;
  Stmt body = point(0, nr);
  if (tail != nr) {
    std::vector<Stmt> pieces;
    for (auto [off, w] : vector_pieces(tail, ctx.opts.f32_lanes)) pieces.push_back(point(off, w));
    Stmt last = kir::block(std::move(pieces));
    body = blocks == 1 ? last : kir::if_then_else(ob == Expr(blocks - 1), last, body);
  }
  body = kir::for_loop(gb, zero, Expr(p.group * blocks), kir::ForKind::kSerial, body);
  body = kir::for_loop(ow, zero, Expr(p.out[1]), kir::ForKind::kSerial, body);
  return nest.build(body, ctx.opts.parallelize() && nest.total() * p.out[1] * p.m >= 4096);
}

}  // namespace kiln::ops
