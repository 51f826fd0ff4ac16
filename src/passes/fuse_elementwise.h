// Producer-consumer fusion: partitions the graph into kernels.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "lower/kernel_builder.h"

namespace kiln::passes {

// Groups each node with the elementwise consumers that follow it, at its
// output shape: a chain (each the single user of the previous output) or a
// diamond (x -> {f(x), g(x, f(x))}: GELU, SiLU), as long as every value of the
// group but its last node's output is used only inside the group and is not a
// graph output (so it is never stored). A joining node's other inputs are
// outside values that do not depend on the group. A DequantizeLinear of
// uint8/int8 data whose only user is such a consumer joins the group just
// before that user (quantized residual blocks: conv -> Requantize ->
// DequantizeLinear -> Add(the residual's DequantizeLinear) -> QuantizeLinear is
// one kernel that reads the residual's bytes); with no group to join, it starts
// its user's group. Reshape nodes are aliases and belong to no group.
// Returns the groups in a valid execution order (each at its last node).
// Leaves: every non-Reshape node in exactly one group.
std::vector<lower::FusedGroup> fuse_elementwise(const ir::Graph& g);

}  // namespace kiln::passes
