// Shape-changing ONNX ops -> core Reshape/Transpose/Concat/Gather. Reshape-like
// ops (Reshape, Flatten, Squeeze, Unsqueeze) all become a core Reshape whose
// `shape` attribute is fully static; Shape becomes a constant, and integer shape
// arithmetic on constants is evaluated here (shape_eval.h).
#include <algorithm>
#include <numeric>
#include <sstream>

#include "base/strings.h"
#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Shape;
using ir::Value;

// ONNX Reshape's target (0 = copy the input dim unless allowzero, -1 = inferred) -> a static shape.
Expected<Shape> resolve_reshape(NodeContext& ctx, const ir::TensorType& in, const std::vector<int64_t>& target,
                                bool allowzero) {
  Shape out(target.size());
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == -1) {
      if (infer_at >= 0) return ctx.error("shape " + ints_str(target) + " has more than one -1");
      infer_at = static_cast<int>(i);
      continue;
    }
    if (d == 0 && !allowzero) {
      if (i >= in.shape.size())
        return ctx.error("shape " + ints_str(target) + " copies dim " + std::to_string(i) + " (0) but input " +
                         in.str() + " has rank " + std::to_string(in.rank()));
      d = in.shape[i];
    }
    if (d < 0) return ctx.error("shape " + ints_str(target) + " has a negative dimension");
    out[i] = d;
    known *= d;
  }
  int64_t total = in.num_elements();
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0)
      return ctx.error("cannot reshape " + in.str() + " to " + ints_str(target));
    out[infer_at] = total / known;
  } else if (known != total) {
    return ctx.error("cannot reshape " + in.str() + " (" + std::to_string(total) + " elements) to " +
                     ints_str(target));
  }
  return out;
}

// Axes from the attribute (before `input_opset`) or from constant input 1.
// `present` is false when neither holds any.
Expected<std::vector<int64_t>> axes_operand(NodeContext& ctx, int64_t input_opset, bool* present) {
  *present = true;
  if (ctx.opset() < input_opset) {
    *present = ctx.has_attr("axes");
    return ctx.attr_ints("axes");
  }
  if (!ctx.has_input(1)) {
    *present = false;
    return std::vector<int64_t>{};
  }
  const ir::Tensor* t = ctx.constant_input(1);
  if (!t) return ctx.unsupported("a non-constant axes input");
  return t->to_i64_vector();
}

Status bind_reshape(NodeContext& ctx, Value* x, const Shape& shape) {
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.reshape(x, shape));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace

Status map_reshape(NodeContext& ctx) {
  Value* x = ctx.input(0);
  const ir::Tensor* target = ctx.constant_input(1);
  if (!target)
    return ctx.error("the shape input '" + ctx.proto().input(1) +
                     "' is not a constant; kiln needs static shapes (pin the model's symbolic dims "
                     "with --input_shapes)");
  KILN_ASSIGN_OR_RETURN(Shape shape,
                        resolve_reshape(ctx, x->type, target->to_i64_vector(), ctx.attr_int("allowzero", 0) != 0));
  return bind_reshape(ctx, x, shape);
}

Status map_flatten(NodeContext& ctx) {
  Value* x = ctx.input(0);
  int64_t rank = x->type.rank();
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < -rank || axis > rank)
    return ctx.error("axis " + std::to_string(axis) + " is out of range for input " + x->type.str());
  if (axis < 0) axis += rank;
  const Shape& s = x->type.shape;
  int64_t outer = std::accumulate(s.begin(), s.begin() + axis, int64_t{1}, std::multiplies<>());
  int64_t inner = std::accumulate(s.begin() + axis, s.end(), int64_t{1}, std::multiplies<>());
  return bind_reshape(ctx, x, {outer, inner});
}

Status map_squeeze(NodeContext& ctx) {
  Value* x = ctx.input(0);
  const Shape& s = x->type.shape;
  bool present = false;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, axes_operand(ctx, 13, &present));
  std::vector<bool> drop(s.size(), false);
  if (!present) {
    for (size_t i = 0; i < s.size(); ++i) drop[i] = s[i] == 1;
  }
  for (int64_t a : axes) {
    auto n = normalize_axis(a, x->type.rank());
    if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range for input " + x->type.str());
    if (s[*n] != 1)
      return ctx.error("cannot squeeze axis " + std::to_string(a) + " of input " + x->type.str() +
                       ": its size is not 1");
    drop[*n] = true;
  }
  Shape out;
  for (size_t i = 0; i < s.size(); ++i)
    if (!drop[i]) out.push_back(s[i]);
  return bind_reshape(ctx, x, out);
}

Status map_unsqueeze(NodeContext& ctx) {
  Value* x = ctx.input(0);
  bool present = false;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, axes_operand(ctx, 13, &present));
  if (!present || axes.empty()) return ctx.error("needs axes");
  int64_t out_rank = x->type.rank() + static_cast<int64_t>(axes.size());
  std::vector<bool> inserted(out_rank, false);
  for (int64_t a : axes) {
    auto n = normalize_axis(a, out_rank);
    if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range for output rank " +
                             std::to_string(out_rank));
    if (inserted[*n]) return ctx.error("axes " + ints_str(axes) + " repeat an axis");
    inserted[*n] = true;
  }
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : x->type.shape[next++]);
  return bind_reshape(ctx, x, out);
}

Status map_transpose(NodeContext& ctx) {
  Value* x = ctx.input(0);
  int64_t rank = x->type.rank();
  std::vector<int64_t> perm(rank);
  for (int64_t i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
  perm = ctx.attr_ints("perm", perm);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < static_cast<int64_t>(sorted.size()); ++i)
    if (sorted[i] != i || static_cast<int64_t>(sorted.size()) != rank)
      return ctx.error("perm " + ints_str(perm) + " is not a permutation of input " + x->type.str());
  if (std::is_sorted(perm.begin(), perm.end())) {
    ctx.set_output(0, x);
    return Status::ok();
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kTranspose, {x}, ir::Attrs().set("perm", perm)));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_concat(NodeContext& ctx) {
  std::vector<Value*> ins;
  for (int i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) ins.push_back(ctx.input(i));
  if (ins.empty()) return ctx.error("needs at least one input");
  if (!ctx.has_attr("axis")) return ctx.error("attribute 'axis' is missing");
  int64_t axis = ctx.attr_int("axis", 0);
  auto n = normalize_axis(axis, ins[0]->type.rank());
  if (!n) return ctx.error("axis " + std::to_string(axis) + " is out of range for input " + ins[0]->type.str());
  bool fold = true;
  for (Value* v : ins) {
    fold = fold && is_foldable(v) && v->type.dtype == ins[0]->type.dtype && v->type.rank() == ins[0]->type.rank();
    for (int64_t d = 0; fold && d < v->type.rank(); ++d)
      fold = d == *n || v->type.shape[d] == ins[0]->type.shape[d];
  }
  if (fold) {
    std::vector<const ir::Tensor*> parts;
    for (Value* v : ins) parts.push_back(&*v->constant);
    ctx.set_output(0, ctx.constant(eval_concat(parts, *n), "concat"));
    return Status::ok();
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kConcat, ins, ir::Attrs().set("axis", *n)));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_gather(NodeContext& ctx) {
  Value* data = ctx.input(0);
  Value* indices = ctx.input(1);
  int64_t axis = ctx.attr_int("axis", 0);
  auto n = normalize_axis(axis, data->type.rank());
  if (!n) return ctx.error("axis " + std::to_string(axis) + " is out of range for input " + data->type.str());
  if (is_foldable(data) && is_foldable(indices)) {
    auto t = eval_gather(*data->constant, *indices->constant, *n);
    if (!t) return ctx.error(t.status().message());
    ctx.set_output(0, ctx.constant(std::move(*t), "gather"));
    return Status::ok();
  }
  // Constant negative indices are made non-negative here (the core op takes [0, dim)).
  if (is_foldable(indices)) {
    std::vector<int64_t> idx = indices->constant->to_i64_vector();
    int64_t dim = data->type.shape[*n];
    bool changed = false;
    for (int64_t& i : idx) {
      if (i < -dim || i >= dim)
        return ctx.error("index " + std::to_string(i) + " is out of range for axis " + std::to_string(axis) +
                         " of input " + data->type.str());
      if (i < 0) {
        i += dim;
        changed = true;
      }
    }
    if (changed) indices = ctx.constant(make_int_tensor(indices->type.dtype, indices->type.shape, idx), "indices");
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kGather, {data, indices}, ir::Attrs().set("axis", *n)));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_shape(NodeContext& ctx) {
  const Shape& s = ctx.input(0)->type.shape;
  int64_t rank = static_cast<int64_t>(s.size());
  auto clamp = [rank](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
  int64_t start = clamp(ctx.attr_int("start", 0));
  int64_t end = clamp(ctx.attr_int("end", rank));
  Shape dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(s[i]);
  ctx.set_output(0, ctx.constant(ir::Tensor::from_i64({static_cast<int64_t>(dims.size())}, dims), "shape"));
  return Status::ok();
}

namespace {

// Dropout is Identity with an all-true mask (all ones of x's type before opset
// 10) unless it runs in training mode (input 2 from opset 12) with a ratio
// above 0, where it drops at random: that is not supported. With ratio 0 the
// ONNX reference keeps every element in training mode as well.
Status map_dropout(NodeContext& ctx) {
  Value* x = ctx.input(0);
  bool training = false;
  if (ctx.has_input(2)) {
    const ir::Tensor* t = ctx.constant_input(2);
    if (!t) return ctx.unsupported("a non-constant training_mode input");
    if (t->type().num_elements() != 1) return ctx.error("training_mode " + t->type().str() + " must be a scalar");
    training = t->get_i64(0) != 0;
  }
  if (training) {
    double ratio = 0.5;
    if (ctx.has_input(1)) {
      const ir::Tensor* r = ctx.constant_input(1);
      if (!r) return ctx.unsupported("training mode with a non-constant ratio input");
      if (r->type().num_elements() != 1) return ctx.error("ratio " + r->type().str() + " must be a scalar");
      ratio = r->get_f64(0);
    }
    if (ratio != 0) {
      std::ostringstream r;
      r << ratio;
      return ctx.unsupported("training mode with ratio " + r.str() + " (it drops elements at random)");
    }
  }
  ctx.set_output(0, x);
  if (ctx.output_used(1)) {
    DType mask_type = ctx.opset() >= 10 ? DType::kBool : x->type.dtype;
    KILN_ASSIGN_OR_RETURN(Value * mask, ctx.add(OpKind::kExpand, {ctx.scalar(mask_type, 1.0, "one")},
                                                ir::Attrs().set("shape", x->type.shape), "mask"));
    ctx.set_output(1, mask);
  }
  return Status::ok();
}

}  // namespace

Status map_identity(NodeContext& ctx) {
  if (ctx.op_type() == "Dropout") return map_dropout(ctx);
  ctx.set_output(0, ctx.input(0));
  return Status::ok();
}

}  // namespace kiln::frontend
