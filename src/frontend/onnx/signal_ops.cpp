// ONNX signal ops. DFT and STFT are a MatMul with a constant DFT matrix
// (complex numbers as a trailing dimension of 2: rows are (n, re/im) input
// pairs, columns (k, re/im) output pairs), the transform axis moved next to
// that trailing dimension; STFT gathers the frames first and applies the
// window. HannWindow, HammingWindow, BlackmanWindow and MelWeightMatrix are
// computed at import from their constant inputs.
#include <cmath>

#include "frontend/onnx/op_table.h"
#include "frontend/onnx/tensor.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

namespace {

constexpr double kPi = 3.14159265358979323846;
// The largest DFT matrix kiln builds (elements): 64 MiB of float32.
constexpr int64_t kMaxDftMatrix = int64_t{16} << 20;

// The integer held by constant scalar input i.
Expected<int64_t> const_scalar(NodeContext& ctx, int i, const std::string& what) {
  const ir::Tensor* t = ctx.constant_input(i);
  if (!t) return ctx.unsupported("a non-constant " + what + " input");
  if (t->type().num_elements() != 1) return ctx.error(what + " must hold one value, got " + t->type().str());
  if (dtype_is_float(t->type().dtype)) return ctx.error(what + " must be an integer, got " + t->type().str());
  return t->get_i64(0);
}

// A constant of `dtype` (float32 or float64) holding double values.
Value* float_constant(NodeContext& ctx, DType dtype, const ir::Shape& shape, const std::vector<double>& v,
                      const std::string& suffix) {
  ir::Tensor t(ir::TensorType{dtype, shape});
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::kF32)
      t.mutable_data<float>()[i] = static_cast<float>(v[i]);
    else
      t.mutable_data<double>()[i] = v[i];
  }
  return ctx.constant(std::move(t), suffix);
}

// A constant tensor of any dtype from double values: float32/float64 directly,
// the others as a float64 constant cast by a (folded) Cast node.
Expected<Value*> typed_constant(NodeContext& ctx, DType dtype, const ir::Shape& shape, const std::vector<double>& v,
                                const std::string& suffix) {
  if (dtype == DType::kF32 || dtype == DType::kF64) return float_constant(ctx, dtype, shape, v, suffix);
  Value* d = float_constant(ctx, DType::kF64, shape, v, suffix + "_f64");
  return ctx.add(OpKind::kCast, {d}, ir::Attrs().set("to", static_cast<int64_t>(dtype)), suffix);
}

// The DFT of x along `axis` (not the last, complex dimension) with transform
// length `len`: forward (k < out_len), inverse (divided by len) or, when
// inverse && onesided, the real inverse of a one-sided spectrum (a real output:
// trailing dimension 1). Shorter inputs are zero-padded, longer ones truncated.
Expected<Value*> dft(NodeContext& ctx, Value* x, int64_t axis, int64_t len, bool inverse, bool onesided,
                     const std::string& what) {
  const ir::Shape& s = x->type.shape;
  int64_t rank = x->type.rank();
  int64_t c = s.back();
  bool irfft = inverse && onesided;
  int64_t out_len = irfft ? len : onesided ? len / 2 + 1 : len;
  int64_t c_out = irfft ? 1 : 2;
  int64_t n_in = std::min(s[axis], irfft ? len / 2 + 1 : len);
  if (n_in * c * out_len * c_out > kMaxDftMatrix)
    return ctx.unsupported("a DFT of length " + std::to_string(len) + " (its matrix would exceed " +
                           std::to_string(kMaxDftMatrix) + " elements)");
  // M[(n, ci), (k, co)].
  std::vector<double> m(n_in * c * out_len * c_out, 0.0);
  auto at = [&](int64_t n, int64_t ci, int64_t k, int64_t co) -> double& {
    return m[((n * c + ci) * out_len + k) * c_out + co];
  };
  for (int64_t n = 0; n < n_in; ++n)
    for (int64_t k = 0; k < out_len; ++k) {
      int64_t r = (n * k) % len;
      double theta = 2 * kPi * static_cast<double>(r) / static_cast<double>(len);
      double cs = std::cos(theta), sn = (2 * r) % len == 0 ? 0.0 : std::sin(theta);
      if (irfft) {  // n: frequency, k: time
        double w = (n == 0 || 2 * n == len ? 1.0 : 2.0) / static_cast<double>(len);
        at(n, 0, k, 0) = w * cs;
        if (c == 2) at(n, 1, k, 0) = -w * sn;
      } else if (inverse) {
        double w = 1.0 / static_cast<double>(len);
        at(n, 0, k, 0) = w * cs;
        at(n, 0, k, 1) = w * sn;
        if (c == 2) at(n, 1, k, 0) = -w * sn, at(n, 1, k, 1) = w * cs;
      } else {
        at(n, 0, k, 0) = cs;
        at(n, 0, k, 1) = -sn;
        if (c == 2) at(n, 1, k, 0) = sn, at(n, 1, k, 1) = cs;
      }
    }
  // [batch..., n, c] with the transform axis next to the complex one.
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < rank - 1; ++d)
    if (d != axis) perm.push_back(d);
  perm.push_back(axis);
  perm.push_back(rank - 1);
  Value* y = x;
  bool moved = axis != rank - 2;
  if (moved) {
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kTranspose, {y}, ir::Attrs().set("perm", perm), what + "_axis_last"));
  }
  ir::Shape ys = y->type.shape;
  if (ys[rank - 2] > n_in) {
    std::vector<int64_t> starts(rank, 0), steps(rank, 1);
    ir::Shape cut = ys;
    cut[rank - 2] = n_in;
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kSlice, {y}, ir::Attrs().set("starts", starts).set("steps", steps).set("shape", cut),
                                     what + "_truncated"));
  }
  int64_t rows = 1;
  for (int64_t d = 0; d < rank - 2; ++d) rows *= ys[d];
  KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, {rows, n_in * c}, what + "_rows"));
  Value* mat = float_constant(ctx, x->type.dtype, {n_in * c, out_len * c_out}, m, what + "_matrix");
  KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kMatMul, {y, mat}, {}, what + "_matmul"));
  ir::Shape out(ys.begin(), ys.end() - 2);
  out.push_back(out_len);
  out.push_back(c_out);
  KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, out, what + "_out"));
  if (moved) {
    std::vector<int64_t> inv(rank);
    for (int64_t d = 0; d < rank; ++d) inv[perm[d]] = d;
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kTranspose, {y}, ir::Attrs().set("perm", inv), what + "_axis_back"));
  }
  return y;
}

Status check_signal(NodeContext& ctx, Value* x, int64_t min_rank) {
  if (x->type.dtype != DType::kF32 && x->type.dtype != DType::kF64)
    return ctx.unsupported("a " + std::string(dtype_name(x->type.dtype)) + " signal");
  if (x->type.rank() < min_rank || (x->type.shape.back() != 1 && x->type.shape.back() != 2))
    return ctx.error("the signal must have rank >= " + std::to_string(min_rank) +
                     " and a last dimension of 1 (real) or 2 (complex), got " + x->type.str());
  return Status::ok();
}

// MelWeightMatrix with edge frequencies known only at run time: the same
// computation as the constant case, as graph nodes (edge mel values in the
// edges' type, the rest in float64), the triangles by broadcasting comparisons.
Status mel_weights_at_run_time(NodeContext& ctx, int64_t bins, int64_t dft_length, int64_t rate, DType out) {
  Value* lo = ctx.input(3);
  Value* hi = ctx.input(4);
  DType et = lo->type.dtype;
  if ((et != DType::kF32 && et != DType::kF64) || hi->type.dtype != et || lo->type.num_elements() != 1 ||
      hi->type.num_elements() != 1)
    return ctx.error("lower_edge_hertz and upper_edge_hertz must be float scalars of one type, got " + lo->type.str() +
                     " and " + hi->type.str());
  auto op = [&](OpKind k, std::vector<Value*> in, const std::string& what) { return ctx.add(k, std::move(in), {}, what); };
  auto k = [&](DType t, double v, const std::string& what) { return ctx.scalar(t, v, what); };
  auto mel = [&](Value* hz, const std::string& what) -> Expected<Value*> {  // 2595 * log10(1 + hz / 700)
    KILN_ASSIGN_OR_RETURN(Value * v, ctx.reshape(hz, {}, what + "_scalar"));
    KILN_ASSIGN_OR_RETURN(v, op(OpKind::kDiv, {v, k(et, 700, what + "_700")}, what + "_ratio"));
    KILN_ASSIGN_OR_RETURN(v, op(OpKind::kAdd, {v, k(et, 1, what + "_one")}, what + "_plus1"));
    KILN_ASSIGN_OR_RETURN(v, op(OpKind::kLog, {v}, what + "_ln"));
    return op(OpKind::kMul, {v, k(et, 2595.0 / std::log(10.0), what + "_scale")}, what + "_mel");
  };
  KILN_ASSIGN_OR_RETURN(Value * lo_mel, mel(lo, "lo"));
  KILN_ASSIGN_OR_RETURN(Value * hi_mel, mel(hi, "hi"));
  KILN_ASSIGN_OR_RETURN(Value * span, op(OpKind::kSub, {hi_mel, lo_mel}, "span"));
  KILN_ASSIGN_OR_RETURN(Value * step, op(OpKind::kDiv, {span, k(et, static_cast<double>(bins + 2), "points")}, "step"));
  auto f64 = [&](Value* v, const std::string& what) -> Expected<Value*> {
    if (v->type.dtype == DType::kF64) return v;
    return ctx.add(OpKind::kCast, {v}, ir::Attrs().set("to", static_cast<int64_t>(DType::kF64)), what);
  };
  KILN_ASSIGN_OR_RETURN(step, f64(step, "step_f64"));
  KILN_ASSIGN_OR_RETURN(lo_mel, f64(lo_mel, "lo_mel_f64"));
  // hz of each point, then its FFT bin floor((dft_length + 1) * hz / rate).
  std::vector<double> iota(bins + 2);
  for (int64_t i = 0; i < bins + 2; ++i) iota[i] = static_cast<double>(i);
  Value* idx = float_constant(ctx, DType::kF64, {bins + 2}, iota, "point_index");
  KILN_ASSIGN_OR_RETURN(Value * pm, op(OpKind::kMul, {idx, step}, "point_offset"));
  KILN_ASSIGN_OR_RETURN(pm, op(OpKind::kAdd, {pm, lo_mel}, "point_mel"));
  KILN_ASSIGN_OR_RETURN(Value * e, op(OpKind::kMul, {pm, k(DType::kF64, std::log(10.0) / 2595.0, "mel_scale")}, "exponent"));
  KILN_ASSIGN_OR_RETURN(e, op(OpKind::kExp, {e}, "power"));
  KILN_ASSIGN_OR_RETURN(e, op(OpKind::kSub, {e, k(DType::kF64, 1, "one_f64")}, "power_m1"));
  KILN_ASSIGN_OR_RETURN(Value * hz, op(OpKind::kMul, {e, k(DType::kF64, 700, "hz_scale")}, "point_hz"));
  KILN_ASSIGN_OR_RETURN(hz, op(OpKind::kMul, {hz, k(DType::kF64, static_cast<double>(dft_length + 1), "len_p1")}, "scaled"));
  KILN_ASSIGN_OR_RETURN(hz, op(OpKind::kDiv, {hz, k(DType::kF64, static_cast<double>(rate), "rate")}, "bin_real"));
  KILN_ASSIGN_OR_RETURN(Value * pts, op(OpKind::kFloor, {hz}, "bin_floor"));
  // Triangles: band i rises over [left, center] and falls over [center, right).
  auto band = [&](int64_t start, const std::string& what) -> Expected<Value*> {
    std::vector<int64_t> starts = {start}, steps = {1};
    KILN_ASSIGN_OR_RETURN(Value * v, ctx.add(OpKind::kSlice, {pts}, ir::Attrs().set("starts", starts).set("steps", steps)
                                                                       .set("shape", std::vector<int64_t>{bins}), what));
    return ctx.reshape(v, {1, bins}, what + "_row");
  };
  KILN_ASSIGN_OR_RETURN(Value * left, band(0, "left"));
  KILN_ASSIGN_OR_RETURN(Value * center, band(1, "center"));
  KILN_ASSIGN_OR_RETURN(Value * right, band(2, "right"));
  int64_t spectrum = dft_length / 2 + 1;
  std::vector<double> jv(spectrum);
  for (int64_t j = 0; j < spectrum; ++j) jv[j] = static_cast<double>(j);
  Value* j = float_constant(ctx, DType::kF64, {spectrum, 1}, jv, "spectrum_bin");
  KILN_ASSIGN_OR_RETURN(Value * rise_w, op(OpKind::kSub, {center, left}, "rise_width"));
  KILN_ASSIGN_OR_RETURN(Value * fall_w, op(OpKind::kSub, {right, center}, "fall_width"));
  KILN_ASSIGN_OR_RETURN(Value * from_left, op(OpKind::kSub, {j, left}, "from_left"));
  KILN_ASSIGN_OR_RETURN(Value * to_right, op(OpKind::kSub, {right, j}, "to_right"));
  KILN_ASSIGN_OR_RETURN(Value * rise, op(OpKind::kDiv, {from_left, rise_w}, "rise"));
  KILN_ASSIGN_OR_RETURN(Value * fall, op(OpKind::kDiv, {to_right, fall_w}, "fall"));
  Value* zero = k(DType::kF64, 0, "zero_f64");
  KILN_ASSIGN_OR_RETURN(Value * lt_left, op(OpKind::kLess, {j, left}, "before_left"));
  KILN_ASSIGN_OR_RETURN(Value * gt_center, op(OpKind::kGreater, {j, center}, "after_center"));
  KILN_ASSIGN_OR_RETURN(Value * off_rise, op(OpKind::kOr, {lt_left, gt_center}, "off_rise"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kWhere, {off_rise, zero, rise}, {}, "rising"));
  KILN_ASSIGN_OR_RETURN(Value * flat, op(OpKind::kEqual, {rise_w, zero}, "flat_rise"));
  KILN_ASSIGN_OR_RETURN(Value * at_center, op(OpKind::kEqual, {j, center}, "at_center"));
  KILN_ASSIGN_OR_RETURN(Value * peak, op(OpKind::kAnd, {flat, at_center}, "flat_peak"));
  KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kWhere, {peak, k(DType::kF64, 1, "one_peak"), y}, {}, "with_peak"));
  KILN_ASSIGN_OR_RETURN(Value * lt_center, op(OpKind::kLess, {j, center}, "before_center"));
  KILN_ASSIGN_OR_RETURN(Value * lt_right, op(OpKind::kLess, {j, right}, "before_right"));
  KILN_ASSIGN_OR_RETURN(Value * not_fall, ctx.add(OpKind::kNot, {lt_right}, {}, "past_right"));
  KILN_ASSIGN_OR_RETURN(Value * off_fall, op(OpKind::kOr, {lt_center, not_fall}, "off_fall"));
  KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kWhere, {off_fall, y, fall}, {}, "with_fall"));
  KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kCast, {y}, ir::Attrs().set("to", static_cast<int64_t>(out)), "mel_weights"));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace

Status map_dft(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_signal(ctx, x, 2));
  int64_t rank = x->type.rank();
  int64_t axis = 1;
  if (ctx.opset() >= 20) {
    axis = -2;
    if (ctx.has_input(2)) {
      KILN_ASSIGN_OR_RETURN(axis, const_scalar(ctx, 2, "axis"));
    }
  } else {
    axis = ctx.attr_int("axis", 1);
  }
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank - 1)
    return ctx.error("axis " + std::to_string(axis) + " must address a signal dimension of " + x->type.str() +
                     " (not the last, complex one)");
  bool inverse = ctx.attr_int("inverse", 0) != 0;
  bool onesided = ctx.attr_int("onesided", 0) != 0;
  int64_t n = x->type.shape[a];
  int64_t len = inverse && onesided ? 2 * (n - 1) : n;
  if (ctx.has_input(1)) {
    KILN_ASSIGN_OR_RETURN(len, const_scalar(ctx, 1, "dft_length"));
  }
  if (len < 1) return ctx.error("the DFT length " + std::to_string(len) + " must be positive");
  if (onesided && !inverse && x->type.shape.back() == 2)
    return ctx.error("onesided needs a real signal, got " + x->type.str());
  KILN_ASSIGN_OR_RETURN(Value * y, dft(ctx, x, a, len, inverse, onesided, "dft"));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_stft(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_RETURN_IF_ERROR(check_signal(ctx, x, 3));
  if (x->type.rank() != 3) return ctx.error("the signal must be [batch, length, 1 or 2], got " + x->type.str());
  int64_t length = x->type.shape[1], c = x->type.shape[2];
  KILN_ASSIGN_OR_RETURN(int64_t step, const_scalar(ctx, 1, "frame_step"));
  Value* window = ctx.has_input(2) ? ctx.input(2) : nullptr;
  int64_t frame = length;
  if (window) {
    if (window->type.rank() != 1 || window->type.dtype != x->type.dtype)
      return ctx.error("window must be 1-D of the signal's type, got " + window->type.str());
    frame = window->type.shape[0];
  }
  if (ctx.has_input(3)) {
    KILN_ASSIGN_OR_RETURN(frame, const_scalar(ctx, 3, "frame_length"));
    if (window && window->type.shape[0] != frame)
      return ctx.error("frame_length " + std::to_string(frame) + " differs from the window " + window->type.str());
  }
  if (step < 1 || frame < 1 || frame > length)
    return ctx.error("frame_step " + std::to_string(step) + " and frame_length " + std::to_string(frame) +
                     " must be positive, the frame no longer than the signal " + x->type.str());
  bool onesided = ctx.attr_int("onesided", 1) != 0;
  if (onesided && c == 2) return ctx.error("onesided needs a real signal, got " + x->type.str());
  int64_t frames = 1 + (length - frame) / step;
  std::vector<int64_t> idx(frames * frame);
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t j = 0; j < frame; ++j) idx[f * frame + j] = f * step + j;
  Value* iv = ctx.constant(ir::Tensor::from_i64({frames, frame}, idx), "frame_index");
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kGather, {x, iv}, ir::Attrs().set("axis", int64_t{1}), "frames"));
  if (window) {
    KILN_ASSIGN_OR_RETURN(Value * w, ctx.reshape(window, {frame, 1}, "window_column"));
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kMul, {y, w}, {}, "windowed"));
  }
  KILN_ASSIGN_OR_RETURN(y, dft(ctx, y, 2, frame, false, onesided, "dft"));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_window(NodeContext& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t size, const_scalar(ctx, 0, "size"));
  if (size < 0) return ctx.error("size " + std::to_string(size) + " is negative");
  int32_t onnx_type = static_cast<int32_t>(ctx.attr_int("output_datatype", onnx::TensorProto::FLOAT));
  std::optional<DType> dtype = dtype_from_onnx(onnx_type);
  if (!dtype) return ctx.unsupported("output_datatype " + onnx_type_name(onnx_type));
  bool periodic = ctx.attr_int("periodic", 1) != 0;
  double denom = static_cast<double>(periodic ? size : size - 1);
  const std::string& op = ctx.op_type();
  std::vector<double> v(size);
  for (int64_t i = 0; i < size; ++i) {
    double t = 2 * kPi * static_cast<double>(i) / denom;
    if (op == "HannWindow") {
      double s = std::sin(kPi * static_cast<double>(i) / denom);
      v[i] = s * s;
    } else if (op == "HammingWindow") {
      v[i] = 25.0 / 46.0 - (21.0 / 46.0) * std::cos(t);
    } else {
      v[i] = 0.42 - 0.5 * std::cos(t) + 0.08 * std::cos(2 * t);
    }
  }
  KILN_ASSIGN_OR_RETURN(Value * y, typed_constant(ctx, *dtype, {size}, v, "window"));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_mel_weight_matrix(NodeContext& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t bins, const_scalar(ctx, 0, "num_mel_bins"));
  KILN_ASSIGN_OR_RETURN(int64_t dft_length, const_scalar(ctx, 1, "dft_length"));
  KILN_ASSIGN_OR_RETURN(int64_t rate, const_scalar(ctx, 2, "sample_rate"));
  const ir::Tensor* lo_t = ctx.constant_input(3);
  const ir::Tensor* hi_t = ctx.constant_input(4);
  if (bins < 1 || dft_length < 1 || rate < 1) return ctx.error("num_mel_bins, dft_length and sample_rate must be positive");
  int32_t onnx_type = static_cast<int32_t>(ctx.attr_int("output_datatype", onnx::TensorProto::FLOAT));
  std::optional<DType> dtype = dtype_from_onnx(onnx_type);
  if (!dtype) return ctx.unsupported("output_datatype " + onnx_type_name(onnx_type));
  if (!lo_t || !hi_t) return mel_weights_at_run_time(ctx, bins, dft_length, rate, *dtype);
  // As the ONNX reference: mel points evenly spaced, mapped back to FFT bins
  // (floored). The reference computes the edges' mel values in float32 (its
  // inputs' type) and the rest in float64; so does this.
  float lo = static_cast<float>(lo_t->get_f64(0)), hi = static_cast<float>(hi_t->get_f64(0));
  auto mel = [](float hz) { return 2595.0f * std::log10(1.0f + hz / 700.0f); };
  float lo_mel32 = mel(lo);
  double lo_mel = lo_mel32, step = (mel(hi) - lo_mel32) / static_cast<float>(bins + 2);
  std::vector<int64_t> points(bins + 2);
  for (int64_t i = 0; i < bins + 2; ++i) {
    double hz = 700.0 * (std::pow(10.0, (static_cast<double>(i) * step + lo_mel) / 2595.0) - 1.0);
    points[i] = static_cast<int64_t>(std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(rate)));
  }
  int64_t spectrum = dft_length / 2 + 1;
  std::vector<double> w(spectrum * bins, 0.0);
  auto set = [&](int64_t j, int64_t i, double v) {
    if (j < 0 || j >= spectrum) return false;
    w[j * bins + i] = v;
    return true;
  };
  for (int64_t i = 0; i < bins; ++i) {
    int64_t left = points[i], center = points[i + 1], right = points[i + 2];
    bool ok = true;
    if (center == left) {
      ok = set(center, i, 1.0);
    } else {
      for (int64_t j = left; j <= center && ok; ++j)
        ok = set(j, i, static_cast<double>(j - left) / static_cast<double>(center - left));
    }
    for (int64_t j = center; j < right && ok; ++j)
      ok = set(j, i, static_cast<double>(right - j) / static_cast<double>(right - center));
    if (!ok)
      return ctx.error("the mel bands reach past the " + std::to_string(spectrum) +
                       " spectrum bins (upper_edge_hertz above sample_rate / 2?)");
  }
  KILN_ASSIGN_OR_RETURN(Value * y, typed_constant(ctx, *dtype, {spectrum, bins}, w, "mel_weights"));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
