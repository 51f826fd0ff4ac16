// ConvTranspose over any number of spatial dims, as a gather: each output
// element sums x * w over the input positions and taps that map to it.
// Attributes: strides:ints(k) pads:ints(2k: begins, then ends) dilations:ints(k)
// output_padding:ints(k) group:i. Inputs X[N,C,i...], W[C, M/group, k...], B[M].
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

struct ConvTransposeParams {
  int64_t n, c, m, group, cg, mg;  // cg, mg: input and output channels per group
  std::vector<int64_t> in, kernel, strides, pad_begin, dilations, out;
};

Expected<ConvTransposeParams> conv_transpose_params(const ir::Node& node) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 2, 3));
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  const ir::TensorType& x = node.inputs[0]->type;
  const ir::TensorType& w = node.inputs[1]->type;
  if (x.rank() < 3) return Status::invalid("ConvTranspose needs an input of rank 3 or more, got " + x.str());
  size_t k = static_cast<size_t>(x.rank() - 2);
  if (w.rank() != x.rank() || w.dtype != x.dtype)
    return Status::invalid("ConvTranspose weights " + w.str() + " must be " + dtype_name(x.dtype) + " of rank " +
                           std::to_string(x.rank()) + " for input " + x.str());
  ConvTransposeParams p;
  p.n = x.shape[0], p.c = x.shape[1];
  p.group = node.attrs.get_int("group", 1);
  if (p.group < 1 || p.c % p.group != 0 || w.shape[0] != p.c)
    return Status::invalid("ConvTranspose input " + x.str() + ", weights " + w.str() + " and group " +
                           std::to_string(p.group) + " do not agree");
  p.cg = p.c / p.group, p.mg = w.shape[1], p.m = p.mg * p.group;
  p.in.assign(x.shape.begin() + 2, x.shape.end());
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

}  // namespace

Status infer_conv_transpose(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_ASSIGN_OR_RETURN(ConvTransposeParams p, conv_transpose_params(node));
  ir::Shape out = {p.n, p.m};
  out.insert(out.end(), p.out.begin(), p.out.end());
  outputs->assign(1, ir::TensorType{node.inputs[0]->type.dtype, out});
  return Status::ok();
}

// for n, m (parallel), outer output dims, the last (vectorized): accumulate over
// the group's input channels and the taps; a tap contributes when
// (o + pad - tap * dilation) is a multiple of the stride inside the input.
Expected<Stmt> lower_conv_transpose(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(ConvTransposeParams p, conv_transpose_params(ctx.node));
  DType dt = ctx.node.inputs[0]->type.dtype;
  kir::Type t = scalar_type(dt);
  size_t k = p.in.size();
  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr m = nest.add("m", p.m);
  std::vector<Expr> outer;
  for (size_t i = 0; i + 1 < k; ++i) outer.push_back(nest.add("o" + std::to_string(i), p.out[i]));
  Expr zero = Expr(int64_t{0});
  Expr fzero = kir::make_const(t, 0);
  Expr g = m / Expr(p.mg);
  Expr mi = m % Expr(p.mg);

  auto point = [&](const Expr& last) -> Stmt {
    std::vector<Expr> o = outer;
    o.push_back(last);
    kir::Buffer acc = kir::make_buffer("acc", dt);
    Expr ci = kir::var("ci");
    Expr ic = g * Expr(p.cg) + ci;
    std::vector<Expr> kv, x_idx = {n, ic}, w_idx = {ic, mi};
    Expr valid;
    for (size_t i = 0; i < k; ++i) {
      kv.push_back(kir::var("k" + std::to_string(i)));
      Expr num = o[i] + Expr(p.pad_begin[i]) - kv[i] * Expr(p.dilations[i]);
      Expr q = num / Expr(p.strides[i]);
      Expr v = num >= zero && q < Expr(p.in[i]);
      if (p.strides[i] > 1) v = v && (num % Expr(p.strides[i])) == zero;
      valid = i == 0 ? v : (valid && v);
      x_idx.push_back(clamp_index(q, p.in[i]));
      w_idx.push_back(kv[i]);
    }
    Expr a0 = kir::load(acc, zero);
    Expr term = kir::select(valid, ctx.read(0, x_idx) * ctx.read(1, w_idx), fzero);
    Stmt red = kir::store(acc, zero, a0 + term);
    for (size_t i = k; i-- > 0;) red = kir::for_loop(kv[i], zero, Expr(p.kernel[i]), kir::ForKind::kSerial, red);
    red = kir::for_loop(ci, zero, Expr(p.cg), kir::ForKind::kSerial, red);
    Expr init = ctx.node.inputs.size() == 3 ? ctx.read(2, {m}) : fzero;
    std::vector<Expr> out_idx = {n, m};
    out_idx.insert(out_idx.end(), o.begin(), o.end());
    Stmt body = kir::block({kir::store(acc, zero, init), red, ctx.write(0, out_idx, kir::load(acc, zero))});
    return kir::allocate(acc, Expr(int64_t{1}), body);
  };
  int64_t last = p.out[k - 1];
  Stmt row = vector_loop("o" + std::to_string(k - 1), 0, last, ctx.opts.f32_lanes, ctx.opts.vectorize(), point);
  return nest.build(row, ctx.opts.parallelize() && nest.total() * last >= 4096);
}

}  // namespace kiln::ops
