// Producer-consumer fusion: partitions the graph into kernels.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "lower/kernel_builder.h"

namespace kiln::passes {

// Groups each node with the chain of elementwise consumers that follows it
// (each the single user of the previous output, at the same shape, not a
// graph output in between). A DequantizeLinear of uint8/int8 data whose only
// user is such a consumer joins the group just before that user (quantized
// residual blocks: conv -> Requantize -> DequantizeLinear -> Add(the residual's
// DequantizeLinear) -> QuantizeLinear is one kernel that reads the residual's
// bytes); with no chain to join, it starts its user's group. Reshape nodes are
// aliases and belong to no group.
// Returns the groups in a valid execution order (each at its last node).
// Leaves: every non-Reshape node in exactly one group.
std::vector<lower::FusedGroup> fuse_elementwise(const ir::Graph& g);

}  // namespace kiln::passes
