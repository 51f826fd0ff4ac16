// The geometry of a Conv node (shared by the level-2 and the tiled level-3
// lowerings and by passes/pack_weights).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::ops {

struct ConvParams {
  int64_t n, c, h, w;     // input
  int64_t m, cg, kh, kw;  // weights (cg = input channels per group), logical OIHW even when packed
  int64_t group;
  int64_t sh, sw, pt, pl, pb, pr, dh, dw;
  int64_t oh, ow;
};

// Validates the node's inputs and attributes; errors name the problem.
Expected<ConvParams> conv_params(const ir::Node& node);

}  // namespace kiln::ops
