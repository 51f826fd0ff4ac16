// The register-tiled direct Conv shared by the level-3 NCHW (conv_tiled.cpp)
// and NHWC (conv_nhwc.cpp) kernels; see conv_direct.cpp.
#pragma once

#include "base/status.h"
#include "kernel/ir.h"
#include "ops/conv_params.h"
#include "ops/op_info.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

// A 1x1, stride-1, unpadded conv: a GEMM over positions that run flat across rows.
bool conv_is_flat(const ConvParams& p);

// The conv's loop nest with `tile`'s register tile (mr output positions x nr
// output channels; nr is the block of the packed "ohwi<nr>o" weights when the
// node has them), on NHWC activations when `nhwc`, else NCHW.
kir::Stmt lower_conv_direct(const LowerContext& ctx, const ConvParams& p, const RegisterTile& tile, bool nhwc);

}  // namespace kiln::ops
