// RoiAlign: for each region of interest rois[r] = (x1, y1, x2, y2) in image
// batch_indices[r] of X [N, C, H, W], an [oh, ow] grid of bins, each the
// average (or max) of bilinear samples on a regular grid inside it.
// Attributes: output_height:i output_width:i sampling_ratio:i (0: adaptive,
// ceil(roi size / bins) samples per bin) spatial_scale:f mode:s ("avg",
// "max") half_pixel:i (1: coordinates shifted by -0.5; 0: the opset-10
// behavior, regions at least 1x1). Inputs X, rois [R, 4], batch_indices [R].
// Output [R, C, oh, ow]. Follows the ONNX reference (and ONNX Runtime): a
// sample more than one pixel outside the image counts as 0; max mode takes
// the largest weighted corner of each sample.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Status infer_roi_align(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 3, 3));
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  KILN_RETURN_IF_ERROR(check_float_input(node, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  const ir::TensorType& rois = node.inputs[1]->type;
  const ir::TensorType& idx = node.inputs[2]->type;
  if (x.rank() != 4) return Status::invalid("RoiAlign needs a 4-D input, got " + x.str());
  if (rois.rank() != 2 || rois.shape[1] != 4)
    return Status::invalid("RoiAlign rois must be [num_rois, 4], got " + rois.str());
  if (idx.rank() != 1 || idx.shape[0] != rois.shape[0] || (idx.dtype != DType::kI64 && idx.dtype != DType::kI32))
    return Status::invalid("RoiAlign batch_indices must be int64 [" + std::to_string(rois.shape[0]) + "], got " +
                           idx.str());
  int64_t oh = node.attrs.get_int("output_height", 1), ow = node.attrs.get_int("output_width", 1);
  if (oh < 1 || ow < 1 || node.attrs.get_int("sampling_ratio", 0) < 0)
    return Status::invalid("RoiAlign output size " + std::to_string(oh) + "x" + std::to_string(ow) +
                           " and sampling_ratio must be positive");
  outputs->assign(1, ir::TensorType{x.dtype, {rois.shape[0], x.shape[1], oh, ow}});
  return Status::ok();
}

// for each (roi, channel) (outermost parallel): the region's geometry from
// rois, then for each bin a serial loop over its samples (counts that depend
// on the region when adaptive), accumulating in a local.
Expected<Stmt> lower_roi_align(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::Shape& xs = node.inputs[0]->type.shape;
  int64_t n_img = xs[0], h = xs[2], w = xs[3];
  int64_t n_rois = node.inputs[1]->type.shape[0], channels = xs[1];
  int64_t oh = node.attrs.get_int("output_height", 1), ow = node.attrs.get_int("output_width", 1);
  int64_t ratio = node.attrs.get_int("sampling_ratio", 0);
  double scale = node.attrs.get_float("spatial_scale", 1.0);
  bool half_pixel = node.attrs.get_int("half_pixel", 1) != 0;
  auto mode_it = node.attrs.all().find("mode");
  bool max_mode = mode_it != node.attrs.all().end() && std::get<std::string>(mode_it->second) == "max";
  DType xd = node.inputs[0]->type.dtype;
  // Geometry in the rois' type; samples weighted in X's type.
  kir::Type ft = scalar_type(node.inputs[1]->type.dtype);
  kir::Type xt = scalar_type(xd);
  auto c = [&](double v) { return kir::make_const(ft, v); };
  auto cx = [&](double v) { return kir::make_const(xt, v); };
  auto to_x = [&](const Expr& e) { return ft == xt ? e : kir::cast(xt, e); };
  Expr zero = Expr(int64_t{0});

  LoopNest nest;
  Expr r = nest.add("r", n_rois);
  Expr ch = nest.add("c", channels);
  // The region's corners, each product rounded on its own as the reference
  // does: fma(x, scale, +0) is one rounded multiply that codegen cannot contract
  // into the subtractions after it. (The sample counts are ceilings of these
  // sizes: one ulp can change them.)
  auto roi = [&](int64_t k) {
    return kir::call(kir::Intrinsic::kMulRounded, {ctx.read(1, {r, Expr(k)}), c(scale)}) - c(half_pixel ? 0.5 : 0.0);
  };
  Expr x0 = kir::var("x0", ft), y0 = kir::var("y0", ft), bw = kir::var("bw", ft), bh = kir::var("bh", ft);
  Expr gw = kir::var("gw"), gh = kir::var("gh"), img = kir::var("img");
  Expr rw = roi(2) - x0, rh = roi(3) - y0;  // (bound after x0, y0)
  if (!half_pixel) rw = kir::max(rw, c(1)), rh = kir::max(rh, c(1));

  kir::Buffer acc = kir::make_buffer("acc", xd);
  Expr ph = kir::var("ph"), pw = kir::var("pw"), iy = kir::var("iy"), ix = kir::var("ix");
  Expr to_f_iy = kir::cast(ft, iy), to_f_ix = kir::cast(ft, ix);
  Expr yy = y0 + kir::cast(ft, ph) * bh + (to_f_iy + c(0.5)) * bh / kir::cast(ft, gh);
  Expr xx = x0 + kir::cast(ft, pw) * bw + (to_f_ix + c(0.5)) * bw / kir::cast(ft, gw);

  // One sample at (y, x): the four corners and their weights, as the reference.
  Expr y = kir::var("y", ft), x = kir::var("x", ft);
  Expr outside = y < c(-1) || y > c(static_cast<double>(h)) || x < c(-1) || x > c(static_cast<double>(w));
  Expr yc = kir::max(y, c(0)), xc = kir::max(x, c(0));
  Expr ylo_raw = kir::cast(kir::i64(), yc), xlo_raw = kir::cast(kir::i64(), xc);
  Expr y_edge = ylo_raw >= Expr(h - 1), x_edge = xlo_raw >= Expr(w - 1);
  Expr ylo = kir::select(y_edge, Expr(h - 1), ylo_raw), xlo = kir::select(x_edge, Expr(w - 1), xlo_raw);
  Expr yhi = kir::select(y_edge, Expr(h - 1), ylo_raw + Expr(int64_t{1}));
  Expr xhi = kir::select(x_edge, Expr(w - 1), xlo_raw + Expr(int64_t{1}));
  Expr ly = to_x(kir::select(y_edge, c(0), yc - kir::cast(ft, ylo_raw)));
  Expr lx = to_x(kir::select(x_edge, c(0), xc - kir::cast(ft, xlo_raw)));
  Expr hy = cx(1) - ly, hx = cx(1) - lx;
  auto px = [&](const Expr& yi, const Expr& xi) {
    return ctx.read(0, {img, ch, clamp_index(yi, h), clamp_index(xi, w)});
  };
  std::vector<Expr> terms = {hy * hx * px(ylo, xlo), hy * lx * px(ylo, xhi), ly * hx * px(yhi, xlo),
                             ly * lx * px(yhi, xhi)};
  Expr a = kir::load(acc, zero);
  Expr first = iy == zero && ix == zero;
  Expr sample;
  Stmt update;
  if (max_mode) {
    sample = kir::max(kir::max(terms[0], terms[1]), kir::max(terms[2], terms[3]));
    sample = kir::select(outside, cx(0), sample);
    Expr sv = kir::var("sv", xt);
    update = kir::let_stmt(sv, sample, kir::store(acc, zero, kir::select(first, sv, kir::max(a, sv))));
  } else {
    sample = kir::select(outside, cx(0), (terms[0] + terms[1]) + (terms[2] + terms[3]));
    update = kir::store(acc, zero, a + sample);
  }
  Stmt body = kir::let_stmt(y, yy, kir::let_stmt(x, xx, update));
  body = kir::for_loop(ix, zero, gw, kir::ForKind::kSerial, body);
  body = kir::for_loop(iy, zero, gh, kir::ForKind::kSerial, body);
  Expr count = to_x(kir::cast(ft, kir::max(gh * gw, Expr(int64_t{1}))));
  Expr result = max_mode ? a : a / count;
  Stmt bin = kir::block({kir::store(acc, zero, cx(0)), body, ctx.write(0, {r, ch, ph, pw}, result)});
  bin = kir::for_loop(pw, zero, Expr(ow), kir::ForKind::kSerial, bin);
  bin = kir::for_loop(ph, zero, Expr(oh), kir::ForKind::kSerial, bin);
  bin = kir::allocate(acc, Expr(int64_t{1}), bin);

  // Samples per bin: sampling_ratio, or ceil(bin size) (0 for an empty or
  // inverted region: its bins are 0, as the reference's count of max(.., 1)).
  auto grid = [&](const Expr& bin_size) -> Expr {
    if (ratio > 0) return Expr(ratio);
    return kir::max(kir::cast(kir::i64(), kir::call(kir::Intrinsic::kCeil, {bin_size})), Expr(int64_t{0}));
  };
  Expr bi = ctx.read(2, {r});
  if (bi.type() != kir::i64()) bi = kir::cast(kir::i64(), bi);
  Stmt point = kir::let_stmt(gw, grid(bw), kir::let_stmt(gh, grid(bh), bin));
  point = kir::let_stmt(bw, rw / c(static_cast<double>(ow)), kir::let_stmt(bh, rh / c(static_cast<double>(oh)), point));
  point = kir::let_stmt(x0, roi(0), kir::let_stmt(y0, roi(1), point));
  point = kir::let_stmt(img, clamp_index(bi, n_img), point);
  bool parallel = ctx.opts.parallelize() && nest.total() * oh * ow >= 256;
  return nest.build(point, parallel);
}

}  // namespace kiln::ops
