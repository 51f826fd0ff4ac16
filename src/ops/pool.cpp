// MaxPool, AveragePool and LpPool over the spatial dimensions (1-D, 2-D, 3-D..)
// of N, C, spatial... input. Attributes: kernel:ints(k) strides:ints(k, default
// 1s) pads:ints(2k: all begins, then all ends; ONNX's order, [t,l,b,r] in 2-D)
// dilations:ints(k) ceil_mode:i count_include_pad:i, and p:i for LpPool.
// Max ignores padding. Average divides by the number of in-bounds elements,
// or with count_include_pad by the window's positions inside the padded input
// (not the ceil_mode overhang beyond it), as ONNX Runtime does. LpPool is
// (sum over in-bounds taps of |x|^p)^(1/p): padding contributes zeros.
// MaxPoolIndices gives MaxPool's int64 Indices output: the flat index into the
// input of each window's first maximum (storage_order:i 1: spatial dims
// column-major), as the ONNX reference computes it. With layout="NHWC"
// (ops/layout.h; MaxPool and AveragePool in 2-D) input and output are N, H, W, C.
#include <algorithm>

#include "ops/layout.h"
#include "ops/op_families.h"
#include "ops/pool_params.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;
using kir::Stmt;

namespace {

// ONNX's output size; with ceil_mode the last window must start inside the
// input or its leading padding.
int64_t pool_out_size(int64_t in, int64_t k, int64_t s, int64_t pad_begin, int64_t pad_end, int64_t d, bool ceil_mode) {
  int64_t span = in + pad_begin + pad_end - (d * (k - 1) + 1);
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + pad_begin) --out;
  return out;
}

bool all_at_least(const std::vector<int64_t>& v, int64_t lo) {
  for (int64_t x : v)
    if (x < lo) return false;
  return true;
}

}  // namespace

Expected<PoolParams> pool_params(const ir::Node& node) {
  std::string name = ir::op_name(node.op);
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  if (x.rank() < 3) return Status::invalid(name + " needs an input of rank 3 or more (N, C, spatial...), got " + x.str());
  size_t k = static_cast<size_t>(x.rank() - 2);
  bool is_max = node.op == OpKind::kMaxPool || node.op == OpKind::kMaxPoolIndices;
  if (!is_max || dtype_is_float(x.dtype)) {
    KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  } else if (x.dtype == DType::kBool) {
    return Status::invalid("MaxPool does not take a bool input (" + x.str() + ")");
  }
  if (!node.attrs.has("kernel")) return Status::invalid(name + " needs the attribute 'kernel'");
  PoolParams p;
  p.kernel = node.attrs.get_ints("kernel");
  p.strides = node.attrs.get_ints("strides", std::vector<int64_t>(k, 1));
  std::vector<int64_t> pads = node.attrs.get_ints("pads", std::vector<int64_t>(2 * k, 0));
  p.dilations = node.attrs.get_ints("dilations", std::vector<int64_t>(k, 1));
  std::string count = std::to_string(k);
  if (p.kernel.size() != k || !all_at_least(p.kernel, 1))
    return Status::invalid(name + " kernel " + ints_str(p.kernel) + " must be " + count + " positive numbers");
  if (p.strides.size() != k || !all_at_least(p.strides, 1))
    return Status::invalid(name + " strides " + ints_str(p.strides) + " must be " + count + " positive numbers");
  if (pads.size() != 2 * k || !all_at_least(pads, 0))
    return Status::invalid(name + " pads " + ints_str(pads) + " must be " + std::to_string(2 * k) +
                           " non-negative numbers");
  if (p.dilations.size() != k || !all_at_least(p.dilations, 1))
    return Status::invalid(name + " dilations " + ints_str(p.dilations) + " must be " + count + " positive numbers");
  bool nhwc = is_channels_last(node);  // N, spatial..., C
  p.n = x.shape[0], p.c = x.shape[nhwc ? x.rank() - 1 : 1];
  p.in.assign(x.shape.begin() + (nhwc ? 1 : 2), x.shape.end() - (nhwc ? 1 : 0));
  p.pad_begin.assign(pads.begin(), pads.begin() + k);
  p.pad_end.assign(pads.begin() + k, pads.end());
  bool ceil_mode = node.attrs.get_int("ceil_mode", 0) != 0;
  for (size_t i = 0; i < k; ++i) {
    if (p.pad_begin[i] >= p.kernel[i] || p.pad_end[i] >= p.kernel[i])
      return Status::invalid(name + " pads " + ints_str(pads) + " must be smaller than the kernel " +
                             ints_str(p.kernel));
    if (p.in[i] + p.pad_begin[i] + p.pad_end[i] < p.dilations[i] * (p.kernel[i] - 1) + 1)
      return Status::invalid(name + " kernel " + ints_str(p.kernel) + " is larger than the padded input " + x.str());
    p.out.push_back(pool_out_size(p.in[i], p.kernel[i], p.strides[i], p.pad_begin[i], p.pad_end[i], p.dilations[i],
                                  ceil_mode));
  }
  p.count_include_pad = node.attrs.get_int("count_include_pad", 0) != 0;
  p.p = node.attrs.get_int("p", 2);
  p.storage_order = node.attrs.get_int("storage_order", 0);
  if (node.op == OpKind::kLpPool && p.p < 1)
    return Status::invalid("LpPool p " + std::to_string(p.p) + " must be positive");
  return p;
}

Status infer_pool(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_ASSIGN_OR_RETURN(PoolParams p, pool_params(node));
  ir::Shape out = {p.n, p.c};
  out.insert(out.end(), p.out.begin(), p.out.end());
  if (is_channels_last(node)) {
    out.erase(out.begin() + 1);
    out.push_back(p.c);
  }
  DType dt = node.op == OpKind::kMaxPoolIndices ? DType::kI64 : node.inputs[0]->type.dtype;
  outputs->assign(1, ir::TensorType{dt, out});
  return Status::ok();
}

// for n, c (parallel), the outer output dims, the last one (vectorized): reduce
// the window into a local accumulator (and, for AveragePool, a local count),
// then write once.
Expected<Stmt> lower_pool(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(PoolParams p, pool_params(ctx.node));
  if (is_channels_last(ctx.node)) return lower_pool_nhwc(ctx, p);
  OpKind op = ctx.node.op;
  DType dt = ctx.node.inputs[0]->type.dtype;
  kir::Type t = scalar_type(dt);
  size_t k = p.in.size();
  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr c = nest.add("c", p.c);
  std::vector<Expr> outer;
  for (size_t i = 0; i + 1 < k; ++i) outer.push_back(nest.add("o" + std::to_string(i), p.out[i]));
  Expr zero = Expr(int64_t{0});
  Expr fzero = kir::make_const(t, 0);

  // `interior`: every tap of the last dimension lies inside the input, so its
  // index needs no clamp (a strided vector load instead of a gather) and no check.
  auto point = [&](const Expr& last, bool interior) -> Stmt {
    std::vector<Expr> o = outer;
    o.push_back(last);
    kir::Buffer acc = kir::make_buffer("acc", dt);
    kir::Buffer cnt = kir::make_buffer("cnt", dt);
    kir::Buffer arg = kir::make_buffer("arg", DType::kI64);
    std::vector<Expr> kv, read_idx = {n, c};
    Expr inside, counted;
    // The flat input index of the tap (MaxPoolIndices): (n * C + c) * spatial size
    // plus the spatial offset, row-major or (storage_order 1) column-major.
    int64_t spatial = 1;
    for (int64_t d : p.in) spatial *= d;
    Expr flat = (n * Expr(p.c) + c) * Expr(spatial);
    std::vector<Expr> taps_in;
    for (size_t i = 0; i < k; ++i) {
      kv.push_back(kir::var("k" + std::to_string(i)));
      Expr ii = o[i] * Expr(p.strides[i]) + kv[i] * Expr(p.dilations[i]) - Expr(p.pad_begin[i]);
      taps_in.push_back(ii);
      if (interior && i + 1 == k) {
        read_idx.push_back(ii);
        continue;
      }
      Expr in_i = ii >= zero && ii < Expr(p.in[i]);
      Expr cnt_i = ii < Expr(p.in[i] + p.pad_end[i]);
      inside = inside ? (inside && in_i) : in_i;
      counted = counted ? (counted && cnt_i) : cnt_i;
      read_idx.push_back(clamp_index(ii, p.in[i]));
    }
    if (!inside) inside = counted = kir::make_const(kir::boolean(), 1);
    Expr offset = Expr(int64_t{0});
    int64_t step = 1;
    for (size_t j = 0; j < k; ++j) {
      size_t i = p.storage_order == 1 ? j : k - 1 - j;
      offset = offset + taps_in[i] * Expr(step);
      step *= p.in[i];
    }
    flat = flat + offset;
    Expr xv = ctx.read(0, read_idx);
    Expr a0 = kir::load(acc, zero);
    std::vector<Stmt> update;
    Expr init;
    if (op == OpKind::kMaxPool) {
      init = lowest_value(dt);
      update.push_back(kir::store(acc, zero, kir::select(inside, kir::max(a0, xv), a0)));
    } else if (op == OpKind::kMaxPoolIndices) {
      // The first in-bounds tap, then each strictly larger one.
      init = lowest_value(dt);
      Expr i0 = kir::load(arg, zero);
      Expr better = inside && (xv > a0 || i0 < zero);
      // (arg first: `better` reads acc before its update.)
      update.push_back(kir::store(arg, zero, kir::select(better, flat, i0)));
      update.push_back(kir::store(acc, zero, kir::select(better, xv, a0)));
    } else {
      init = fzero;
      Expr term = xv;
      if (op == OpKind::kLpPool) {
        Expr ax = kir::call(kir::Intrinsic::kAbs, {xv});
        term = p.p == 1 ? ax : p.p == 2 ? xv * xv : kir::call(kir::Intrinsic::kPow, {ax, kir::make_const(t, p.p)});
      }
      update.push_back(kir::store(acc, zero, a0 + kir::select(inside, term, fzero)));
      if (op == OpKind::kAveragePool) {
        Expr c0 = kir::load(cnt, zero);
        Expr counts = p.count_include_pad ? counted : inside;
        update.push_back(kir::store(cnt, zero, c0 + kir::select(counts, kir::make_const(t, 1), fzero)));
      }
    }
    Stmt red = kir::block(update);
    for (size_t i = k; i-- > 0;) red = kir::for_loop(kv[i], zero, Expr(p.kernel[i]), kir::ForKind::kSerial, red);
    Expr result = op == OpKind::kMaxPoolIndices ? kir::load(arg, zero) : kir::load(acc, zero);
    if (op == OpKind::kAveragePool) {
      // A window with nothing to count (possible with dilations) gives 0, as in ONNX Runtime.
      result = result / kir::max(kir::load(cnt, zero), kir::make_const(t, 1));
    } else if (op == OpKind::kLpPool && p.p == 2) {
      result = kir::call(kir::Intrinsic::kSqrt, {result});
    } else if (op == OpKind::kLpPool && p.p > 1) {
      result = kir::call(kir::Intrinsic::kPow, {result, kir::make_const(t, 1.0 / static_cast<double>(p.p))});
    }
    std::vector<Stmt> body = {kir::store(acc, zero, init)};
    if (op == OpKind::kAveragePool) body.push_back(kir::store(cnt, zero, fzero));
    if (op == OpKind::kMaxPoolIndices) body.push_back(kir::store(arg, zero, Expr(int64_t{-1})));
    body.push_back(red);
    std::vector<Expr> out_idx = {n, c};
    out_idx.insert(out_idx.end(), o.begin(), o.end());
    body.push_back(ctx.write(0, out_idx, result));
    Stmt s = kir::allocate(acc, Expr(int64_t{1}), kir::block(body));
    if (op == OpKind::kMaxPoolIndices) s = kir::allocate(arg, Expr(int64_t{1}), s);
    return op == OpKind::kAveragePool ? kir::allocate(cnt, Expr(int64_t{1}), s) : s;
  };
  // Output positions [lo, hi) of the last dimension whose taps all lie inside the input.
  int64_t last = p.out[k - 1], s = p.strides[k - 1], pb = p.pad_begin[k - 1];
  int64_t span = (p.kernel[k - 1] - 1) * p.dilations[k - 1];
  int64_t lo = std::min(last, (pb + s - 1) / s);
  int64_t hi = p.in[k - 1] - 1 - span + pb >= 0 ? std::min(last, (p.in[k - 1] - 1 - span + pb) / s + 1) : 0;
  hi = std::max(lo, hi);
  std::string name = "o" + std::to_string(k - 1);
  auto range = [&](int64_t b, int64_t e, bool interior) {
    int lanes = ctx.opts.f32_lanes;
    bool pieces = interior && ctx.opts.vectorize() && lanes > 1;
    int64_t whole = pieces ? b + (e - b) / lanes * lanes : e;
    Stmt vectors = vector_loop(name, b, whole, lanes, ctx.opts.vectorize(),
                               [&](const Expr& o) { return point(o, interior); });
    if (!pieces) return vectors;
    // The interior's tail as vector pieces (ResNet-50's 56 outputs: 3 x 16
    // + 4 + 2 + 1 instead of 7 scalar windows).
    std::vector<Stmt> parts = {vectors};
    for (auto [off, w] : vector_pieces(e - whole, lanes)) {
      Expr j = kir::var(name + "_p");
      parts.push_back(kir::for_loop(j, zero, Expr(w), kir::ForKind::kVectorized, point(Expr(whole + off) + j, true)));
    }
    return kir::block(std::move(parts));
  };
  Stmt row = kir::block({range(0, lo, false), range(lo, hi, true), range(hi, last, false)});
  return nest.build(row, ctx.opts.parallelize() && nest.total() * last >= 4096);
}

}  // namespace kiln::ops
