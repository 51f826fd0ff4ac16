// Conv: 2-D convolution, NCHW activations and OIHW weights, with groups
// (depthwise included) and an optional bias. Attributes: strides:ints(2, default
// 1,1) pads:ints(4: top, left, bottom, right; default 0) dilations:ints(2,
// default 1,1) group:i (default 1), layout:s ("NHWC": X[N,H,W,C] and Y[N,OH,OW,M];
// ops/layout.h). Inputs X[N,C,H,W], W[M,C/group,kH,kW], B[M].
#include "ops/conv_params.h"
#include "ops/layout.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"
#include "ops/winograd.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Expected<ConvParams> conv_params(const ir::Node& node) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 3));
  const ir::TensorType& x = node.inputs[0]->type;
  // Packed weights (passes/pack_weights) keep their logical OIHW shape in the node.
  std::optional<PackedWeight> packed = packed_weight(node);
  const ir::TensorType w = packed ? ir::TensorType{node.inputs[1]->type.dtype, packed->logical} : node.inputs[1]->type;
  if (x.rank() != 4) return Status::invalid("Conv supports 2-D NCHW inputs only, got " + x.str());
  if (w.rank() != 4) return Status::invalid("Conv weights must be 4-D [M, C/group, kH, kW], got " + w.str());
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  if (w.dtype != x.dtype) return Status::invalid("Conv input " + x.str() + " and weights " + w.str() + " differ in dtype");
  ConvParams p;
  // layout="NHWC" (ops/layout.h): activations are N, H, W, C.
  bool nhwc = is_channels_last(node);
  p.n = x.shape[0], p.c = x.shape[nhwc ? 3 : 1], p.h = x.shape[nhwc ? 1 : 2], p.w = x.shape[nhwc ? 2 : 3];
  p.m = w.shape[0], p.cg = w.shape[1], p.kh = w.shape[2], p.kw = w.shape[3];
  p.group = node.attrs.get_int("group", 1);
  if (packed && p.group >= 1 && p.m % p.group == 0 &&
      node.inputs[1]->type.shape != (winograd_tile(*packed) > 0 ? packed_winograd_shape(*packed)
                                                                  : packed_conv_shape(*packed, p.group)))
    return Status::internal("Conv packed weights " + node.inputs[1]->type.str() + " do not match layout " +
                            packed->layout + " of " + w.str());
  std::vector<int64_t> strides = node.attrs.get_ints("strides", {1, 1});
  std::vector<int64_t> pads = node.attrs.get_ints("pads", {0, 0, 0, 0});
  std::vector<int64_t> dil = node.attrs.get_ints("dilations", {1, 1});
  if (strides.size() != 2 || strides[0] < 1 || strides[1] < 1)
    return Status::invalid("Conv strides " + ints_str(strides) + " must be two positive numbers");
  if (pads.size() != 4 || pads[0] < 0 || pads[1] < 0 || pads[2] < 0 || pads[3] < 0)
    return Status::invalid("Conv pads " + ints_str(pads) + " must be four non-negative numbers (top, left, bottom, right)");
  if (dil.size() != 2 || dil[0] < 1 || dil[1] < 1)
    return Status::invalid("Conv dilations " + ints_str(dil) + " must be two positive numbers");
  if (p.group < 1) return Status::invalid("Conv group " + std::to_string(p.group) + " must be positive");
  if (p.c != p.cg * p.group)
    return Status::invalid("Conv input " + x.str() + " has " + std::to_string(p.c) + " channels but weights " +
                           w.str() + " with group " + std::to_string(p.group) + " expect " +
                           std::to_string(p.cg * p.group));
  if (p.m % p.group != 0)
    return Status::invalid("Conv weights " + w.str() + ": " + std::to_string(p.m) +
                           " output channels are not divisible by group " + std::to_string(p.group));
  if (node.inputs.size() == 3) {
    const ir::TensorType& b = node.inputs[2]->type;
    if (b.shape != ir::Shape{p.m} || b.dtype != x.dtype)
      return Status::invalid("Conv bias " + b.str() + " must be " + dtype_name(x.dtype) + "[" + std::to_string(p.m) +
                             "] for weights " + w.str());
  }
  p.sh = strides[0], p.sw = strides[1];
  p.pt = pads[0], p.pl = pads[1], p.pb = pads[2], p.pr = pads[3];
  p.dh = dil[0], p.dw = dil[1];
  int64_t eh = p.dh * (p.kh - 1) + 1, ew = p.dw * (p.kw - 1) + 1;
  if (p.h + p.pt + p.pb < eh || p.w + p.pl + p.pr < ew)
    return Status::invalid("Conv kernel " + w.str() + " (dilated " + std::to_string(eh) + "x" + std::to_string(ew) +
                           ") is larger than the padded input " + x.str());
  p.oh = (p.h + p.pt + p.pb - eh) / p.sh + 1;
  p.ow = (p.w + p.pl + p.pr - ew) / p.sw + 1;
  return p;
}

Status infer_conv(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_ASSIGN_OR_RETURN(ConvParams p, conv_params(node));
  ir::Shape out = is_channels_last(node) ? ir::Shape{p.n, p.oh, p.ow, p.m} : ir::Shape{p.n, p.m, p.oh, p.ow};
  outputs->assign(1, ir::TensorType{node.inputs[0]->type.dtype, out});
  return Status::ok();
}

// Direct convolution: for n, oc (parallel), oh, ow: a local accumulator summed
// over the group's input channels and the kernel window. Padding is a select
// on clamped (always in-bounds) loads; at level >= 2 the ow range whose whole
// window row is inside the input runs vectorized without the column check.
Expected<Stmt> lower_conv(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(ConvParams p, conv_params(ctx.node));
  // Winograd-packed weights (level 4, passes/pack_weights) can only be read by the Winograd kernel.
  if (std::optional<PackedWeight> w = packed_weight(ctx.node); w && winograd_tile(*w) > 0)
    return lower_conv_winograd(ctx, p);
  if (is_channels_last(ctx.node)) return lower_conv_nhwc(ctx, p);
  if (conv_tiled_applies(ctx.node, p, ctx.opts)) return lower_conv_tiled(ctx, p);
  if (depthwise_tiled_applies(ctx.node, p, ctx.opts)) return lower_depthwise_tiled(ctx, p);
  std::optional<PackedWeight> packed = packed_weight(ctx.node);
  DType dt = ctx.node.inputs[0]->type.dtype;
  kir::Type t = scalar_type(dt);
  bool has_bias = ctx.node.inputs.size() == 3;
  int64_t mg = p.m / p.group;  // output channels per group

  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr oc = nest.add("oc", p.m);
  Expr oh = nest.add("oh", p.oh);
  Expr g = mg == 1 ? oc : oc / Expr(mg);

  // One output element at column `ow`; `check_w` adds the column bounds check.
  auto point = [&](const Expr& ow, bool check_w) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", dt);
    Expr ic = kir::var("ic"), kh = kir::var("kh"), kw = kir::var("kw");
    Expr ih = oh * Expr(p.sh) + kh * Expr(p.dh) - Expr(p.pt);
    Expr iw = ow * Expr(p.sw) + kw * Expr(p.dw) - Expr(p.pl);
    Expr ok = ih >= Expr(int64_t{0}) && ih < Expr(p.h);
    if (check_w) ok = ok && iw >= Expr(int64_t{0}) && iw < Expr(p.w);
    bool needs_h_check = p.pt > 0 || p.pb > 0;
    Expr cin = p.group == 1 ? ic : g * Expr(p.cg) + ic;
    Expr xv = ctx.read(0, {n, cin, needs_h_check ? clamp_index(ih, p.h) : ih, check_w ? clamp_index(iw, p.w) : iw});
    if (needs_h_check || check_w) xv = kir::select(ok, xv, kir::make_const(t, 0));
    Expr wv = packed ? ctx.read(1, packed_conv_index(oc, ic, kh, kw, mg, packed->block)) : ctx.read(1, {oc, ic, kh, kw});
    Expr a0 = kir::load(acc, Expr(int64_t{0}));
    Stmt update = kir::store(acc, Expr(int64_t{0}), a0 + xv * wv);
    Stmt red = kir::for_loop(kw, Expr(int64_t{0}), Expr(p.kw), kir::ForKind::kSerial, update);
    red = kir::for_loop(kh, Expr(int64_t{0}), Expr(p.kh), kir::ForKind::kSerial, red);
    red = kir::for_loop(ic, Expr(int64_t{0}), Expr(p.cg), kir::ForKind::kSerial, red);
    Expr init = has_bias ? ctx.read(2, {oc}) : kir::make_const(t, 0);
    Stmt body = kir::block({kir::store(acc, Expr(int64_t{0}), init), red,
                            ctx.write(0, {n, oc, oh, ow}, kir::load(acc, Expr(int64_t{0})))});
    return kir::allocate(acc, Expr(int64_t{1}), body);
  };

  Stmt row;
  if (!ctx.opts.vectorize()) {
    row = vector_loop("ow", 0, p.ow, 1, false, [&](const Expr& ow) { return point(ow, true); });
  } else {
    // Columns whose window [ow*sw - pl, ow*sw - pl + (kw-1)*dw] lies inside [0, w).
    int64_t span = (p.kw - 1) * p.dw;
    int64_t lo = (p.pl + p.sw - 1) / p.sw;
    int64_t hi = p.w - 1 - span + p.pl >= 0 ? (p.w - 1 - span + p.pl) / p.sw + 1 : 0;
    lo = std::min(lo, p.ow);
    hi = std::max(lo, std::min(hi, p.ow));
    auto checked = [&](const Expr& ow) { return point(ow, true); };
    row = kir::block({vector_loop("owl", 0, lo, 1, false, checked),
                      vector_loop("ow", lo, hi, ctx.opts.f32_lanes, true, [&](const Expr& ow) { return point(ow, false); }),
                      vector_loop("owr", hi, p.ow, 1, false, checked)});
  }
  return nest.build(row, ctx.opts.parallelize());
}

}  // namespace kiln::ops
