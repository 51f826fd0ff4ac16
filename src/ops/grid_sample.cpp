// GridSample: X [N, C, D1..Dk] sampled at the normalized coordinates of grid
// [N, O1..Ok, k] (grid[..., 0] addresses the last dimension Dk) into
// [N, C, O1..Ok]. Attributes: mode:s ("nearest", "linear", "cubic": k-linear
// or k-cubic with Keys' a = -0.75), padding_mode:s ("zeros", "border",
// "reflection"), align_corners:i. Follows the ONNX reference: coordinates out
// of range are clamped or reflected first (but see cubic + border below), then
// each tap is read with the padding mode (zeros: 0 outside).
#include <cmath>

#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

namespace {

std::string str_attr(const ir::Node& node, const std::string& name, const std::string& dflt) {
  auto it = node.attrs.all().find(name);
  if (it == node.attrs.all().end()) return dflt;
  const auto* s = std::get_if<std::string>(&it->second);
  return s ? *s : dflt;
}

// Reflects x into [lo, hi] by the nearer border, repeatedly (the reference's
// loop), in closed form: lo + tri(|x - lo| mod 2R) with R = hi - lo and
// tri(t) = t for t <= R, 2R - t above. x is used once (kernel expressions are
// trees: every use is evaluated again until LLVM merges them).
Expr reflect(const Expr& x, double lo, double hi) {
  kir::Type t = x.type();
  auto c = [&](double v) { return kir::make_const(t, v); };
  double range = hi - lo;
  if (range <= 0) return c(lo);
  Expr a = kir::call(kir::Intrinsic::kAbs, {x - c(lo)});
  Expr m = a - c(2 * range) * kir::call(kir::Intrinsic::kFloor, {a * c(1 / (2 * range))});
  return c(lo) + kir::min(m, c(2 * range) - m);
}

// Keys' cubic convolution weights for the taps at -1, 0, 1, 2 of fraction f.
std::vector<Expr> cubic_weights(const Expr& f) {
  kir::Type t = f.type();
  auto c = [&](double v) { return kir::make_const(t, v); };
  const double a = -0.75;
  auto far = [&](const Expr& x) { return ((c(a) * x - c(5 * a)) * x + c(8 * a)) * x - c(4 * a); };  // 1 < |x| < 2
  auto near = [&](const Expr& x) { return ((c(a + 2) * x - c(a + 3)) * x) * x + c(1); };         // |x| <= 1
  return {far(f + c(1)), near(f), near(c(1) - f), far(c(2) - f)};
}

}  // namespace

Status infer_grid_sample(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 2));
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  KILN_RETURN_IF_ERROR(check_float_input(node, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  const ir::TensorType& grid = node.inputs[1]->type;
  int64_t k = x.rank() - 2;
  if (k < 1) return Status::invalid("GridSample needs an input of rank >= 3, got " + x.str());
  if (grid.rank() != k + 2 || grid.shape[0] != x.shape[0] || grid.shape.back() != k)
    return Status::invalid("GridSample grid must be [" + std::to_string(x.shape[0]) + ", " + std::to_string(k) +
                           " output sizes, " + std::to_string(k) + "] for input " + x.str() + ", got " + grid.str());
  std::string mode = str_attr(node, "mode", "linear");
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return Status::invalid("GridSample mode '" + mode + "' is not nearest, linear or cubic");
  std::string pad = str_attr(node, "padding_mode", "zeros");
  if (pad != "zeros" && pad != "border" && pad != "reflection")
    return Status::invalid("GridSample padding_mode '" + pad + "' is not zeros, border or reflection");
  ir::Shape shape = {x.shape[0], x.shape[1]};
  shape.insert(shape.end(), grid.shape.begin() + 1, grid.shape.end() - 1);
  outputs->assign(1, ir::TensorType{x.dtype, shape});
  return Status::ok();
}

Expr element_grid_sample(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  const ir::Shape& xs = node.inputs[0]->type.shape;
  int64_t k = static_cast<int64_t>(xs.size()) - 2;
  std::string mode = str_attr(node, "mode", "linear");
  std::string pad = str_attr(node, "padding_mode", "zeros");
  bool align = node.attrs.get_int("align_corners", 0) != 0;
  kir::Type xt = scalar_type(node.inputs[0]->type.dtype);
  // Coordinates in the grid's type, but at least float32 precision as the reference.
  kir::Type ct = scalar_type(node.inputs[1]->type.dtype);
  auto c = [&](double v) { return kir::make_const(ct, v); };

  // The denormalized, range-handled coordinate along each spatial dimension.
  std::vector<Expr> coord(k);
  std::vector<double> lo(k), hi(k);
  for (int64_t s = 0; s < k; ++s) {
    double len = static_cast<double>(xs[2 + s]);
    std::vector<Expr> gi(out_idx.begin() + 2, out_idx.end());
    gi.insert(gi.begin(), out_idx[0]);
    gi.push_back(Expr(k - 1 - s));
    Expr n = read(1, gi);
    Expr v = align ? (n + c(1)) / c(2) * c(len - 1) : ((n + c(1)) * c(len) - c(1)) / c(2);
    if (mode == "nearest") v = kir::call(kir::Intrinsic::kRoundEven, {v});
    lo[s] = align ? 0.0 : -0.5;
    hi[s] = align ? len - 1 : len - 0.5;
    // (Cubic with border padding clamps each tap, not the coordinate: ONNX
    // Runtime and PyTorch do so; the ONNX reference clamps the coordinate too,
    // and no node test covers the case. Reflection gives the same either way:
    // the cubic kernel is symmetric.)
    if (pad == "border" && mode != "cubic") {
      Expr out = v < c(lo[s]) || v > c(hi[s]);
      v = kir::select(out, kir::max(kir::min(v, c(len - 1)), c(0)), v);
    } else if (pad == "reflection") {
      v = reflect(v, lo[s], hi[s]);
    }
    coord[s] = v;
  }

  // One tap: X at integer indices idx (one per spatial dim) with the padding mode.
  auto tap = [&](const std::vector<Expr>& idx) -> Expr {
    std::vector<Expr> at = {out_idx[0], out_idx[1]};
    Expr valid;
    for (int64_t s = 0; s < k; ++s) {
      int64_t len = xs[2 + s];
      Expr i = idx[s];
      if (pad == "zeros") {
        Expr in = i >= Expr(int64_t{0}) && i < Expr(len);
        valid = valid ? (valid && in) : in;
      } else if (pad == "reflection") {
        i = kir::cast(kir::i64(), reflect(kir::cast(ct, i), lo[s], hi[s]));
      }
      at.push_back(clamp_index(i, len));
    }
    Expr v = read(0, at);
    return valid ? kir::select(valid, v, kir::make_const(xt, 0)) : v;
  };

  if (mode == "nearest") {
    std::vector<Expr> idx;
    for (int64_t s = 0; s < k; ++s) idx.push_back(kir::cast(kir::i64(), coord[s]));
    return tap(idx);
  }
  // Separable taps: per dimension, base index floor(x) + offset and its weight.
  bool cubic = mode == "cubic";
  int taps = cubic ? 4 : 2;
  std::vector<Expr> base(k);
  std::vector<std::vector<Expr>> weight(k);
  for (int64_t s = 0; s < k; ++s) {
    Expr f0 = kir::call(kir::Intrinsic::kFloor, {coord[s]});
    Expr frac = coord[s] - f0;
    base[s] = kir::cast(kir::i64(), f0) - Expr(int64_t{cubic ? 1 : 0});
    weight[s] = cubic ? cubic_weights(frac) : std::vector<Expr>{c(1) - frac, frac};
    for (Expr& w : weight[s])
      if (ct != xt) w = kir::cast(xt, w);
  }
  int64_t total = 1;
  for (int64_t s = 0; s < k; ++s) total *= taps;
  Expr sum;
  for (int64_t t = 0; t < total; ++t) {
    std::vector<Expr> idx(k);
    Expr w;
    int64_t rest = t;
    for (int64_t s = k; s-- > 0;) {
      int64_t o = rest % taps;
      rest /= taps;
      idx[s] = base[s] + Expr(o);
      w = w ? weight[s][o] * w : weight[s][o];
    }
    Expr term = w * tap(idx);
    sum = sum ? sum + term : term;
  }
  return sum;
}

}  // namespace kiln::ops
