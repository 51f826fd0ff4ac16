// ReduceMean/Sum/Max/Min/Prod over a set of axes. Attributes: axes:ints (sorted,
// non-negative; absent or empty: all axes) keepdims:i (default 1). Max and Min
// take bool (any / all); over an empty axis they give their identity, as ONNX
// says: -inf / +inf for floats, the lowest / highest value for integers.
#include "ops/op_families.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;
using kir::Stmt;

namespace {

Expected<std::vector<bool>> reduced_axes(const ir::Node& node) {
  const ir::TensorType& x = node.inputs[0]->type;
  std::vector<int64_t> axes = node.attrs.get_ints("axes", {});
  std::vector<bool> reduced(x.rank(), axes.empty());
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= x.rank())
      return Status::invalid(std::string(ir::op_name(node.op)) + " axes " + ints_str(axes) +
                             " are out of range for " + x.str());
    if (i > 0 && axes[i] <= axes[i - 1])
      return Status::invalid(std::string(ir::op_name(node.op)) + " axes " + ints_str(axes) +
                             " must be sorted and distinct");
    reduced[axes[i]] = true;
  }
  return reduced;
}

}  // namespace

Status infer_reduce(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  if (node.op == OpKind::kReduceMean) {
    KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  } else if (x.dtype == DType::kBool && node.op != OpKind::kReduceMax && node.op != OpKind::kReduceMin) {
    return Status::invalid(std::string(ir::op_name(node.op)) + " does not take a bool input (" + x.str() + ")");
  }
  KILN_ASSIGN_OR_RETURN(std::vector<bool> reduced, reduced_axes(node));
  bool keepdims = node.attrs.get_int("keepdims", 1) != 0;
  ir::Shape shape;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (!reduced[d]) shape.push_back(x.shape[d]);
    else if (keepdims) shape.push_back(1);
  }
  outputs->assign(1, ir::TensorType{x.dtype, shape});
  return Status::ok();
}

// for the output's dimensions (outermost parallel, innermost vectorized):
//   acc = init; for each reduced axis: acc = combine(acc, x); write(acc [/ count]).
Expected<Stmt> lower_reduce(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  KILN_ASSIGN_OR_RETURN(std::vector<bool> reduced, reduced_axes(node));
  const ir::TensorType& x = node.inputs[0]->type;
  const ir::Shape& out_shape = node.outputs[0]->type.shape;
  bool keepdims = out_shape.size() == x.shape.size();
  kir::Type t = scalar_type(x.dtype);
  Expr zero = Expr(int64_t{0});
  int64_t count = 1;
  for (int64_t d = 0; d < x.rank(); ++d)
    if (reduced[d]) count *= x.shape[d];

  // Loops over the output dimensions before the vector one (see vector_dim).
  std::vector<size_t> dims(out_shape.size());
  for (size_t i = 0; i < dims.size(); ++i) dims[i] = i;
  size_t vd = dims.empty() ? 0 : vector_dim(out_shape, dims);
  LoopNest nest;
  std::vector<Expr> out_idx(out_shape.size(), Expr(int64_t{0}));
  for (size_t i = 0; i < vd; ++i) out_idx[i] = nest.add("i" + std::to_string(i), out_shape[i]);

  auto point = [&](const std::vector<Expr>& oidx) -> Stmt {
    kir::Buffer acc = kir::make_buffer("acc", x.dtype);
    std::vector<Expr> in_idx;
    std::vector<std::pair<Expr, int64_t>> rloops;
    size_t j = 0;
    for (int64_t d = 0; d < x.rank(); ++d) {
      if (reduced[d]) {
        Expr r = kir::var("r" + std::to_string(d));
        rloops.push_back({r, x.shape[d]});
        in_idx.push_back(r);
        if (keepdims) ++j;
      } else {
        in_idx.push_back(oidx[j++]);
      }
    }
    Expr a0 = kir::load(acc, zero);
    Expr xv = ctx.read(0, in_idx);
    Expr init, next;
    switch (node.op) {
      case OpKind::kReduceMax: init = lowest_value(x.dtype), next = kir::max(a0, xv); break;
      case OpKind::kReduceMin: init = highest_value(x.dtype), next = kir::min(a0, xv); break;
      case OpKind::kReduceProd: init = kir::make_const(t, 1), next = a0 * xv; break;
      default: init = kir::make_const(t, 0), next = a0 + xv; break;
    }
    Stmt red = kir::store(acc, zero, next);
    for (size_t i = rloops.size(); i-- > 0;)
      red = kir::for_loop(rloops[i].first, zero, Expr(rloops[i].second), kir::ForKind::kSerial, red);
    Expr result = kir::load(acc, zero);
    if (node.op == OpKind::kReduceMean) result = result * kir::make_const(t, 1.0 / static_cast<double>(count));
    Stmt body = kir::block({kir::store(acc, zero, init), red, ctx.write(0, oidx, result)});
    return kir::allocate(acc, Expr(int64_t{1}), body);
  };

  Stmt inner;
  int64_t inner_extent = out_shape.empty() ? 1 : out_shape[vd];
  if (out_shape.empty()) {
    inner = point({});
  } else {
    inner = vector_loop("i" + std::to_string(vd), 0, inner_extent, ctx.opts.f32_lanes, ctx.opts.vectorize(),
                        [&](const Expr& i) {
                          std::vector<Expr> full = out_idx;
                          full[vd] = i;
                          return point(full);
                        });
  }
  bool parallel = ctx.opts.parallelize() && nest.total() * inner_extent * count >= 16 * 1024;
  return nest.build(inner, parallel);
}

}  // namespace kiln::ops
