// Folds per-output-channel constant scales and shifts into a preceding Conv.
#pragma once

#include "ir/graph.h"

namespace kiln::passes {

// Conv(X, W, B) -> Mul(·, s) -> Add(·, t), with constant W, B, s, t where s
// and t vary only along the channel axis, becomes Conv(X, W·s, B·s + t).
// This is how BatchNormalization (imported as Mul + Add) folds into a conv.
// Leaves: no such Mul/Add directly after a single-use constant-weight Conv.
void fold_scale_into_conv(ir::Graph& g);

}  // namespace kiln::passes
