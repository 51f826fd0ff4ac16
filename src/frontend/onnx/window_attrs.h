// The window attributes of ONNX's convolutions and pools (strides, dilations,
// pads, auto_pad, kernel_shape), checked and resolved to explicit values, shared
// by the float (conv_pool.cpp) and the integer (quantize.cpp) mappers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strings.h"
#include "frontend/onnx/context.h"

namespace kiln::frontend {

// A per-spatial-axis attribute (strides, dilations) with default 1, checked for length and sign.
Expected<std::vector<int64_t>> window_attr(NodeContext& ctx, const std::string& name, size_t k);

// Explicit pads (all begins, then all ends) from auto_pad or the pads attribute.
Expected<std::vector<int64_t>> resolve_pads(NodeContext& ctx, const ir::Shape& x_shape,
                                            const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                                            const std::vector<int64_t>& dilations);

// [a..] with a 1 inserted at position 2 (N,C,L -> N,C,1,L).
ir::Shape insert_unit_dim(ir::Shape s);

// The core 2-D Conv attributes (strides, pads, dilations, group) of a 1-D or
// 2-D ONNX convolution of input shape `x` and weight shape `w`: a 1-D one gets
// the form of N,C,1,L with a 1xK kernel (per-axis {1, v}, pads {0, b, 0, e}).
// Checks the weight's rank, kernel_shape against the weight, and group.
Expected<ir::Attrs> conv_core_attrs(NodeContext& ctx, const ir::Shape& x, const ir::Shape& w);

}  // namespace kiln::frontend
