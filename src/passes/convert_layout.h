// --layout NHWC: convolution-type ops compute on NHWC activations, and the
// layout-agnostic ops between them follow, with Transposes only at the
// boundaries where an op needs the model's NCHW.
#pragma once

#include "ir/graph.h"
#include "ops/op_info.h"

namespace kiln::passes {

// Assumes: types are inferred, BatchNorm is folded into convs
// (fold_scale_into_conv), weights are not packed yet (runs before
// pack_weights). A no-op unless opts.channels_last.
// Leaves: every f32 rank-4 Conv, ConvTranspose, MaxPool and AveragePool has
// layout="NHWC" (ops/layout.h). An elementwise op, Concat, Gather (1-D
// indices), Slice, Softmax/LogSoftmax or keepdims reduction whose 4-D inputs all
// come out of NHWC values (or are constants, permuted at compile time) runs
// on NHWC too. A Transpose converts at each remaining boundary: before
// an NHWC op whose input is NCHW (a model input, a layout-sensitive op's
// output) and after an NHWC value that an NCHW consumer or a model output
// needs; model inputs and outputs keep the shapes the model declares. No
// Transpose reads another Transpose, and one that moves only unit dimensions
// (an [N,1,1,C] pooled value) is a Reshape.
void convert_layout(ir::Graph& g, const ops::KernelOptions& opts);

}  // namespace kiln::passes
