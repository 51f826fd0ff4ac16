// ONNX index and selection ops: ArgMax/ArgMin, TopK (indices core op + a
// GatherElements of the values), Hardmax, CumSum/CumProd, GatherElements, GatherND,
// and the ones composed from masks and broadcasting: Trilu, Tile, OneHot, EyeLike.
#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"
#include "frontend/onnx/tensor.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

Expected<int64_t> axis_attr(NodeContext& ctx, const Value* x, int64_t dflt) {
  int64_t a = ctx.attr_int("axis", dflt);
  auto n = normalize_axis(a, x->type.rank());
  if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + x->type.str());
  return *n;
}

// The single integer held by constant input i.
Expected<int64_t> scalar_input(NodeContext& ctx, int i, const char* what) {
  const ir::Tensor* t = ctx.constant_input(i);
  if (!t) return ctx.unsupported(std::string("a non-constant ") + what + " input");
  if (t->type().num_elements() != 1) return ctx.error(std::string(what) + " must hold one value");
  return t->get_i64(0);
}

// The int64 tensor 0..n-1 laid along `axis` of a rank-`rank` shape of ones.
ir::Tensor iota_along(int64_t n, int64_t axis, int64_t rank) {
  ir::Shape shape(rank, 1);
  shape[axis] = n;
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return make_int_tensor(DType::kI64, shape, v);
}

}  // namespace

Status map_argminmax(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(int64_t axis, axis_attr(ctx, x, 0));
  ir::Attrs attrs;
  attrs.set("axis", axis).set("keepdims", ctx.attr_int("keepdims", 1))
      .set("select_last_index", ctx.attr_int("select_last_index", 0));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(*ir::op_from_name(ctx.op_type()), {x}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_hardmax(NodeContext& ctx) {
  Value* x = ctx.input(0);
  const ir::Shape& shape = x->type.shape;
  Value* v = x;
  int64_t axis = 0;
  if (ctx.opset() < 13) {
    // Before opset 13 the input is seen as 2-D: [prod(shape[:axis]), prod(shape[axis:])].
    KILN_ASSIGN_OR_RETURN(int64_t a, axis_attr(ctx, x, 1));
    int64_t rows = 1, cols = 1;
    for (int64_t d = 0; d < x->type.rank(); ++d) (d < a ? rows : cols) *= shape[d];
    KILN_ASSIGN_OR_RETURN(v, ctx.reshape(x, {rows, cols}, "as_2d"));
    axis = 1;
  } else {
    KILN_ASSIGN_OR_RETURN(axis, axis_attr(ctx, x, -1));
  }
  ir::Attrs attrs;
  attrs.set("axis", axis).set("keepdims", int64_t{1});
  KILN_ASSIGN_OR_RETURN(Value * arg, ctx.add(OpKind::kArgMax, {v}, attrs, "argmax"));
  Value* iota = ctx.constant(iota_along(v->type.shape[axis], axis, v->type.rank()), "iota");
  KILN_ASSIGN_OR_RETURN(Value * eq, ctx.add(OpKind::kEqual, {iota, arg}, {}, "is_max"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kCast, {eq}, ir::Attrs().set("to", static_cast<int64_t>(x->type.dtype)),
                                           v == x ? "" : "cast"));
  KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, shape));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_topk(NodeContext& ctx) {
  Value* x = ctx.input(0);
  int64_t k = 0;
  if (ctx.opset() < 10) {
    k = ctx.attr_int("k", 0);
  } else {
    if (!ctx.has_input(1)) return ctx.error("input K is missing");
    KILN_ASSIGN_OR_RETURN(k, scalar_input(ctx, 1, "K"));
  }
  KILN_ASSIGN_OR_RETURN(int64_t axis, axis_attr(ctx, x, -1));
  ir::Attrs attrs;
  attrs.set("axis", axis).set("k", k).set("largest", ctx.attr_int("largest", 1));
  // sorted=0 leaves the order open: the sorted order is one.
  KILN_ASSIGN_OR_RETURN(Value * ind, ctx.add(OpKind::kTopKIndices, {x}, attrs, "indices"));
  KILN_ASSIGN_OR_RETURN(Value * vals, ctx.add(OpKind::kGatherElements, {x, ind}, ir::Attrs().set("axis", axis), "values"));
  ctx.set_output(0, vals);
  if (ctx.num_outputs() > 1) ctx.set_output(1, ind);
  return Status::ok();
}

Status map_cumsum(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(int64_t a, scalar_input(ctx, 1, "axis"));
  auto axis = normalize_axis(a, x->type.rank());
  if (!axis) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + x->type.str());
  ir::Attrs attrs;
  attrs.set("axis", *axis).set("exclusive", ctx.attr_int("exclusive", 0)).set("reverse", ctx.attr_int("reverse", 0));
  OpKind op = ctx.op_type() == "CumProd" ? OpKind::kCumProd : OpKind::kCumSum;
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(op, {x}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_gather_elements(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(int64_t axis, axis_attr(ctx, x, 0));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kGatherElements, {x, ctx.input(1)}, ir::Attrs().set("axis", axis)));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_gather_nd(NodeContext& ctx) {
  ir::Attrs attrs;
  attrs.set("batch_dims", ctx.attr_int("batch_dims", 0));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kGatherND, {ctx.input(0), ctx.input(1)}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_trilu(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (x->type.rank() < 2) return ctx.error("needs an input of rank >= 2, got " + x->type.str());
  if (x->type.dtype == DType::kF16) return ctx.unsupported("a float16 input");
  bool upper = ctx.attr_int("upper", 1) != 0;
  int64_t rows = x->type.shape[x->type.rank() - 2], cols = x->type.shape.back();
  // Keeps the elements with j - i >= k (upper) or j - i <= k (lower) in the
  // last two dimensions: a constant mask when k is known, else computed.
  const ir::Tensor* kt = ctx.has_input(1) ? ctx.constant_input(1) : nullptr;
  Value* mask = nullptr;
  if (!ctx.has_input(1) || kt) {
    int64_t k = 0;
    if (kt) {
      KILN_ASSIGN_OR_RETURN(k, scalar_input(ctx, 1, "k"));
    }
    std::vector<int64_t> m(rows * cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) m[i * cols + j] = upper ? j - i >= k : j - i <= k;
    mask = ctx.constant(eval_cast(make_int_tensor(DType::kI64, {rows, cols}, m), DType::kBool), "mask");
  } else {
    Value* k = ctx.input(1);
    if (k->type.num_elements() != 1 || k->type.dtype != DType::kI64)
      return ctx.error("k must be one int64, got " + k->type.str());
    std::vector<int64_t> diag(rows * cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) diag[i * cols + j] = j - i;
    Value* d = ctx.constant(make_int_tensor(DType::kI64, {rows, cols}, diag), "diagonal");
    KILN_ASSIGN_OR_RETURN(Value * ks, ctx.reshape(k, {}, "k_scalar"));
    // upper: !(d < k); lower: !(d > k).
    KILN_ASSIGN_OR_RETURN(Value * out, ctx.add(upper ? OpKind::kLess : OpKind::kGreater, {d, ks}, {}, "outside"));
    KILN_ASSIGN_OR_RETURN(mask, ctx.add(OpKind::kNot, {out}, {}, "mask"));
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kWhere, {mask, x, ctx.scalar(x->type.dtype, 0, "zero")}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_tile(NodeContext& ctx) {
  Value* x = ctx.input(0);
  const ir::Tensor* r = ctx.constant_input(1);
  if (!r) return ctx.unsupported("a non-constant repeats input");
  std::vector<int64_t> reps = r->to_i64_vector();
  const ir::Shape& s = x->type.shape;
  if (static_cast<int64_t>(reps.size()) != x->type.rank())
    return ctx.error("repeats " + std::to_string(reps.size()) + " values for input " + x->type.str());
  // x[d0, d1, ..] -> [1, d0, 1, d1, ..] -> expand to [r0, d0, r1, d1, ..] -> [r0*d0, r1*d1, ..].
  ir::Shape split, expanded, out;
  for (size_t d = 0; d < s.size(); ++d) {
    if (reps[d] < 0) return ctx.error("repeats must be non-negative");
    split.insert(split.end(), {1, s[d]});
    expanded.insert(expanded.end(), {reps[d], s[d]});
    out.push_back(reps[d] * s[d]);
  }
  if (out == s) {
    ctx.set_output(0, x);
    return Status::ok();
  }
  KILN_ASSIGN_OR_RETURN(Value * a, ctx.reshape(x, split, "split"));
  KILN_ASSIGN_OR_RETURN(Value * b, ctx.add(OpKind::kExpand, {a}, ir::Attrs().set("shape", expanded), "expand"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.reshape(b, out));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_one_hot(NodeContext& ctx) {
  Value* indices = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(int64_t depth, scalar_input(ctx, 1, "depth"));
  Value* values = ctx.input(2);
  if (values->type.num_elements() != 2) return ctx.error("values must hold [off, on], got " + values->type.str());
  int64_t rank = indices->type.rank() + 1;
  int64_t a = ctx.attr_int("axis", -1);
  auto axis = normalize_axis(a, rank);
  if (!axis) return ctx.error("axis " + std::to_string(a) + " is out of range for output rank " + std::to_string(rank));
  // Indices as int64 (floats truncate), negative ones counted from depth.
  Value* idx = indices;
  if (idx->type.dtype != DType::kI64) {
    KILN_ASSIGN_OR_RETURN(idx, ctx.add(OpKind::kCast, {idx}, ir::Attrs().set("to", static_cast<int64_t>(DType::kI64)), "i64"));
  }
  Value* zero = ctx.scalar(DType::kI64, 0, "zero");
  KILN_ASSIGN_OR_RETURN(Value * neg, ctx.add(OpKind::kLess, {idx, zero}, {}, "neg"));
  KILN_ASSIGN_OR_RETURN(Value * shifted, ctx.add(OpKind::kAdd, {idx, ctx.scalar(DType::kI64, depth, "depth")}, {}, "shifted"));
  KILN_ASSIGN_OR_RETURN(Value * wrapped, ctx.add(OpKind::kWhere, {neg, shifted, idx}, {}, "wrapped"));
  ir::Shape unsq = indices->type.shape;
  unsq.insert(unsq.begin() + *axis, 1);
  KILN_ASSIGN_OR_RETURN(Value * col, ctx.reshape(wrapped, unsq, "unsqueezed"));
  Value* iota = ctx.constant(iota_along(depth, *axis, rank), "iota");
  KILN_ASSIGN_OR_RETURN(Value * hot, ctx.add(OpKind::kEqual, {col, iota}, {}, "hot"));
  KILN_ASSIGN_OR_RETURN(Value * flat, ctx.reshape(values, {2}, "values"));
  KILN_ASSIGN_OR_RETURN(Value * off, ctx.add(OpKind::kGather, {flat, ctx.scalar(DType::kI64, 0, "off_index")},
                                             ir::Attrs().set("axis", int64_t{0}), "off"));
  KILN_ASSIGN_OR_RETURN(Value * on, ctx.add(OpKind::kGather, {flat, ctx.scalar(DType::kI64, 1, "on_index")},
                                            ir::Attrs().set("axis", int64_t{0}), "on"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kWhere, {hot, on, off}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_eye_like(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (x->type.rank() != 2) return ctx.error("needs a 2-D input, got " + x->type.str());
  DType dtype = x->type.dtype;
  if (ctx.has_attr("dtype")) {
    int64_t to = ctx.attr_int("dtype", 0);
    std::optional<DType> d = dtype_from_onnx(static_cast<int32_t>(to));
    if (!d) return ctx.unsupported("dtype " + onnx_type_name(static_cast<int32_t>(to)));
    dtype = *d;
  }
  if (dtype == DType::kF16) return ctx.unsupported("a float16 output");
  int64_t k = ctx.attr_int("k", 0);
  int64_t rows = x->type.shape[0], cols = x->type.shape[1];
  std::vector<int64_t> eye(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) eye[i * cols + j] = j - i == k;
  ir::Tensor t = make_int_tensor(DType::kI64, {rows, cols}, eye);
  ctx.set_output(0, ctx.constant(dtype == DType::kI64 ? t : eval_cast(t, dtype), "eye"));
  return Status::ok();
}

}  // namespace kiln::frontend
