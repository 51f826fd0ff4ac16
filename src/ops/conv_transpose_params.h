// The geometry of a ConvTranspose node (shared by conv_transpose.cpp and the
// NHWC kernel of conv_transpose_nhwc.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::ops {

struct ConvTransposeParams {
  int64_t n, c, m, group, cg, mg;  // cg, mg: input and output channels per group
  std::vector<int64_t> in, kernel, strides, pad_begin, dilations, out;
};

// Validates the node's inputs and attributes; errors name the problem. With
// layout="NHWC" (ops/layout.h) the input is N, spatial..., C; packed weights
// (passes/pack_weights) keep their logical [C, M/group, k...] shape in the node.
Expected<ConvTransposeParams> conv_transpose_params(const ir::Node& node);

}  // namespace kiln::ops
