// ONNX sampling ops: GridSample (the core op of ops/grid_sample.cpp; opset 16's
// bilinear/bicubic names and opset 20's linear/cubic both accepted), AffineGrid
// (a constant base grid of normalized coordinates times theta^T, one MatMul)
// and RoiAlign (ops/roi_align.cpp; opset 10 models keep their coordinates).
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

Status map_grid_sample(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* grid = ctx.input(1);
  std::string mode = ctx.attr_string("mode", ctx.opset() >= 20 ? "linear" : "bilinear");
  if (mode == "bilinear") mode = "linear";
  if (mode == "bicubic") mode = "cubic";
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return ctx.error("mode '" + mode + "' is not nearest, linear (bilinear) or cubic (bicubic)");
  std::string pad = ctx.attr_string("padding_mode", "zeros");
  if (pad != "zeros" && pad != "border" && pad != "reflection")
    return ctx.error("padding_mode '" + pad + "' is not zeros, border or reflection");
  for (Value* v : {x, grid})
    if (v->type.dtype != DType::kF32 && v->type.dtype != DType::kF64)
      return ctx.unsupported("GridSample of " + v->type.str());
  ir::Attrs attrs;
  attrs.set("mode", mode).set("padding_mode", pad).set("align_corners", ctx.attr_int("align_corners", 0));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kGridSample, {x, grid}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_affine_grid(NodeContext& ctx) {
  Value* theta = ctx.input(0);
  const ir::Tensor* size_in = ctx.constant_input(1);
  if (!size_in) return ctx.unsupported("a non-constant size input");
  std::vector<int64_t> size = size_in->to_i64_vector();
  int64_t k = static_cast<int64_t>(size.size()) - 2;
  if (k != 2 && k != 3) return ctx.error("size must be [N, C, H, W] or [N, C, D, H, W], got " + std::to_string(size.size()) + " values");
  int64_t n = size[0];
  if (theta->type.shape != ir::Shape{n, k, k + 1})
    return ctx.error("theta must be [" + std::to_string(n) + ", " + std::to_string(k) + ", " + std::to_string(k + 1) +
                     "] for size of " + std::to_string(k) + " spatial dims, got " + theta->type.str());
  if (theta->type.dtype != DType::kF32 && theta->type.dtype != DType::kF64)
    return ctx.unsupported("AffineGrid of " + theta->type.str());
  for (int64_t i = 2; i < k + 2; ++i)
    if (size[i] < 1) return ctx.error("size has a spatial dimension < 1");
  bool align = ctx.attr_int("align_corners", 0) != 0;
  // The normalized coordinate of index i of a dimension of length len.
  auto coord = [&](int64_t i, int64_t len) {
    if (len == 1) return 0.0;
    return align ? -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(len - 1)
                 : (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(len) - 1.0;
  };
  // base[p] = (x, y[, z], 1) for every output position p, row-major over the spatial dims.
  ir::Shape spatial(size.begin() + 2, size.end());
  int64_t points = 1;
  for (int64_t d : spatial) points *= d;
  ir::Tensor base(ir::TensorType{theta->type.dtype, {points, k + 1}});
  for (int64_t p = 0; p < points; ++p) {
    int64_t rest = p;
    std::vector<double> row(k + 1, 1.0);
    for (int64_t s = k; s-- > 0;) {
      int64_t i = rest % spatial[s];
      rest /= spatial[s];
      row[k - 1 - s] = coord(i, spatial[s]);  // x first: the last dimension
    }
    for (int64_t j = 0; j <= k; ++j) {
      if (theta->type.dtype == DType::kF32)
        base.mutable_data<float>()[p * (k + 1) + j] = static_cast<float>(row[j]);
      else
        base.mutable_data<double>()[p * (k + 1) + j] = row[j];
    }
  }
  Value* b = ctx.constant(base, "base_grid");
  KILN_ASSIGN_OR_RETURN(Value * tt, ctx.add(OpKind::kTranspose, {theta}, ir::Attrs().set("perm", std::vector<int64_t>{0, 2, 1}),
                                            "theta_t"));
  KILN_ASSIGN_OR_RETURN(Value * g, ctx.add(OpKind::kMatMul, {b, tt}, {}, "grid_rows"));
  ir::Shape out = {n};
  out.insert(out.end(), spatial.begin(), spatial.end());
  out.push_back(k);
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.reshape(g, out));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_roi_align(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* rois = ctx.input(1);
  for (Value* v : {x, rois})
    if (v->type.dtype != DType::kF32 && v->type.dtype != DType::kF64)
      return ctx.unsupported("RoiAlign of " + v->type.str());
  std::string mode = ctx.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max") return ctx.error("mode '" + mode + "' is not avg or max");
  // Opset 16 added coordinate_transformation_mode (default half_pixel); before it,
  // coordinates were not shifted ("output_half_pixel").
  std::string ctm = ctx.attr_string("coordinate_transformation_mode", ctx.opset() >= 16 ? "half_pixel" : "output_half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    return ctx.error("coordinate_transformation_mode '" + ctm + "' is not half_pixel or output_half_pixel");
  ir::Attrs attrs;
  attrs.set("output_height", ctx.attr_int("output_height", 1)).set("output_width", ctx.attr_int("output_width", 1));
  attrs.set("sampling_ratio", ctx.attr_int("sampling_ratio", 0)).set("spatial_scale", ctx.attr_float("spatial_scale", 1.0));
  attrs.set("mode", mode).set("half_pixel", int64_t{ctm == "half_pixel"});
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kRoiAlign, {x, rois, ctx.input(2)}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_det(NodeContext& ctx) {
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kDet, {ctx.input(0)}));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
