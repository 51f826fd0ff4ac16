// ConvTranspose over any number of spatial dims, as a gather: each output
// element sums x * w over the input positions and taps that map to it.
// Attributes: strides:ints(k) pads:ints(2k: begins, then ends) dilations:ints(k)
// output_padding:ints(k) group:i, layout:s ("NHWC": 2-D X[N,H,W,C], Y[N,OH,OW,M];
// ops/layout.h). Inputs X[N,C,i...], W[C, M/group, k...], B[M].
#include <algorithm>
#include <tuple>

#include "ops/conv_transpose_params.h"
#include "ops/layout.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Expected<ConvTransposeParams> conv_transpose_params(const ir::Node& node) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 3));
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  const ir::TensorType& x = node.inputs[0]->type;
  std::optional<PackedWeight> packed = packed_weight(node);
  const ir::TensorType w = packed ? ir::TensorType{node.inputs[1]->type.dtype, packed->logical} : node.inputs[1]->type;
  bool nhwc = is_channels_last(node);  // N, spatial..., C
  if (x.rank() < 3) return Status::invalid("ConvTranspose needs an input of rank 3 or more, got " + x.str());
  size_t k = static_cast<size_t>(x.rank() - 2);
  if (w.rank() != x.rank() || w.dtype != x.dtype)
    return Status::invalid("ConvTranspose weights " + w.str() + " must be " + dtype_name(x.dtype) + " of rank " +
                           std::to_string(x.rank()) + " for input " + x.str());
  ConvTransposeParams p;
  p.n = x.shape[0], p.c = x.shape[nhwc ? x.rank() - 1 : 1];
  p.group = node.attrs.get_int("group", 1);
  if (p.group < 1 || p.c % p.group != 0 || w.shape[0] != p.c)
    return Status::invalid("ConvTranspose input " + x.str() + ", weights " + w.str() + " and group " +
                           std::to_string(p.group) + " do not agree");
  p.cg = p.c / p.group, p.mg = w.shape[1], p.m = p.mg * p.group;
  if (packed && node.inputs[1]->type.shape != packed_conv_transpose_shape(packed->logical, p.group, packed->block))
    return Status::internal("ConvTranspose packed weights " + node.inputs[1]->type.str() + " do not match layout " +
                            packed->layout + " of " + w.str());
  p.in.assign(x.shape.begin() + (nhwc ? 1 : 2), x.shape.end() - (nhwc ? 1 : 0));
  p.kernel.assign(w.shape.begin() + 2, w.shape.end());
  p.strides = node.attrs.get_ints("strides", std::vector<int64_t>(k, 1));
  std::vector<int64_t> pads = node.attrs.get_ints("pads", std::vector<int64_t>(2 * k, 0));
  p.dilations = node.attrs.get_ints("dilations", std::vector<int64_t>(k, 1));
  std::vector<int64_t> out_pad = node.attrs.get_ints("output_padding", std::vector<int64_t>(k, 0));
  if (p.strides.size() != k || p.dilations.size() != k || pads.size() != 2 * k || out_pad.size() != k)
    return Status::invalid("ConvTranspose strides " + ints_str(p.strides) + ", dilations " + ints_str(p.dilations) +
                           ", pads " + ints_str(pads) + " or output_padding " + ints_str(out_pad) +
                           " do not fit " + std::to_string(k) + " spatial dims");
  p.pad_begin.assign(pads.begin(), pads.begin() + k);
  for (size_t i = 0; i < k; ++i) {
    if (p.strides[i] < 1 || p.dilations[i] < 1 || pads[i] < 0 || pads[k + i] < 0 || out_pad[i] < 0)
      return Status::invalid("ConvTranspose strides " + ints_str(p.strides) + ", dilations " +
                             ints_str(p.dilations) + ", pads " + ints_str(pads) + " or output_padding " +
                             ints_str(out_pad) + " has a negative or zero value");
    int64_t o = p.strides[i] * (p.in[i] - 1) + out_pad[i] + p.dilations[i] * (p.kernel[i] - 1) + 1 - pads[i] -
                pads[k + i];
    if (o < 1) return Status::invalid("ConvTranspose output of input " + x.str() + " would be empty");
    p.out.push_back(o);
  }
  if (node.inputs.size() == 3) {
    const ir::TensorType& b = node.inputs[2]->type;
    if (b.shape != ir::Shape{p.m} || b.dtype != x.dtype)
      return Status::invalid("ConvTranspose bias " + b.str() + " must be " + dtype_name(x.dtype) + "[" +
                             std::to_string(p.m) + "]");
  }
  return p;
}

Status infer_conv_transpose(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_ASSIGN_OR_RETURN(ConvTransposeParams p, conv_transpose_params(node));
  ir::Shape out = {p.n, p.m};
  out.insert(out.end(), p.out.begin(), p.out.end());
  if (is_channels_last(node)) {
    out.erase(out.begin() + 1);
    out.push_back(p.m);
  }
  outputs->assign(1, ir::TensorType{node.inputs[0]->type.dtype, out});
  return Status::ok();
}

// Output position o takes tap k where (o + pad - k * dilation) is a multiple of
// the stride s, reading input (o + pad - k * dilation) / s. The last dim is
// split into s phases (o = q * s + phase): within a phase the valid taps are
// fixed and the input index is q + a constant, so the q loop (vectorized)
// reads contiguous input, with bounds checks only near the edges. Outer dims
// with dilation 1 loop over their valid taps only (k = r, r + s, ...). At
// vectorized levels, blocks of 2 or 4 output channels share each input load.
Expected<Stmt> lower_conv_transpose(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(ConvTransposeParams p, conv_transpose_params(ctx.node));
  if (is_channels_last(ctx.node)) return lower_conv_transpose_nhwc(ctx, p);
  DType dt = ctx.node.inputs[0]->type.dtype;
  kir::Type t = scalar_type(dt);
  size_t k = p.in.size(), last = k - 1;
  // Blocks of output channels share each input load (vectorized levels).
  int64_t block = !ctx.opts.vectorize() ? 1 : p.mg % 4 == 0 ? 4 : p.mg % 2 == 0 ? 2 : 1;
  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr m = nest.add("m", p.m / block) * Expr(block);
  std::vector<Expr> outer;
  for (size_t i = 0; i < last; ++i) outer.push_back(nest.add("o" + std::to_string(i), p.out[i]));
  Expr zero = Expr(int64_t{0});
  Expr fzero = kir::make_const(t, 0);
  Expr g = m / Expr(p.mg);
  Expr mi = m % Expr(p.mg);
  auto init = [&](int64_t b) { return ctx.node.inputs.size() == 3 ? ctx.read(2, {m + Expr(b)}) : fzero; };
  int64_t s = p.strides[last], pad = p.pad_begin[last], d = p.dilations[last], in_last = p.in[last];

  // One output point of phase `taps` (last-dim tap k with input offset delta from q).
  using Taps = std::vector<std::pair<int64_t, int64_t>>;
  auto point = [&](const Expr& q, int64_t phase, const Taps& taps, bool checked) -> Stmt {
    auto out_idx = [&](int64_t b) {
      std::vector<Expr> idx = {n, m + Expr(b)};
      idx.insert(idx.end(), outer.begin(), outer.end());
      idx.push_back(q * Expr(s) + Expr(phase));
      return idx;
    };
    if (taps.empty()) {
      std::vector<Stmt> writes;
      for (int64_t b = 0; b < block; ++b) writes.push_back(ctx.write(0, out_idx(b), init(b)));
      return kir::block(writes);
    }
    kir::Buffer acc = kir::make_buffer("acc", dt);
    Expr ci = kir::var("ci");
    Expr ic = g * Expr(p.cg) + ci;
    std::vector<Expr> x_idx = {n, ic}, w_idx = {ic, mi};
    // Outer dims: tap loops and their validity.
    std::vector<std::pair<Expr, Expr>> loops;  // (var, extent)
    Expr valid;
    for (size_t i = 0; i < last; ++i) {
      Expr j = kir::var("k" + std::to_string(i));
      int64_t si = p.strides[i], di = p.dilations[i];
      Expr base = outer[i] + Expr(p.pad_begin[i]);
      Expr kv, num, v;
      if (di == 1 && si > 1) {
        Expr r = base % Expr(si);
        loops.push_back({j, (Expr(p.kernel[i]) - r + Expr(si - 1)) / Expr(si)});
        kv = r + j * Expr(si);
        num = base - kv;
        v = num >= zero && num < Expr(p.in[i] * si);
      } else {
        loops.push_back({j, Expr(p.kernel[i])});
        kv = j;
        num = base - kv * Expr(di);
        v = num >= zero && num < Expr(p.in[i] * si);
        if (si > 1) v = v && (num % Expr(si)) == zero;
      }
      valid = i == 0 ? v : (valid && v);
      x_idx.push_back(clamp_index(num / Expr(si), p.in[i]));
      w_idx.push_back(kv);
    }
    std::vector<Expr> sums(block);
    for (const auto& [kl, delta] : taps) {
      Expr ii = q + Expr(delta);
      std::vector<Expr> xi = x_idx;
      xi.push_back(checked ? clamp_index(ii, in_last) : ii);
      Expr xv = ctx.read(0, xi);
      if (checked) xv = kir::select(ii >= zero && ii < Expr(in_last), xv, fzero);
      for (int64_t b = 0; b < block; ++b) {
        std::vector<Expr> wi = w_idx;
        wi[1] = mi + Expr(b);
        wi.push_back(Expr(kl));
        Expr term = xv * ctx.read(1, wi);
        sums[b] = sums[b] ? sums[b] + term : term;
      }
    }
    std::vector<Stmt> update, body;
    for (int64_t b = 0; b < block; ++b) {
      Expr sum = valid ? kir::select(valid, sums[b], fzero) : sums[b];
      update.push_back(kir::store(acc, Expr(b), kir::load(acc, Expr(b)) + sum));
      body.push_back(kir::store(acc, Expr(b), init(b)));
    }
    Stmt red = kir::block(update);
    for (size_t i = last; i-- > 0;) red = kir::for_loop(loops[i].first, zero, loops[i].second, kir::ForKind::kSerial, red);
    red = kir::for_loop(ci, zero, Expr(p.cg), kir::ForKind::kSerial, red);
    body.push_back(red);
    for (int64_t b = 0; b < block; ++b) body.push_back(ctx.write(0, out_idx(b), kir::load(acc, Expr(b))));
    return kir::allocate(acc, Expr(block), kir::block(body));
  };

  std::vector<Stmt> phases;
  for (int64_t phase = 0; phase < s && phase < p.out[last]; ++phase) {
    Taps taps;
    int64_t lo_delta = 0, hi_delta = 0;
    for (int64_t kl = 0; kl < p.kernel[last]; ++kl) {
      int64_t num = phase + pad - kl * d;
      if (((num % s) + s) % s != 0) continue;
      int64_t delta = (num - ((num % s) + s) % s) / s;  // exact: floor division
      lo_delta = taps.empty() ? delta : std::min(lo_delta, delta);
      hi_delta = taps.empty() ? delta : std::max(hi_delta, delta);
      taps.push_back({kl, delta});
    }
    int64_t count = (p.out[last] - phase + s - 1) / s;
    // q in [lo, hi) reads inside the input for every tap.
    int64_t lo = std::clamp<int64_t>(-lo_delta, 0, count);
    int64_t hi = std::clamp<int64_t>(in_last - hi_delta, lo, count);
    std::string name = "q" + std::to_string(phase);
    auto make = [&](bool checked) {
      return [&, checked](const Expr& q) { return point(q, phase, taps, checked); };
    };
    if (taps.empty()) lo = hi = count;  // only the bias: the checked loop writes it
    for (auto [b, e, checked] : {std::tuple{int64_t{0}, lo, true}, std::tuple{lo, hi, false}, std::tuple{hi, count, true}}) {
      Stmt loop = vector_loop(name, b, e, ctx.opts.f32_lanes, ctx.opts.vectorize(), make(checked));
      if (loop) phases.push_back(loop);
    }
  }
  return nest.build(kir::block(phases), ctx.opts.parallelize() && nest.total() * p.out[last] >= 4096);
}

}  // namespace kiln::ops
