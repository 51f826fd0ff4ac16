// Constant folding: evaluates nodes whose inputs are all constants.
#pragma once

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::passes {

// Replaces every node whose inputs are all constants by constant values,
// computed by compiling the node's own kernel with the host JIT (so folding
// uses exactly the semantics of compiled code). Runs to a fixpoint in one
// sweep, since nodes are visited in topological order.
// Leaves: no node with only constant inputs, unless its output would exceed
// kMaxFoldBytes (such nodes stay and run at inference time).
Status fold_constants(ir::Graph& g);

constexpr int64_t kMaxFoldBytes = int64_t{256} << 20;

}  // namespace kiln::passes
