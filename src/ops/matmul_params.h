// The shapes of a MatMul node (shared by the level-2 and the tiled level-3
// lowerings and by passes/pack_weights).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::ops {

struct MatMulParams {
  ir::Shape a_batch, b_batch, batch;  // batch shapes of A, B and the output
  int64_t m, k, n;
  bool a_vec, b_vec;                  // 1-D operands
};

// The shapes of a numpy matmul of A and B (1-D operands, batch broadcasting);
// errors name `op` and both types. Shared by MatMul and MatMulInteger.
Expected<MatMulParams> matmul_shapes(const std::string& op, const ir::TensorType& a, const ir::TensorType& b);

// Validates the node's inputs; errors name the problem. A packed B (see
// weight_layout.h) is described by its logical [K, N] shape.
Expected<MatMulParams> matmul_params(const ir::Node& node);

}  // namespace kiln::ops
