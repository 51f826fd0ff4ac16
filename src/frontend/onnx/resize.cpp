// Resize (opsets 10..) and Upsample -> per resized axis, Gathers of the taps
// along that axis weighted by constant per-position coefficients (nearest: one
// Gather; antialiased downsampling: a wider window). Coordinates, taps and
// coefficients follow the ONNX reference (onnx/reference/ops/op_resize.py),
// computed here in double from the static shapes.
#include <cmath>

#include "frontend/onnx/op_table.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

// Resized axes stay below 2^31 positions (the index tables are built here).
constexpr double kMaxResizedDim = 2147483648.0;

struct ResizeSpec {
  std::string mode = "nearest";            // nearest, linear, cubic
  std::string coord = "half_pixel";        // coordinate_transformation_mode
  std::string nearest_mode = "round_prefer_floor";
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;
  bool antialias = false;
};

// The taps of one output position along one axis: input indices (clamped) and
// coefficients; `extrapolated` for tf_crop_and_resize positions outside the input.
struct Taps {
  std::vector<int64_t> idx;
  std::vector<double> coeff;
  bool extrapolated = false;
};

// Antialiased downsampling's coefficients: the linear (triangle) or cubic kernel
// stretched by 1/scale, normalized to sum 1.
std::vector<double> antialias_coeffs(const ResizeSpec& s, double ratio, double scale) {
  double sc = std::min(scale, 1.0), a = s.cubic_a;
  bool cubic = s.mode == "cubic";
  int64_t start = static_cast<int64_t>(std::floor((cubic ? -2.0 : -1.0) / sc) + 1);
  int64_t end = cubic ? 2 - start : start + 2 - 2 * start;
  std::vector<double> c;
  double sum = 0;
  for (int64_t i = start; i < end; ++i) {
    double x = std::abs((static_cast<double>(i) - ratio) * sc), v;
    if (!cubic) {
      v = std::clamp(1 - x, 0.0, 1.0);
    } else if (x <= 1) {
      v = (a + 2) * x * x * x - (a + 3) * x * x + 1;
    } else if (x < 2) {
      v = a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
    } else {
      v = 0;
    }
    c.push_back(v);
    sum += v;
  }
  for (double& v : c) v /= sum;
  return c;
}

std::vector<double> tap_coeffs(const ResizeSpec& s, double ratio, double scale) {
  if (s.antialias && s.mode != "nearest") return antialias_coeffs(s, ratio, scale);
  if (s.mode == "nearest") {
    if (ratio == 1.0) return {0, 1};
    if (s.nearest_mode == "round_prefer_floor") return {ratio <= 0.5 ? 1.0 : 0.0, ratio > 0.5 ? 1.0 : 0.0};
    if (s.nearest_mode == "round_prefer_ceil") return {ratio < 0.5 ? 1.0 : 0.0, ratio >= 0.5 ? 1.0 : 0.0};
    if (s.nearest_mode == "floor") return {1, 0};
    return {0, 1};  // ceil
  }
  if (s.mode == "linear") return {1 - ratio, ratio};
  double a = s.cubic_a, r = ratio, q = 1 - ratio;
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a, ((a + 2) * r - (a + 3)) * r * r + 1,
          ((a + 2) * q - (a + 3)) * q * q + 1, ((a * (q + 1) - 5 * a) * (q + 1) + 8 * a) * (q + 1) - 4 * a};
}

// The source coordinate of output position y (ONNX's coordinate_transformation_mode).
double source_coord(const ResizeSpec& s, double y, double scale, int64_t in, int64_t out_int, float roi0, float roi1,
                    bool* extrapolated) {
  double out_w = scale * static_cast<double>(in);
  const std::string& c = s.coord;
  if (c == "align_corners") return out_w == 1 ? 0.0 : y * static_cast<double>(in - 1) / (out_w - 1);
  if (c == "asymmetric") return y / scale;
  if (c == "tf_crop_and_resize") {
    double span = static_cast<double>(roi1 - roi0);  // float arithmetic, as the reference
    double x = out_w == 1 ? span * static_cast<double>(in - 1) / 2 : y * span * static_cast<double>(in - 1) / (out_w - 1);
    x += static_cast<double>(roi0 * static_cast<float>(in - 1));
    *extrapolated = x < 0 || x > static_cast<double>(in - 1);
    return x;
  }
  if (c == "pytorch_half_pixel") return out_w == 1 ? -0.5 : (y + 0.5) / scale - 0.5;
  if (c == "half_pixel_symmetric") {
    double offset = static_cast<double>(in) / 2 * (1 - static_cast<double>(out_int) / out_w);
    return offset + (y + 0.5) / scale - 0.5;
  }
  return (y + 0.5) / scale - 0.5;  // half_pixel
}

Taps taps_at(const ResizeSpec& s, int64_t y, double scale, int64_t in, int64_t out_int, float roi0, float roi1) {
  Taps t;
  double x = source_coord(s, static_cast<double>(y), scale, in, out_int, roi0, roi1, &t.extrapolated);
  double xf = std::floor(x);
  double ratio = x == xf ? 1.0 : x - xf;
  t.coeff = tap_coeffs(s, ratio, scale);
  int64_t n = static_cast<int64_t>(t.coeff.size());
  int64_t pad = (n + 1) / 2;
  double xp = x + static_cast<double>(pad);
  double pf = std::floor(xp);
  double frac = xp - pf;
  int64_t offset = n % 2 == 0 ? (frac == 0 ? -(n / 2) : -(n / 2) + 1) : (frac <= 0.5 ? -((n - 1) / 2) : -((n - 1) / 2) + 1);
  int64_t start = static_cast<int64_t>(pf) + offset - pad;
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    int64_t i = start + j;
    if (s.exclude_outside && (i < 0 || i >= in)) t.coeff[j] = 0;
    sum += t.coeff[j];
    t.idx.push_back(std::clamp<int64_t>(i, 0, in - 1));
  }
  if (s.exclude_outside && sum != 0)
    for (double& c : t.coeff) c /= sum;
  return t;
}

// Resizes `y` along `axis` from `in` to `out` positions.
Expected<Value*> resize_axis(NodeContext& ctx, const ResizeSpec& s, Value* y, int64_t axis, double scale, int64_t out,
                             float roi0, float roi1) {
  int64_t in = y->type.shape[axis];
  std::vector<Taps> taps;
  bool any_extrapolated = false;
  for (int64_t o = 0; o < out; ++o) {
    taps.push_back(taps_at(s, o, scale, in, out, roi0, roi1));
    any_extrapolated |= taps.back().extrapolated;
  }
  std::string ax = "axis" + std::to_string(axis);
  ir::Attrs gather;
  gather.set("axis", axis);
  DType dt = y->type.dtype;
  if (s.mode == "nearest" && !any_extrapolated) {  // one tap, coefficient 1
    std::vector<int64_t> idx;
    for (const Taps& t : taps) idx.push_back(t.coeff[0] != 0 ? t.idx[0] : t.idx[1]);
    Value* iv = ctx.constant(ir::Tensor::from_i64({out}, idx), ax + "_index");
    return ctx.add(OpKind::kGather, {y, iv}, gather, ax);
  }
  if (dt != DType::kF32 && dt != DType::kF64)
    return ctx.unsupported(s.mode + " Resize of " + std::string(dtype_name(dt)));
  ir::Shape wshape(static_cast<size_t>(y->type.rank() - axis), 1);
  wshape[0] = out;
  Value* acc = nullptr;
  for (size_t j = 0; j < taps[0].idx.size(); ++j) {
    std::vector<int64_t> idx;
    std::vector<double> w;
    bool any = false;
    for (const Taps& t : taps) {
      idx.push_back(t.idx[j]);
      w.push_back(t.extrapolated ? 0.0 : t.coeff[j]);
      any |= w.back() != 0;
    }
    if (!any) continue;
    std::string tap = ax + "_tap" + std::to_string(j);
    Value* iv = ctx.constant(ir::Tensor::from_i64({out}, idx), tap + "_index");
    KILN_ASSIGN_OR_RETURN(Value * g, ctx.add(OpKind::kGather, {y, iv}, gather, tap));
    Value* wv = ctx.constant(ir::Tensor::from_f64(dt, wshape, w), tap + "_coeff");
    KILN_ASSIGN_OR_RETURN(Value * term, ctx.add(OpKind::kMul, {g, wv}, {}, tap + "_weighted"));
    if (acc) {
      KILN_ASSIGN_OR_RETURN(acc, ctx.add(OpKind::kAdd, {acc, term}, {}, tap + "_sum"));
    } else {
      acc = term;
    }
  }
  if (!acc) {  // every position extrapolated: zeros, plus the value below
    std::vector<int64_t> idx(out, 0);
    Value* iv = ctx.constant(ir::Tensor::from_i64({out}, idx), ax + "_index");
    KILN_ASSIGN_OR_RETURN(Value * g, ctx.add(OpKind::kGather, {y, iv}, gather, ax));
    KILN_ASSIGN_OR_RETURN(acc, ctx.add(OpKind::kMul, {g, ctx.scalar(dt, 0.0, ax + "_zero")}, {}, ax + "_zeros"));
  }
  if (any_extrapolated) {
    std::vector<double> fill;
    for (const Taps& t : taps) fill.push_back(t.extrapolated ? s.extrapolation : 0.0);
    Value* fv = ctx.constant(ir::Tensor::from_f64(dt, wshape, fill), ax + "_extrapolation");
    KILN_ASSIGN_OR_RETURN(acc, ctx.add(OpKind::kAdd, {acc, fv}, {}, ax + "_extrapolated"));
  }
  return acc;
}

// Constant input i as doubles; `present` is false when absent or empty.
Expected<std::vector<double>> const_floats(NodeContext& ctx, int i, const std::string& what, bool* present) {
  *present = false;
  if (!ctx.has_input(i)) return std::vector<double>{};
  const ir::Tensor* t = ctx.constant_input(i);
  if (!t) return ctx.unsupported("a non-constant " + what + " input");
  std::vector<double> v;
  for (int64_t k = 0; k < t->type().num_elements(); ++k) v.push_back(t->get_f64(k));
  *present = !v.empty();
  return v;
}

}  // namespace

Status map_resize(NodeContext& ctx) {
  Value* x = ctx.input(0);
  int64_t rank = x->type.rank();
  bool upsample = ctx.op_type() == "Upsample";
  bool legacy = upsample || ctx.opset() < 11;  // Resize-10 and Upsample: asymmetric, floor
  ResizeSpec s;
  s.mode = ctx.attr_string("mode", "nearest");
  if (s.mode == "bilinear") s.mode = "linear";
  if (s.mode != "nearest" && s.mode != "linear" && s.mode != "cubic") return ctx.error("unknown mode '" + s.mode + "'");
  s.coord = legacy ? "asymmetric" : ctx.attr_string("coordinate_transformation_mode", "half_pixel");
  s.nearest_mode = legacy ? "floor" : ctx.attr_string("nearest_mode", "round_prefer_floor");
  s.cubic_a = ctx.attr_float("cubic_coeff_a", -0.75);
  s.exclude_outside = ctx.attr_int("exclude_outside", 0) != 0;
  s.extrapolation = ctx.attr_float("extrapolation_value", 0.0);
  static const char* const kCoords[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                                        "asymmetric", "tf_crop_and_resize"};
  if (std::find(std::begin(kCoords), std::end(kCoords), s.coord) == std::end(kCoords))
    return ctx.error("unknown coordinate_transformation_mode '" + s.coord + "'");
  static const char* const kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  if (std::find(std::begin(kNearest), std::end(kNearest), s.nearest_mode) == std::end(kNearest))
    return ctx.error("unknown nearest_mode '" + s.nearest_mode + "'");
  s.antialias = ctx.attr_int("antialias", 0) != 0;
  if (s.antialias && s.mode == "nearest") return ctx.error("antialias needs mode linear or cubic");

  std::vector<int64_t> axes;
  if (ctx.has_attr("axes")) {
    for (int64_t a : ctx.attr_ints("axes")) {
      auto n = normalize_axis(a, rank);
      if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + x->type.str());
      axes.push_back(*n);
    }
  } else {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  }
  size_t na = axes.size();

  // scales or sizes (per listed axis), and roi (starts, then ends).
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  bool has_scales = false, has_sizes = false, has_roi = false;
  if (upsample && ctx.opset() < 9) {
    for (double v : ctx.attr_floats("scales")) scales.push_back(static_cast<double>(static_cast<float>(v)));
    has_scales = !scales.empty();
  } else if (legacy) {
    KILN_ASSIGN_OR_RETURN(scales, const_floats(ctx, 1, "scales", &has_scales));
  } else {
    KILN_ASSIGN_OR_RETURN(roi, const_floats(ctx, 1, "roi", &has_roi));
    KILN_ASSIGN_OR_RETURN(scales, const_floats(ctx, 2, "scales", &has_scales));
    bool present = false;
    KILN_ASSIGN_OR_RETURN(auto sz, const_floats(ctx, 3, "sizes", &present));
    for (double v : sz) sizes.push_back(static_cast<int64_t>(v));
    has_sizes = present;
  }
  if (has_scales == has_sizes) return ctx.error("needs exactly one of scales and sizes");
  if ((has_scales && scales.size() != na) || (has_sizes && sizes.size() != na))
    return ctx.error("scales/sizes need " + std::to_string(na) + " values for input " + x->type.str());
  if (s.coord == "tf_crop_and_resize" && (!has_roi || roi.size() != 2 * na))
    return ctx.error("tf_crop_and_resize needs a constant roi of " + std::to_string(2 * na) + " values");
  for (double v : roi)
    if (!std::isfinite(v)) return ctx.error("roi values must be finite");
  if (!std::isfinite(s.cubic_a) || !std::isfinite(s.extrapolation))
    return ctx.error("cubic_coeff_a and extrapolation_value must be finite");

  std::vector<double> scale(rank, 1.0);
  ir::Shape out = x->type.shape;
  if (has_scales) {
    for (size_t i = 0; i < na; ++i) {
      double o = scales[i] * static_cast<double>(x->type.shape[axes[i]]);
      if (!(scales[i] > 0) || !(o < kMaxResizedDim))
        return ctx.error("scale " + std::to_string(scales[i]) + " must be positive and keep the axis under 2^31");
      scale[axes[i]] = scales[i];
      out[axes[i]] = static_cast<int64_t>(o);
    }
  } else {
    for (size_t i = 0; i < na; ++i) {
      if (sizes[i] < 1 || sizes[i] >= kMaxResizedDim) return ctx.error("sizes must be in [1, 2^31)");
      out[axes[i]] = sizes[i];
      scale[axes[i]] = static_cast<double>(sizes[i]) / static_cast<double>(x->type.shape[axes[i]]);
    }
    std::string policy = ctx.attr_string("keep_aspect_ratio_policy", "stretch");
    if (policy == "not_larger" || policy == "not_smaller") {
      double k = scale[axes[0]];
      for (int64_t a : axes) k = policy == "not_larger" ? std::min(k, scale[a]) : std::max(k, scale[a]);
      for (int64_t a : axes) {
        scale[a] = k;
        double o = k * static_cast<double>(x->type.shape[a]) + 0.5;
        if (!(o < kMaxResizedDim)) return ctx.error("sizes must keep every axis under 2^31");
        out[a] = static_cast<int64_t>(o);
      }
    } else if (policy != "stretch") {
      return ctx.error("unknown keep_aspect_ratio_policy '" + policy + "'");
    }
  }
  for (int64_t d : out)
    if (d < 1) return ctx.error("the output " + ir::shape_str(out) + " of input " + x->type.str() + " is empty");

  Value* y = x;
  for (size_t i = 0; i < na; ++i) {
    int64_t a = axes[i];
    float r0 = has_roi ? static_cast<float>(roi[i]) : 0.f, r1 = has_roi ? static_cast<float>(roi[na + i]) : 1.f;
    bool identity = out[a] == x->type.shape[a] && std::abs(scale[a] - 1.0) < 1e-9 &&
                    (s.coord != "tf_crop_and_resize" || (r0 == 0.f && r1 == 1.f));
    if (identity) continue;
    KILN_ASSIGN_OR_RETURN(y, resize_axis(ctx, s, y, a, scale[a], out[a], r0, r1));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
