// Producer-consumer fusion: partitions the graph into kernels.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "lower/kernel_builder.h"

namespace kiln::passes {

// Groups each node with the chain of elementwise consumers that follows it
// (each the single user of the previous output, at the same shape, not a
// graph output in between). Reshape nodes are aliases and belong to no group.
// Returns the groups in a valid execution order (each at its last node).
// Leaves: every non-Reshape node in exactly one group.
std::vector<lower::FusedGroup> fuse_elementwise(const ir::Graph& g);

}  // namespace kiln::passes
