// Dead-code elimination.
#pragma once

#include "ir/graph.h"

namespace kiln::passes {

// Removes every node none of whose outputs reaches a graph output.
// Leaves: every remaining node contributes to some output.
void eliminate_dead_code(ir::Graph& g);

}  // namespace kiln::passes
