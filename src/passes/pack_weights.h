// Pre-packs constant Conv/MatMul weights into the blocked layouts the level-3
// register-tiled kernels read (DESIGN.md: "weights pre-packed at compile time").
#pragma once

#include "ir/graph.h"
#include "ops/op_info.h"

namespace kiln::passes {

// Assumes: types are inferred; runs after the passes that rewrite weights
// (fold_scale_into_conv) and is a no-op below kernel level 3.
// Leaves: every f32 Conv and MatMul that takes the tiled level-3 path at `opts`
// (except 1x1 convs that run as row GEMMs on plain OIHW weights) and whose weight (input 1; for MatMul a 2-D B) is a constant reads a new
// constant in the layout named by its "packed" attribute ("ohwi<nr>o",
// "kn<nr>n"; ops/weight_layout.h; at level 4, convs that take Winograd get
// "winograd_poi<nr>o_f<m>" for the tile m that ops::conv_winograd_tile picks,
// ops/winograd.h), with the logical shape in "packed_shape".
// Nodes with layout="NHWC" (passes/convert_layout) get the layouts of the NHWC
// kernels instead: "ohwi<nr>o" for Conv and ConvTranspose, "chw<lanes>c" for
// depthwise Conv (ops/weight_layout.h).
// Weights shared by several nodes are packed once per node.
void pack_weights(ir::Graph& g, const ops::KernelOptions& opts);

}  // namespace kiln::passes
