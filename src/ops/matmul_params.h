// The shapes of a MatMul node (shared by the level-2 and the tiled level-3
// lowerings and by passes/pack_weights).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"
#include "ops/op_info.h"

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

// One k term of a product: A's and B's indices (batch..., m, k / batch..., k, n) and m, n, k.
using MatMulTerm = std::function<kir::Expr(const std::vector<kir::Expr>& a_index, const std::vector<kir::Expr>& b_index,
                                           const kir::Expr& m, const kir::Expr& n, const kir::Expr& k)>;

// The plain (level 1/2) loop nest of MatMul and MatMulInteger: for batch..., m (the
// outermost big loop parallel), n (vectorized): acc = 0; for k: acc += term; write,
// with an accumulator of `acc_type`.
kir::Stmt lower_matmul_loops(const LowerContext& ctx, const MatMulParams& p, DType acc_type, const MatMulTerm& term);

}  // namespace kiln::ops
