// Pad, DepthToSpace and SpaceToDepth -> compositions of core data movement:
// Pad is a Slice for negative pads, then per padded axis a Gather of the
// source positions (edge/reflect/wrap) or of clamped ones with a Where that
// fills the constant; the depth/space ops are Reshape + Transpose + Reshape.
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;

// Padded axes stay below 2^31 positions (the index tables are built here).
constexpr int64_t kMaxPaddedDim = int64_t{1} << 31;

// The source index of padded position i (of n + pb + pe) along an axis of n.
int64_t pad_source(const std::string& mode, int64_t i, int64_t pb, int64_t n) {
  int64_t j = i - pb;
  if (mode == "wrap") return ((j % n) + n) % n;
  if (mode == "reflect" && n > 1) {
    int64_t period = 2 * (n - 1);
    j = ((j % period) + period) % period;
    return j < n ? j : period - j;
  }
  return std::clamp<int64_t>(j, 0, n - 1);  // edge, and constant's in-range positions
}

// The pads input (or attribute) as int64s, with the axes they apply to.
Expected<std::vector<int64_t>> pad_amounts(NodeContext& ctx, int64_t rank) {
  std::vector<int64_t> pads;
  if (ctx.opset() < 11) {
    pads = ctx.attr_ints(ctx.has_attr("pads") ? "pads" : "paddings");
  } else {
    const ir::Tensor* t = ctx.constant_input(1);
    if (!t) return ctx.unsupported("a non-constant pads input");
    pads = t->to_i64_vector();
  }
  std::vector<int64_t> axes;
  if (ctx.opset() >= 18 && ctx.has_input(3)) {
    const ir::Tensor* t = ctx.constant_input(3);
    if (!t) return ctx.unsupported("a non-constant axes input");
    for (int64_t a : t->to_i64_vector()) {
      auto n = normalize_axis(a, rank);
      if (!n) return ctx.error("axis " + std::to_string(a) + " is out of range");
      axes.push_back(*n);
    }
  } else {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  }
  if (pads.size() != 2 * axes.size())
    return ctx.error("pads has " + std::to_string(pads.size()) + " values for " + std::to_string(axes.size()) + " axes");
  for (int64_t v : pads)
    if (v <= -kMaxPaddedDim || v >= kMaxPaddedDim)
      return ctx.error("pad " + std::to_string(v) + " is out of range (|pad| < 2^31)");
  std::vector<int64_t> full(2 * rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    full[axes[i]] += pads[i];
    full[rank + axes[i]] += pads[axes.size() + i];
  }
  return full;
}

// A bool tensor of shape [n, 1, ...] (rank r): true where the position is inside [lo, hi).
ir::Tensor inside_mask(int64_t n, size_t r, int64_t lo, int64_t hi) {
  ir::Shape s(r, 1);
  s[0] = n;
  ir::Tensor t(ir::TensorType{DType::kBool, s});
  for (int64_t i = 0; i < n; ++i) t.mutable_data<uint8_t>()[i] = i >= lo && i < hi;
  return t;
}

}  // namespace

Status map_pad(NodeContext& ctx) {
  Value* x = ctx.input(0);
  int64_t rank = x->type.rank();
  std::string mode = ctx.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    return ctx.error("unknown mode '" + mode + "'");
  KILN_ASSIGN_OR_RETURN(auto pads, pad_amounts(ctx, rank));
  // Negative pads crop first.
  std::vector<int64_t> starts(rank, 0), steps(rank, 1);
  ir::Shape cropped = x->type.shape;
  for (int64_t a = 0; a < rank; ++a) {
    int64_t b = std::min<int64_t>(pads[a], 0), e = std::min<int64_t>(pads[rank + a], 0);
    starts[a] = -b;
    cropped[a] += b + e;
    if (cropped[a] < 0) return ctx.error("pads " + ir::shape_str(pads) + " remove more than input " + x->type.str());
  }
  Value* y = x;
  if (cropped != x->type.shape) {
    ir::Attrs attrs;
    attrs.set("starts", starts).set("steps", steps).set("shape", cropped);
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kSlice, {x}, attrs, "crop"));
  }
  Value* value = nullptr;
  if (mode == "constant") {
    if (ctx.opset() < 11) {
      value = ctx.scalar(x->type.dtype, ctx.attr_float("value", 0.0), "value");
    } else if (ctx.has_input(2)) {
      value = ctx.input(2);
      if (value->type.num_elements() != 1 || value->type.dtype != x->type.dtype)
        return ctx.error("constant_value " + value->type.str() + " must be one " + dtype_name(x->type.dtype));
      KILN_ASSIGN_OR_RETURN(value, ctx.reshape(value, {}, "value"));
    } else {
      value = ctx.scalar(x->type.dtype, 0.0, "value");
    }
  }
  for (int64_t a = 0; a < rank; ++a) {
    int64_t pb = std::max<int64_t>(pads[a], 0), pe = std::max<int64_t>(pads[rank + a], 0);
    if (pb == 0 && pe == 0) continue;
    int64_t n = cropped[a], out = n + pb + pe;
    if (n == 0) return ctx.unsupported("padding an empty axis");
    if (out >= kMaxPaddedDim) return ctx.error("the padded axis " + std::to_string(a) + " would reach 2^31 positions");
    if (mode == "reflect" && (pb >= n || pe >= n) && n > 1)
      return ctx.error("reflect pads " + ir::shape_str(pads) + " must be smaller than the input " + x->type.str());
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < out; ++i) idx.push_back(pad_source(mode, i, pb, n));
    std::string ax = "axis" + std::to_string(a);
    Value* iv = ctx.constant(ir::Tensor::from_i64({out}, idx), ax + "_index");
    KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kGather, {y, iv}, ir::Attrs().set("axis", a), ax));
    if (mode == "constant") {
      Value* mask = ctx.constant(inside_mask(out, static_cast<size_t>(rank - a), pb, pb + n), ax + "_inside");
      KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kWhere, {mask, y, value}, {}, ax + "_filled"));
    }
  }
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_depth_to_space(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (x->type.rank() != 4) return ctx.error("input " + x->type.str() + " needs rank 4 (N, C, H, W)");
  int64_t b = ctx.attr_int("blocksize", 0);
  int64_t n = x->type.shape[0], c = x->type.shape[1], h = x->type.shape[2], w = x->type.shape[3];
  if (b < 1 || b > c || c % (b * b) != 0)
    return ctx.error("blocksize " + std::to_string(b) + " must be positive and its square divide the channels of " +
                     x->type.str());
  bool is_crd = ctx.attr_string("mode", "DCR") == "CRD";
  ir::Shape split = is_crd ? ir::Shape{n, c / (b * b), b, b, h, w} : ir::Shape{n, b, b, c / (b * b), h, w};
  std::vector<int64_t> perm = is_crd ? std::vector<int64_t>{0, 1, 4, 2, 5, 3} : std::vector<int64_t>{0, 3, 4, 1, 5, 2};
  KILN_ASSIGN_OR_RETURN(Value * s, ctx.reshape(x, split, "split"));
  KILN_ASSIGN_OR_RETURN(Value * t, ctx.add(OpKind::kTranspose, {s}, ir::Attrs().set("perm", perm), "transpose"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.reshape(t, {n, c / (b * b), h * b, w * b}));
  ctx.set_output(0, y);
  return Status::ok();
}

Status map_space_to_depth(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (x->type.rank() != 4) return ctx.error("input " + x->type.str() + " needs rank 4 (N, C, H, W)");
  int64_t b = ctx.attr_int("blocksize", 0);
  int64_t n = x->type.shape[0], c = x->type.shape[1], h = x->type.shape[2], w = x->type.shape[3];
  if (b < 1 || b > h || b > w || h % b != 0 || w % b != 0)
    return ctx.error("blocksize " + std::to_string(b) + " must be positive and divide the height and width of " +
                     x->type.str());
  KILN_ASSIGN_OR_RETURN(Value * s, ctx.reshape(x, {n, c, h / b, b, w / b, b}, "split"));
  std::vector<int64_t> perm = {0, 3, 5, 1, 2, 4};
  KILN_ASSIGN_OR_RETURN(Value * t, ctx.add(OpKind::kTranspose, {s}, ir::Attrs().set("perm", perm), "transpose"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.reshape(t, {n, c * b * b, h / b, w / b}));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
