// ConvInteger: 2-D convolution of uint8/int8 activations and weights with exact
// int32 accumulation:
//   y[n, oc, oh, ow] = sum over the group's channels and the window of
//                      (x - x_zero_point) * (w[oc] - w_zero_point[oc]).
// Padding contributes 0 (ONNX pads x with x_zero_point). Attributes as Conv:
// strides:ints(2) pads:ints(4: t, l, b, r) dilations:ints(2) group:i. Inputs
// X[N,C,H,W] and W[M,C/group,kH,kW] (uint8 or int8 each), x_zero_point (X's
// type, one element), w_zero_point (W's type, one element or [M]).
// Packed (passes/pack_weights, level 3: ops/int8_conv.h), W is in the tiled
// kernel's layout ("packed_shape" holds the logical one) and a fifth input
// holds the dot4 form's per-channel corrections.
// Levels 1/2 are a plain loop nest; a quantized layer's bias Add and
// Requantize are elementwise consumers that fuse as its epilogue through
// ctx.write, at every level.
#include "ops/conv_params.h"
#include "ops/int8_conv.h"
#include "ops/op_families.h"
#include "ops/quant_types.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

std::string label(const ir::Node& node) { return ir::op_name(node.op); }

// One element (x_zero_point), or one per output channel (w_zero_point).
Status check_zero_point(const ir::Node& node, int i, DType want, int64_t per_channel) {
  const ir::TensorType& z = node.inputs[i]->type;
  std::string which = i == 2 ? "x_zero_point " : "w_zero_point ";
  if (z.dtype != want)
    return Status::invalid(label(node) + " " + which + z.str() + " must have its input's type " + dtype_name(want));
  bool one = z.num_elements() == 1 && z.rank() <= 1;
  bool per_oc = per_channel > 0 && z.shape == ir::Shape{per_channel};
  if (!one && !per_oc)
    return Status::invalid(label(node) + " " + which + z.str() + " must be a scalar" +
                           (per_channel > 0
                                ? " or have one value per output channel (" + std::to_string(per_channel) + ")"
                                : std::string()));
  return Status::ok();
}

}  // namespace

Expected<ConvParams> conv_integer_params(const ir::Node& node) {
  std::optional<PackedWeight> packed = packed_weight(node);
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 4, packed ? 5 : 4));
  const ir::TensorType& x = node.inputs[0]->type;
  ir::TensorType w = node.inputs[1]->type;
  if (packed) w = ir::TensorType{node.inputs[3]->type.dtype, packed->logical};
  if (x.rank() != 4) return Status::invalid(label(node) + " supports 2-D NCHW inputs only, got " + x.str());
  if (w.rank() != 4) return Status::invalid(label(node) + " weights must be 4-D [M, C/group, kH, kW], got " + w.str());
  if (!is_quantized_type(x.dtype) || !is_quantized_type(w.dtype))
    return Status::invalid(label(node) + " needs uint8 or int8 input and weights, got " + x.str() + " and " + w.str());
  ConvParams p;
  p.n = x.shape[0], p.c = x.shape[1], p.h = x.shape[2], p.w = x.shape[3];
  p.m = w.shape[0], p.cg = w.shape[1], p.kh = w.shape[2], p.kw = w.shape[3];
  KILN_RETURN_IF_ERROR(check_zero_point(node, 2, x.dtype, 0));
  KILN_RETURN_IF_ERROR(check_zero_point(node, 3, w.dtype, p.m));
  p.group = node.attrs.get_int("group", 1);
  std::vector<int64_t> strides = node.attrs.get_ints("strides", {1, 1});
  std::vector<int64_t> pads = node.attrs.get_ints("pads", {0, 0, 0, 0});
  std::vector<int64_t> dil = node.attrs.get_ints("dilations", {1, 1});
  if (strides.size() != 2 || strides[0] < 1 || strides[1] < 1)
    return Status::invalid(label(node) + " strides " + ints_str(strides) + " must be two positive numbers");
  if (pads.size() != 4 || pads[0] < 0 || pads[1] < 0 || pads[2] < 0 || pads[3] < 0)
    return Status::invalid(label(node) + " pads " + ints_str(pads) + " must be four non-negative numbers");
  if (dil.size() != 2 || dil[0] < 1 || dil[1] < 1)
    return Status::invalid(label(node) + " dilations " + ints_str(dil) + " must be two positive numbers");
  if (p.group < 1 || p.c != p.cg * p.group || p.m % p.group != 0)
    return Status::invalid(label(node) + " input " + x.str() + ", weights " + w.str() + " and group " +
                           std::to_string(p.group) + " do not agree");
  p.sh = strides[0], p.sw = strides[1];
  p.pt = pads[0], p.pl = pads[1], p.pb = pads[2], p.pr = pads[3];
  p.dh = dil[0], p.dw = dil[1];
  int64_t eh = p.dh * (p.kh - 1) + 1, ew = p.dw * (p.kw - 1) + 1;
  if (p.h + p.pt + p.pb < eh || p.w + p.pl + p.pr < ew)
    return Status::invalid(label(node) + " kernel " + w.str() + " is larger than the padded input " + x.str());
  p.oh = (p.h + p.pt + p.pb - eh) / p.sh + 1;
  p.ow = (p.w + p.pl + p.pr - ew) / p.sw + 1;
  return p;
}

// True when `v` is a constant whose elements are all zero (its subtraction can go).
bool is_zero_constant(const ir::Value* v) {
  if (!v->is_constant()) return false;
  for (int64_t i = 0; i < v->type.num_elements(); ++i)
    if (v->constant->get_i64(i) != 0) return false;
  return true;
}

// The int32 value of zero-point input `i` at `idx` (one element: any index), or
// null when it is a constant zero.
Expr zero_point_i32(const LowerContext& ctx, int i, const Expr& idx) {
  const ir::Value* z = ctx.node.inputs[i];
  if (is_zero_constant(z)) return Expr();
  std::vector<Expr> at;
  if (z->type.rank() == 1) at.push_back(z->type.num_elements() == 1 ? Expr(int64_t{0}) : idx);
  return kir::cast(kir::i32(), ctx.read(i, at));
}

Status infer_conv_integer(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_ASSIGN_OR_RETURN(ConvParams p, conv_integer_params(node));
  outputs->assign(1, ir::TensorType{DType::kI32, {p.n, p.m, p.oh, p.ow}});
  return Status::ok();
}

// for n, oc (parallel), oh, ow: acc = sum of widened products, written once.
// At level >= 2 the columns whose window row lies inside the input run
// vectorized without the column check (as the float Conv's level-2 path).
Expected<Stmt> lower_conv_integer(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(ConvParams p, conv_integer_params(ctx.node));
  if (packed_weight(ctx.node)) return lower_conv_integer_tiled(ctx, p);
  int64_t mg = p.m / p.group;
  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr oc = nest.add("oc", p.m);
  Expr oh = nest.add("oh", p.oh);
  Expr g = mg == 1 ? oc : oc / Expr(mg);
  Expr xz = zero_point_i32(ctx, 2, Expr(int64_t{0}));
  Expr wz = zero_point_i32(ctx, 3, oc);
  Expr zero = Expr(int64_t{0});
  Expr zero32 = kir::make_const(kir::i32(), 0);

  auto point = [&](const Expr& ow, bool check_w) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", DType::kI32);
    Expr ic = kir::var("ic"), kh = kir::var("kh"), kw = kir::var("kw");
    Expr ih = oh * Expr(p.sh) + kh * Expr(p.dh) - Expr(p.pt);
    Expr iw = ow * Expr(p.sw) + kw * Expr(p.dw) - Expr(p.pl);
    bool check_h = p.pt > 0 || p.pb > 0;
    Expr ok = ih >= zero && ih < Expr(p.h);
    if (check_w) ok = ok && iw >= zero && iw < Expr(p.w);
    Expr cin = p.group == 1 ? ic : g * Expr(p.cg) + ic;
    Expr xv = kir::cast(
        kir::i32(), ctx.read(0, {n, cin, check_h ? clamp_index(ih, p.h) : ih, check_w ? clamp_index(iw, p.w) : iw}));
    if (xz) xv = xv - xz;
    if (check_h || check_w) xv = kir::select(ok, xv, zero32);
    Expr wv = kir::cast(kir::i32(), ctx.read(1, {oc, ic, kh, kw}));
    if (wz) wv = wv - wz;
    Stmt update = kir::store(acc, zero, kir::load(acc, zero) + xv * wv);
    Stmt red = kir::for_loop(kw, zero, Expr(p.kw), kir::ForKind::kSerial, update);
    red = kir::for_loop(kh, zero, Expr(p.kh), kir::ForKind::kSerial, red);
    red = kir::for_loop(ic, zero, Expr(p.cg), kir::ForKind::kSerial, red);
    Stmt body = kir::block({kir::store(acc, zero, zero32), red, ctx.write(0, {n, oc, oh, ow}, kir::load(acc, zero))});
    return kir::allocate(acc, Expr(int64_t{1}), body);
  };

  Stmt row;
  auto checked = [&](const Expr& ow) { return point(ow, true); };
  if (!ctx.opts.vectorize()) {
    row = vector_loop("ow", 0, p.ow, 1, false, checked);
  } else {
    int64_t span = (p.kw - 1) * p.dw;
    int64_t lo = (p.pl + p.sw - 1) / p.sw;
    int64_t hi = p.w - 1 - span + p.pl >= 0 ? (p.w - 1 - span + p.pl) / p.sw + 1 : 0;
    lo = std::min(lo, p.ow);
    hi = std::max(lo, std::min(hi, p.ow));
    row = kir::block(
        {vector_loop("owl", 0, lo, 1, false, checked),
         vector_loop("ow", lo, hi, ctx.opts.f32_lanes, true, [&](const Expr& ow) { return point(ow, false); }),
         vector_loop("owr", hi, p.ow, 1, false, checked)});
  }
  return nest.build(row, ctx.opts.parallelize());
}

}  // namespace kiln::ops
