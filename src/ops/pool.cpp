// MaxPool and AveragePool over the two spatial dimensions of NCHW input.
// Attributes: kernel:ints(2) strides:ints(2, default 1,1) pads:ints(4: top,
// left, bottom, right) dilations:ints(2) ceil_mode:i count_include_pad:i.
// Max ignores padding. Average divides by the number of in-bounds elements,
// or with count_include_pad by the window's positions inside the padded input
// (not the ceil_mode overhang beyond it), as ONNX Runtime does.
#include "ops/op_families.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;
using kir::Stmt;

namespace {

struct PoolParams {
  int64_t n, c, h, w;
  int64_t kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  int64_t oh, ow;
  bool count_include_pad;
};

// ONNX's output size; with ceil_mode the last window must start inside the
// input or its leading padding.
int64_t pool_out_size(int64_t in, int64_t k, int64_t s, int64_t pad_begin, int64_t pad_end, int64_t d, bool ceil_mode) {
  int64_t span = in + pad_begin + pad_end - (d * (k - 1) + 1);
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + pad_begin) --out;
  return out;
}

Expected<PoolParams> pool_params(const ir::Node& node) {
  const char* name = ir::op_name(node.op);
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  if (x.rank() != 4) return Status::invalid(std::string(name) + " supports 2-D NCHW inputs only, got " + x.str());
  if (node.op == OpKind::kAveragePool || dtype_is_float(x.dtype)) {
    KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  } else if (x.dtype == DType::kBool) {
    return Status::invalid("MaxPool does not take a bool input (" + x.str() + ")");
  }
  if (!node.attrs.has("kernel")) return Status::invalid(std::string(name) + " needs the attribute 'kernel'");
  std::vector<int64_t> kernel = node.attrs.get_ints("kernel");
  std::vector<int64_t> strides = node.attrs.get_ints("strides", {1, 1});
  std::vector<int64_t> pads = node.attrs.get_ints("pads", {0, 0, 0, 0});
  std::vector<int64_t> dil = node.attrs.get_ints("dilations", {1, 1});
  if (kernel.size() != 2 || kernel[0] < 1 || kernel[1] < 1)
    return Status::invalid(std::string(name) + " kernel " + ints_str(kernel) + " must be two positive numbers");
  if (strides.size() != 2 || strides[0] < 1 || strides[1] < 1)
    return Status::invalid(std::string(name) + " strides " + ints_str(strides) + " must be two positive numbers");
  if (pads.size() != 4 || pads[0] < 0 || pads[1] < 0 || pads[2] < 0 || pads[3] < 0)
    return Status::invalid(std::string(name) + " pads " + ints_str(pads) + " must be four non-negative numbers");
  if (dil.size() != 2 || dil[0] < 1 || dil[1] < 1)
    return Status::invalid(std::string(name) + " dilations " + ints_str(dil) + " must be two positive numbers");
  PoolParams p;
  p.n = x.shape[0], p.c = x.shape[1], p.h = x.shape[2], p.w = x.shape[3];
  p.kh = kernel[0], p.kw = kernel[1], p.sh = strides[0], p.sw = strides[1];
  p.pt = pads[0], p.pl = pads[1], p.pb = pads[2], p.pr = pads[3];
  p.dh = dil[0], p.dw = dil[1];
  if (p.pt >= p.kh || p.pb >= p.kh || p.pl >= p.kw || p.pr >= p.kw)
    return Status::invalid(std::string(name) + " pads " + ints_str(pads) + " must be smaller than the kernel " +
                           ints_str(kernel));
  if (p.h + p.pt + p.pb < p.dh * (p.kh - 1) + 1 || p.w + p.pl + p.pr < p.dw * (p.kw - 1) + 1)
    return Status::invalid(std::string(name) + " kernel " + ints_str(kernel) + " is larger than the padded input " +
                           x.str());
  bool ceil_mode = node.attrs.get_int("ceil_mode", 0) != 0;
  p.oh = pool_out_size(p.h, p.kh, p.sh, p.pt, p.pb, p.dh, ceil_mode);
  p.ow = pool_out_size(p.w, p.kw, p.sw, p.pl, p.pr, p.dw, ceil_mode);
  p.count_include_pad = node.attrs.get_int("count_include_pad", 0) != 0;
  return p;
}

}  // namespace

Status infer_pool(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_ASSIGN_OR_RETURN(PoolParams p, pool_params(node));
  outputs->assign(1, ir::TensorType{node.inputs[0]->type.dtype, {p.n, p.c, p.oh, p.ow}});
  return Status::ok();
}

// for n, c (parallel), oh, ow (vectorized): reduce the window into a local
// accumulator (and, for AveragePool, a local count), then write once.
Expected<Stmt> lower_pool(const LowerContext& ctx) {
  KILN_ASSIGN_OR_RETURN(PoolParams p, pool_params(ctx.node));
  bool is_max = ctx.node.op == OpKind::kMaxPool;
  DType dt = ctx.node.inputs[0]->type.dtype;
  kir::Type t = scalar_type(dt);
  LoopNest nest;
  Expr n = nest.add("n", p.n);
  Expr c = nest.add("c", p.c);
  Expr oh = nest.add("oh", p.oh);
  Expr zero = Expr(int64_t{0});

  auto point = [&](const Expr& ow) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", dt);
    kir::Buffer cnt = kir::make_buffer("cnt", dt);
    Expr kh = kir::var("kh"), kw = kir::var("kw");
    Expr ih = oh * Expr(p.sh) + kh * Expr(p.dh) - Expr(p.pt);
    Expr iw = ow * Expr(p.sw) + kw * Expr(p.dw) - Expr(p.pl);
    Expr inside = ih >= zero && ih < Expr(p.h) && iw >= zero && iw < Expr(p.w);
    Expr xv = ctx.read(0, {n, c, clamp_index(ih, p.h), clamp_index(iw, p.w)});
    Expr a0 = kir::load(acc, zero);
    std::vector<Stmt> update;
    Expr init;
    if (is_max) {
      init = lowest_value(dt);
      update.push_back(kir::store(acc, zero, kir::select(inside, kir::max(a0, xv), a0)));
    } else {
      init = kir::make_const(t, 0);
      update.push_back(kir::store(acc, zero, a0 + kir::select(inside, xv, kir::make_const(t, 0))));
      Expr counted = p.count_include_pad ? (ih < Expr(p.h + p.pb) && iw < Expr(p.w + p.pr)) : inside;
      Expr c0 = kir::load(cnt, zero);
      update.push_back(kir::store(cnt, zero, c0 + kir::select(counted, kir::make_const(t, 1), kir::make_const(t, 0))));
    }
    Stmt red = kir::for_loop(kw, zero, Expr(p.kw), kir::ForKind::kSerial, kir::block(update));
    red = kir::for_loop(kh, zero, Expr(p.kh), kir::ForKind::kSerial, red);
    // A window with nothing to count (possible with dilations) gives 0, as in ONNX Runtime.
    Expr result = is_max ? kir::load(acc, zero)
                         : kir::load(acc, zero) / kir::max(kir::load(cnt, zero), kir::make_const(t, 1));
    std::vector<Stmt> body = {kir::store(acc, zero, init)};
    if (!is_max) body.push_back(kir::store(cnt, zero, kir::make_const(t, 0)));
    body.push_back(red);
    body.push_back(ctx.write(0, {n, c, oh, ow}, result));
    Stmt s = kir::allocate(acc, Expr(int64_t{1}), kir::block(body));
    return is_max ? s : kir::allocate(cnt, Expr(int64_t{1}), s);
  };
  Stmt row = vector_loop("ow", 0, p.ow, ctx.opts.f32_lanes, ctx.opts.vectorize(), point);
  return nest.build(row, ctx.opts.parallelize() && nest.total() * p.ow >= 4096);
}

}  // namespace kiln::ops
