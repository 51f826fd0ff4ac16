// Ops whose result is a constant made at import time: Constant (all value
// forms), ConstantOfShape and Range with constant operands, Size.
#include <cmath>
#include <cstring>

#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"
#include "frontend/onnx/tensor.h"

namespace kiln::frontend {

Status map_constant(NodeContext& ctx) {
  if (const onnx::TensorProto* t = ctx.attr_tensor("value")) {
    KILN_ASSIGN_OR_RETURN(ir::Tensor tensor, tensor_from_proto(*t, ctx.model_dir()));
    ctx.set_output(0, ctx.constant(std::move(tensor), "value"));
  } else if (ctx.has_attr("value_float")) {
    ctx.set_output(0, ctx.constant(ir::Tensor::scalar_f32(static_cast<float>(ctx.attr_float("value_float", 0))),
                                   "value"));
  } else if (ctx.has_attr("value_floats")) {
    std::vector<double> v = ctx.attr_floats("value_floats");
    ctx.set_output(0, ctx.constant(ir::Tensor::from_f32({static_cast<int64_t>(v.size())},
                                                        std::vector<float>(v.begin(), v.end())),
                                   "value"));
  } else if (ctx.has_attr("value_int")) {
    ctx.set_output(0, ctx.constant(ir::Tensor::from_i64({}, {ctx.attr_int("value_int", 0)}), "value"));
  } else if (ctx.has_attr("value_ints")) {
    std::vector<int64_t> v = ctx.attr_ints("value_ints");
    ctx.set_output(0, ctx.constant(ir::Tensor::from_i64({static_cast<int64_t>(v.size())}, v), "value"));
  } else if (ctx.proto().attribute_size() > 0) {
    return ctx.unsupported("a Constant of kind '" + ctx.proto().attribute(0).name() + "'");
  } else {
    return ctx.error("has no value attribute");
  }
  return ctx.attr_status();
}

Status map_constant_of_shape(NodeContext& ctx) {
  const ir::Tensor* shape_t = ctx.constant_input(0);
  if (!shape_t) return ctx.unsupported("a non-constant shape input");
  ir::Shape shape = shape_t->to_i64_vector();
  for (int64_t d : shape)
    if (d < 0) return ctx.error("shape " + ir::shape_str(shape) + " has a negative dimension");
  ir::Tensor fill = ir::Tensor::scalar_f32(0.0f);  // ONNX's default: float32 zero
  if (const onnx::TensorProto* v = ctx.attr_tensor("value")) {
    KILN_ASSIGN_OR_RETURN(fill, tensor_from_proto(*v, ctx.model_dir()));
    if (fill.type().num_elements() != 1) return ctx.error("attribute 'value' must hold one element");
  }
  ir::Tensor out(ir::TensorType{fill.type().dtype, shape});
  int size = dtype_size(fill.type().dtype);
  for (int64_t i = 0; i < out.type().num_elements(); ++i)
    std::memcpy(out.mutable_data<uint8_t>() + i * size, fill.bytes(), size);
  ctx.set_output(0, ctx.constant(std::move(out), "filled"));
  return ctx.attr_status();
}

Status map_size(NodeContext& ctx) {
  ctx.set_output(0, ctx.constant(ir::Tensor::from_i64({}, {ctx.input(0)->type.num_elements()}), "size"));
  return Status::ok();
}

Status map_range(NodeContext& ctx) {
  const ir::Tensor* start = ctx.constant_input(0);
  const ir::Tensor* limit = ctx.constant_input(1);
  const ir::Tensor* delta = ctx.constant_input(2);
  if (!start || !limit || !delta) return ctx.unsupported("Range with non-constant operands");
  DType dtype = start->type().dtype;
  if (dtype == DType::kI64 || dtype == DType::kI32) {
    int64_t s = start->get_i64(0), l = limit->get_i64(0), d = delta->get_i64(0);
    if (d == 0) return ctx.error("delta is 0");
    int64_t n = std::max<int64_t>(0, (l - s + d + (d > 0 ? -1 : 1)) / d);
    std::vector<int64_t> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = s + i * d;
    ctx.set_output(0, ctx.constant(make_int_tensor(dtype, {n}, v), "range"));
    return Status::ok();
  }
  // Range-27 allows float16 computed in `stash_type` precision (default 1, float):
  // the float32 range cast to float16, which constant folding evaluates.
  if (dtype == DType::kF16) {
    int64_t stash = ctx.attr_int("stash_type", 1);
    if (stash != 1)
      return ctx.unsupported("Range of float16 with stash_type " + std::to_string(stash) +
                             " (only 1, float, is)");
  } else if (dtype != DType::kF32) {
    return ctx.unsupported("Range of " + std::string(dtype_name(dtype)));
  }
  auto as_f32 = [](const ir::Tensor* t) { return static_cast<double>(static_cast<float>(t->get_f64(0))); };
  double s = as_f32(start), l = as_f32(limit), d = as_f32(delta);
  if (d == 0) return ctx.error("delta is 0");
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((l - s) / d)));
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(s + i * d);
  ir::Value* out = ctx.constant(ir::Tensor::from_f32({n}, v), "range");
  if (dtype == DType::kF16) {
    KILN_ASSIGN_OR_RETURN(out, ctx.add(ir::OpKind::kCast, {out}, ir::Attrs().set("to", static_cast<int64_t>(dtype))));
  }
  ctx.set_output(0, out);
  return Status::ok();
}

}  // namespace kiln::frontend
