// DeformConv (2-D): a convolution whose taps are moved by learned offsets and
// scaled by an optional mask. Output [N, OC, OH, OW] from X [N, C, H, W], W [OC,
// C/group, KH, KW], offset [N, G*KH*KW*2, OH, OW] ((dy, dx) per tap of each offset
// group G), optional B [OC] and mask [N, G*KH*KW, OH, OW]: each tap reads X
// bilinearly (zero outside) at (i*sh - pad_top + kh*dh + dy, j*sw - pad_left +
// kw*dw + dx). Attributes: strides:ints dilations:ints pads:ints(t,l,b,r)
// group:i offset_group:i has_bias:i has_mask:i (which of inputs 3, 4 are present).
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

struct DeformParams {
  int64_t n, c, h, w, oc, cg, kh, kw, oh, ow, group, offset_group;
  std::vector<int64_t> strides, dilations, pads;
  bool bias, mask;
};

DeformParams params(const ir::Node& node) {
  const ir::Shape& x = node.inputs[0]->type.shape;
  const ir::Shape& w = node.inputs[1]->type.shape;
  const ir::Shape& off = node.inputs[2]->type.shape;
  DeformParams p;
  p.n = x[0], p.c = x[1], p.h = x[2], p.w = x[3];
  p.oc = w[0], p.cg = w[1], p.kh = w[2], p.kw = w[3];
  p.oh = off[2], p.ow = off[3];
  p.group = node.attrs.get_int("group", 1);
  p.offset_group = node.attrs.get_int("offset_group", 1);
  p.strides = node.attrs.get_ints("strides", {1, 1});
  p.dilations = node.attrs.get_ints("dilations", {1, 1});
  p.pads = node.attrs.get_ints("pads", {0, 0, 0, 0});
  p.bias = node.attrs.get_int("has_bias", 0) != 0;
  p.mask = node.attrs.get_int("has_mask", 0) != 0;
  return p;
}

}  // namespace

Status infer_deform_conv(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  bool bias = node.attrs.get_int("has_bias", 0) != 0, mask = node.attrs.get_int("has_mask", 0) != 0;
  int want = 3 + bias + mask;
  KILN_RETURN_IF_ERROR(check_num_inputs(node, want, want));
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  for (int i = 1; i < want; ++i)
    if (node.inputs[i]->type.dtype != node.inputs[0]->type.dtype)
      return Status::invalid("DeformConv input " + std::to_string(i) + " " + node.inputs[i]->type.str() +
                             " must have X's type");
  const ir::TensorType& x = node.inputs[0]->type;
  const ir::TensorType& w = node.inputs[1]->type;
  const ir::TensorType& off = node.inputs[2]->type;
  if (x.rank() != 4 || w.rank() != 4 || off.rank() != 4)
    return Status::invalid("DeformConv supports 2-D inputs: X, W and offset of rank 4, got " + x.str() + ", " + w.str() +
                           ", " + off.str());
  DeformParams p = params(node);
  if (p.strides.size() != 2 || p.dilations.size() != 2 || p.pads.size() != 4)
    return Status::invalid("DeformConv needs 2 strides, 2 dilations and 4 pads");
  if (p.group < 1 || p.offset_group < 1 || p.c != p.cg * p.group || p.oc % p.group != 0 || p.c % p.offset_group != 0)
    return Status::invalid("DeformConv X " + x.str() + ", W " + w.str() + ", group " + std::to_string(p.group) +
                           " and offset_group " + std::to_string(p.offset_group) + " do not agree");
  int64_t eh = (p.h + p.pads[0] + p.pads[2] - ((p.kh - 1) * p.dilations[0] + 1)) / p.strides[0] + 1;
  int64_t ew = (p.w + p.pads[1] + p.pads[3] - ((p.kw - 1) * p.dilations[1] + 1)) / p.strides[1] + 1;
  int64_t taps = p.offset_group * p.kh * p.kw;
  if (off.shape != ir::Shape{p.n, 2 * taps, eh, ew})
    return Status::invalid("DeformConv offset must be " + ir::shape_str({p.n, 2 * taps, eh, ew}) + ", got " + off.str());
  int i = 3;
  if (bias && node.inputs[i++]->type.shape != ir::Shape{p.oc})
    return Status::invalid("DeformConv B must be [" + std::to_string(p.oc) + "], got " + node.inputs[i - 1]->type.str());
  if (mask && node.inputs[i]->type.shape != ir::Shape{p.n, taps, eh, ew})
    return Status::invalid("DeformConv mask must be " + ir::shape_str({p.n, taps, eh, ew}) + ", got " +
                           node.inputs[i]->type.str());
  outputs->assign(1, ir::TensorType{x.dtype, {p.n, p.oc, eh, ew}});
  return Status::ok();
}

// for n, oc (outermost parallel), i, j (vectorized): acc = bias; for each input
// channel of oc's group and each tap: the moved position's bilinear sample
// (zero outside) times the weight and mask.
Expected<Stmt> lower_deform_conv(const LowerContext& ctx) {
  DeformParams p = params(ctx.node);
  kir::Type t = scalar_type(ctx.node.inputs[0]->type.dtype);
  auto c = [&](double v) { return kir::make_const(t, v); };
  Expr zero = Expr(int64_t{0}), one = Expr(int64_t{1});
  int64_t ocg = p.oc / p.group, cpo = p.c / p.offset_group;

  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr oc = nest.add("oc", p.oc);
  Expr i = nest.add("i", p.oh);
  auto point = [&](const Expr& j) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", ctx.node.inputs[0]->type.dtype);
    Expr ci = kir::var("ci"), ki = kir::var("ky"), kj = kir::var("kx");
    Expr ch = oc / Expr(ocg) * Expr(p.cg) + ci;  // the input channel
    Expr og = ch / Expr(cpo);
    Expr tap = og * Expr(p.kh * p.kw) + ki * Expr(p.kw) + kj;
    Expr y = kir::var("y", t), x = kir::var("x", t);
    Expr py = kir::cast(t, i * Expr(p.strides[0]) - Expr(p.pads[0]) + ki * Expr(p.dilations[0])) +
              ctx.read(2, {n, tap * Expr(2), i, j});
    Expr px = kir::cast(t, j * Expr(p.strides[1]) - Expr(p.pads[1]) + kj * Expr(p.dilations[1])) +
              ctx.read(2, {n, tap * Expr(2) + one, i, j});
    Expr fy = kir::call(kir::Intrinsic::kFloor, {y}), fx = kir::call(kir::Intrinsic::kFloor, {x});
    Expr ly = y - fy, lx = x - fx;
    Expr y0 = kir::cast(kir::i64(), fy), x0 = kir::cast(kir::i64(), fx);
    auto pix = [&](const Expr& yy, const Expr& xx) {
      Expr in = yy >= zero && yy < Expr(p.h) && xx >= zero && xx < Expr(p.w);
      return kir::select(in, ctx.read(0, {n, ch, clamp_index(yy, p.h), clamp_index(xx, p.w)}), c(0));
    };
    Expr top = (c(1) - lx) * pix(y0, x0) + lx * pix(y0, x0 + one);
    Expr bottom = (c(1) - lx) * pix(y0 + one, x0) + lx * pix(y0 + one, x0 + one);
    Expr sample = (c(1) - ly) * top + ly * bottom;
    Expr term = sample * ctx.read(1, {oc, ci, ki, kj});
    if (p.mask) term = term * ctx.read(p.bias ? 4 : 3, {n, tap, i, j});
    Stmt add = kir::let_stmt(y, py, kir::let_stmt(x, px, kir::store(acc, zero, kir::load(acc, zero) + term)));
    Stmt loops = kir::for_loop(kj, zero, Expr(p.kw), kir::ForKind::kSerial, add);
    loops = kir::for_loop(ki, zero, Expr(p.kh), kir::ForKind::kSerial, loops);
    loops = kir::for_loop(ci, zero, Expr(p.cg), kir::ForKind::kSerial, loops);
    Expr init = p.bias ? ctx.read(3, {oc}) : c(0);
    return kir::allocate(acc, one, kir::block({kir::store(acc, zero, init), loops,
                                               ctx.write(0, {n, oc, i, j}, kir::load(acc, zero))}));
  };
  Stmt row = vector_loop("j", 0, p.ow, ctx.opts.f32_lanes, ctx.opts.vectorize(), point);
  bool parallel = ctx.opts.parallelize() && nest.total() * p.ow * p.cg * p.kh * p.kw >= 16 * 1024;
  return nest.build(row, parallel);
}

}  // namespace kiln::ops
