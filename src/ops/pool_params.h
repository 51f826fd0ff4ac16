// The geometry of a MaxPool / AveragePool / LpPool / MaxPoolIndices node
// (shared by pool.cpp and the NHWC kernels of pool_nhwc.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::ops {

struct PoolParams {
  int64_t n, c;
  std::vector<int64_t> in, kernel, strides, pad_begin, pad_end, dilations, out;
  bool count_include_pad;
  int64_t p;              // LpPool's norm
  int64_t storage_order;  // MaxPoolIndices: 1 for column-major spatial indices
};

// Validates the node's input and attributes; errors name the problem. With
// layout="NHWC" (ops/layout.h) the input is N, spatial..., C.
Expected<PoolParams> pool_params(const ir::Node& node);

}  // namespace kiln::ops
