// Makes every graph output a buffer that a kernel writes.
#pragma once

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::passes {

// Inserts an Identity copy for each graph output that is a graph input, a
// constant, a Reshape alias, or a value already returned under another name.
// Leaves: each graph output is the distinct result of a non-Reshape node.
Status materialize_outputs(ir::Graph& g);

}  // namespace kiln::passes
