// ONNX image-layout ops: Col2Im (the core op of ops/col2im.cpp),
// CenterCropPad (a centered Slice, then zero blocks concatenated around it),
// MaxUnpool (a ScatterElements of X into zeros at MaxPool's flat indices) and
// DeformConv (ops/deform_conv.cpp, 2-D).
#include "base/strings.h"
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

namespace {

// The values of constant integer input i ("a non-constant NAME input" otherwise).
Expected<std::vector<int64_t>> const_ints(NodeContext& ctx, int i, const std::string& what) {
  const ir::Tensor* t = ctx.constant_input(i);
  if (!t) return ctx.unsupported("a non-constant " + what + " input");
  if (t->type().dtype != DType::kI64 && t->type().dtype != DType::kI32)
    return ctx.error(what + " must be int64, got " + t->type().str());
  return t->to_i64_vector();
}

// x with `before` and `after` zero entries around it along `axis`.
Expected<Value*> zero_pad_axis(NodeContext& ctx, Value* x, int64_t axis, int64_t before, int64_t after,
                               const std::string& what) {
  std::vector<Value*> parts;
  auto zeros = [&](int64_t n, const std::string& s) {
    ir::Shape shape = x->type.shape;
    shape[axis] = n;
    return ctx.constant(ir::Tensor(ir::TensorType{x->type.dtype, shape}), what + s);
  };
  if (before > 0) parts.push_back(zeros(before, "_before"));
  parts.push_back(x);
  if (after > 0) parts.push_back(zeros(after, "_after"));
  if (parts.size() == 1) return x;
  return ctx.add(OpKind::kConcat, parts, ir::Attrs().set("axis", axis), what);
}

}  // namespace

Status map_col2im(NodeContext& ctx) {
  Value* x = ctx.input(0);
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> image, const_ints(ctx, 1, "image_shape"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> block, const_ints(ctx, 2, "block_shape"));
  size_t k = image.size();
  if (block.size() != k) return ctx.error("image_shape and block_shape differ in length");
  ir::Attrs attrs;
  attrs.set("image", image).set("block", block);
  attrs.set("strides", ctx.attr_ints("strides", std::vector<int64_t>(k, 1)));
  attrs.set("dilations", ctx.attr_ints("dilations", std::vector<int64_t>(k, 1)));
  attrs.set("pads", ctx.attr_ints("pads", std::vector<int64_t>(2 * k, 0)));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kCol2Im, {x}, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_center_crop_pad(NodeContext& ctx) {
  Value* x = ctx.input(0);
  int64_t rank = x->type.rank();
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, const_ints(ctx, 1, "shape"));
  std::vector<int64_t> axes = ctx.attr_ints("axes", {});
  if (axes.empty())
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  if (axes.size() != shape.size())
    return ctx.error("shape has " + std::to_string(shape.size()) + " values for " + std::to_string(axes.size()) + " axes");
  std::vector<int64_t> starts(rank, 0), steps(rank, 1);
  ir::Shape cropped = x->type.shape;
  std::vector<std::pair<int64_t, int64_t>> pads(rank, {0, 0});
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < axes.size(); ++i) {
    auto a = normalize_axis(axes[i], rank);
    if (!a) return ctx.error("axis " + std::to_string(axes[i]) + " is out of range for input " + x->type.str());
    if (seen[*a]) return ctx.error("axis " + std::to_string(axes[i]) + " is repeated");
    seen[*a] = true;
    int64_t dim = x->type.shape[*a], want = shape[i];
    if (want < 0) return ctx.error("shape " + ints_str(shape) + " has a negative value");
    if (want < dim) {  // crop: the extra element of an odd difference goes at the end
      starts[*a] = (dim - want) / 2;
      cropped[*a] = want;
    } else if (want > dim) {
      pads[*a] = {(want - dim) / 2, want - dim - (want - dim) / 2};
    }
  }
  Value* y = x;
  if (cropped != x->type.shape) {
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kSlice, {x}, ir::Attrs().set("starts", starts).set("steps", steps).set("shape", cropped),
                                     "crop"));
  }
  for (int64_t a = 0; a < rank; ++a) {
    if (pads[a].first == 0 && pads[a].second == 0) continue;
    if (y->type.shape[a] == 0) return ctx.unsupported("padding an empty axis");
    KILN_ASSIGN_OR_RETURN(y, zero_pad_axis(ctx, y, a, pads[a].first, pads[a].second, "pad" + std::to_string(a)));
  }
  if (y == x) {
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kIdentity, {x}));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_max_unpool(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* ind = ctx.input(1);
  int64_t k = x->type.rank() - 2;
  if (k < 1) return ctx.error("needs an input of rank >= 3, got " + x->type.str());
  if (ind->type.shape != x->type.shape || ind->type.dtype != DType::kI64)
    return ctx.error("I must be int64 of X's shape " + ints_str(x->type.shape) + ", got " + ind->type.str());
  std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape", {});
  std::vector<int64_t> strides = ctx.attr_ints("strides", std::vector<int64_t>(k, 1));
  std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * k, 0));
  if (static_cast<int64_t>(kernel.size()) != k || static_cast<int64_t>(strides.size()) != k ||
      static_cast<int64_t>(pads.size()) != 2 * k)
    return ctx.error("kernel_shape " + ints_str(kernel) + ", strides " + ints_str(strides) + " and pads " +
                     ints_str(pads) + " must fit " + std::to_string(k) + " spatial dims");
  // The unpooled shape: what MaxPool's input was; indices are flat in it.
  ir::Shape inferred = {x->type.shape[0], x->type.shape[1]};
  for (int64_t i = 0; i < k; ++i) {
    int64_t d = (x->type.shape[2 + i] - 1) * strides[i] - (pads[i] + pads[k + i]) + kernel[i];
    if (d < 1) return ctx.error("the unpooled dimension " + std::to_string(i) + " would be empty");
    inferred.push_back(d);
  }
  ir::Shape out = inferred;
  if (ctx.has_input(2)) {
    KILN_ASSIGN_OR_RETURN(out, const_ints(ctx, 2, "output_shape"));
    if (out.size() != inferred.size()) return ctx.error("output_shape " + ints_str(out) + " has the wrong rank");
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i] < inferred[i] || (i < 2 && out[i] != inferred[i]))
        return ctx.error("output_shape " + ints_str(out) + " is smaller than the unpooled shape " +
                         ints_str(inferred));
  }
  int64_t total = 1;
  for (int64_t d : inferred) total *= d;
  int64_t n = x->type.num_elements();
  Value* zeros = ctx.constant(ir::Tensor(ir::TensorType{x->type.dtype, {total}}), "zeros");
  KILN_ASSIGN_OR_RETURN(Value * fi, ctx.reshape(ind, {n}, "flat_indices"));
  KILN_ASSIGN_OR_RETURN(Value * fx, ctx.reshape(x, {n}, "flat_values"));
  ir::Attrs attrs;
  attrs.set("axis", int64_t{0}).set("reduction", int64_t{0});
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kScatterElements, {zeros, fi, fx}, attrs, "scatter"));
  KILN_ASSIGN_OR_RETURN(y, ctx.reshape(y, inferred, "unpooled"));
  for (int64_t i = 2; i < static_cast<int64_t>(out.size()); ++i) {
    KILN_ASSIGN_OR_RETURN(y, zero_pad_axis(ctx, y, i, 0, out[i] - inferred[i], "pad" + std::to_string(i)));
  }
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_deform_conv(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* w = ctx.input(1);
  if (x->type.rank() != 4) return ctx.unsupported("DeformConv of a " + std::to_string(x->type.rank() - 2) + "-D input");
  if (x->type.dtype != DType::kF32 && x->type.dtype != DType::kF64) return ctx.unsupported("DeformConv of " + x->type.str());
  std::vector<int64_t> kernel(w->type.shape.begin() + 2, w->type.shape.end());
  if (ctx.has_attr("kernel_shape") && ctx.attr_ints("kernel_shape") != kernel)
    return ctx.error("kernel_shape " + ints_str(ctx.attr_ints("kernel_shape")) + " disagrees with W " + w->type.str());
  ir::Attrs attrs;
  attrs.set("strides", ctx.attr_ints("strides", {1, 1})).set("dilations", ctx.attr_ints("dilations", {1, 1}));
  attrs.set("pads", ctx.attr_ints("pads", {0, 0, 0, 0})).set("group", ctx.attr_int("group", 1));
  attrs.set("offset_group", ctx.attr_int("offset_group", 1));
  std::vector<Value*> ins = {x, w, ctx.input(2)};
  attrs.set("has_bias", int64_t{ctx.has_input(3)}).set("has_mask", int64_t{ctx.has_input(4)});
  if (ctx.has_input(3)) ins.push_back(ctx.input(3));
  if (ctx.has_input(4)) ins.push_back(ctx.input(4));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kDeformConv, ins, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
