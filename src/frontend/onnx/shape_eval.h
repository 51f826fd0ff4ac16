// A small evaluator for integer shape arithmetic (Shape -> Gather -> Unsqueeze
// -> Concat -> Reshape chains from PyTorch exports). Mappers call it when their
// inputs are small integer constants, so Reshape targets are constants by the
// time Reshape is mapped. These are fast paths: every other core op of constant
// inputs (float math, Neg, Equal/Where, Mod ...) is evaluated through the JIT as
// it is emitted (NodeContext::add), so any constant subgraph folds while reading.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::frontend {

// Constants with at most this many elements are evaluated in the frontend.
inline constexpr int64_t kMaxFoldElements = 1 << 16;

// True when `v` is a constant of an integer dtype (int32/int64) small enough to fold.
bool is_foldable(const ir::Value* v);

// An integer tensor of `dtype` (kI32 or kI64) from int64 values.
ir::Tensor make_int_tensor(DType dtype, const ir::Shape& shape, const std::vector<int64_t>& values);
// `t` with a new shape of the same element count.
ir::Tensor eval_reshape(const ir::Tensor& t, const ir::Shape& shape);
// Elementwise Add/Sub/Mul/Div/Max/Min with numpy broadcasting on integer
// tensors of one dtype (Div truncates, like ONNX Runtime). Division by zero is an error.
Expected<ir::Tensor> eval_binary(ir::OpKind op, const ir::Tensor& a, const ir::Tensor& b);
// Concat along a non-negative axis (shapes already checked to agree).
ir::Tensor eval_concat(const std::vector<const ir::Tensor*>& parts, int64_t axis);
// Gather along a non-negative axis; indices may be negative; out of range is an error.
Expected<ir::Tensor> eval_gather(const ir::Tensor& data, const ir::Tensor& indices, int64_t axis);
// Slice with per-axis starts and steps (all axes, normalized) and the output shape.
ir::Tensor eval_slice(const ir::Tensor& data, const std::vector<int64_t>& starts, const std::vector<int64_t>& steps,
                      const ir::Shape& out_shape);
// Converts a tensor to `to` as ONNX Cast (saturate=0) does: integers to integers
// exactly (wrapping), anything else through double (ir::Tensor::set_f64).
ir::Tensor eval_cast(const ir::Tensor& t, DType to);

}  // namespace kiln::frontend
