// MaxPool and AveragePool (2-D) on NHWC activations (layout="NHWC";
// passes/convert_layout): vectorized over the contiguous channels, one
// scalar bounds test per window tap. Semantics as pool.cpp (Max ignores the
// padding; Average divides by the taps inside the input, or with
// count_include_pad by those inside the padded input).
#include "ops/op_families.h"
#include "ops/pool_params.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;
using kir::Stmt;

Expected<Stmt> lower_pool_nhwc(const LowerContext& ctx, const PoolParams& p) {
  OpKind op = ctx.node.op;
  if ((op != OpKind::kMaxPool && op != OpKind::kAveragePool) || p.in.size() != 2)
    return Status::internal(std::string(ir::op_name(op)) + " has no NHWC kernel for " + ctx.node.inputs[0]->type.str());
  DType dt = ctx.node.inputs[0]->type.dtype;
  kir::Type t = scalar_type(dt);
  Expr zero = Expr(int64_t{0}), fzero = kir::make_const(t, 0);
  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr oh = nest.add("oh", p.out[0]);
  Expr ow = kir::var("ow");
  Expr kh = kir::var("kh"), kw = kir::var("kw");
  Expr ih = oh * Expr(p.strides[0]) + kh * Expr(p.dilations[0]) - Expr(p.pad_begin[0]);
  Expr iw = ow * Expr(p.strides[1]) + kw * Expr(p.dilations[1]) - Expr(p.pad_begin[1]);
  Expr in_h = ih >= zero && ih < Expr(p.in[0]), in_w = iw >= zero && iw < Expr(p.in[1]);
  bool avg = op == OpKind::kAveragePool;

  auto point = [&](const Expr& c) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", dt), cnt = kir::make_buffer("cnt", dt);
    Expr a0 = kir::load(acc, zero), xv = ctx.read(0, {n, ih, iw, c});
    Stmt tap = kir::store(acc, zero, avg ? a0 + xv : kir::max(a0, xv));
    Stmt red;
    if (avg && p.count_include_pad) {
      // Taps inside the padded input count, read or not (the ceil_mode overhang does not).
      Expr counted = ih < Expr(p.in[0] + p.pad_end[0]) && iw < Expr(p.in[1] + p.pad_end[1]);
      Expr c0 = kir::load(cnt, zero);
      red = kir::block({kir::if_then_else(in_h && in_w, tap),
                        kir::store(cnt, zero, c0 + kir::select(counted, kir::make_const(t, 1), fzero))});
      red = kir::for_loop(kw, zero, Expr(p.kernel[1]), kir::ForKind::kSerial, red);
      red = kir::for_loop(kh, zero, Expr(p.kernel[0]), kir::ForKind::kSerial, red);
    } else {
      if (avg) tap = kir::block({tap, kir::store(cnt, zero, kir::load(cnt, zero) + kir::make_const(t, 1))});
      red = kir::for_loop(kw, zero, Expr(p.kernel[1]), kir::ForKind::kSerial, kir::if_then_else(in_w, tap));
      red = kir::for_loop(kh, zero, Expr(p.kernel[0]), kir::ForKind::kSerial, kir::if_then_else(in_h, red));
    }
    Expr result = kir::load(acc, zero);
    // A window with nothing to count (possible with dilations) gives 0, as in ONNX Runtime.
    if (avg) result = result / kir::max(kir::load(cnt, zero), kir::make_const(t, 1));
    std::vector<Stmt> body = {kir::store(acc, zero, avg ? fzero : lowest_value(dt))};
    if (avg) body.push_back(kir::store(cnt, zero, fzero));
    body.push_back(red);
    body.push_back(ctx.write(0, {n, oh, ow, c}, result));
    Stmt s = kir::allocate(acc, Expr(int64_t{1}), kir::block(body));
    return avg ? kir::allocate(cnt, Expr(int64_t{1}), s) : s;
  };
  Stmt row = vector_loop("c", 0, p.c, ctx.opts.f32_lanes, ctx.opts.vectorize(), point);
  row = kir::for_loop(ow, zero, Expr(p.out[1]), kir::ForKind::kSerial, row);
  return nest.build(row, ctx.opts.parallelize() && nest.total() * p.out[1] * p.c >= 4096);
}

}  // namespace kiln::ops
