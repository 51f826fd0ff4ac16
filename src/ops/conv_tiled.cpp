// Level-3 Conv on NCHW activations: unpadded 1x1 convs with wide rows take
// conv_1x1_rows.cpp; the others the register-tiled direct conv of
// conv_direct.cpp (mr output columns x nr output channels, "ohwi<nr>o" weights).
#include "ops/conv_direct.h"
#include "ops/op_families.h"

namespace kiln::ops {

bool conv_tiled_applies(const ir::Node& node, const ConvParams& p, const KernelOptions& opts) {
  if (opts.level < 3 || opts.f32_lanes < 4 || node.inputs[0]->type.dtype != DType::kF32) return false;
  // Depthwise and narrow groups would fill a fraction of the vector lanes;
  // they keep the level-2 loops (vectorized over output columns).
  return p.m / p.group >= 4;
}

Expected<kir::Stmt> lower_conv_tiled(const LowerContext& ctx, const ConvParams& p) {
  if (conv_1x1_rows_applies(p, ctx.opts)) return lower_conv_1x1_rows(ctx, p);
  return lower_conv_direct(ctx, p, register_tile(ctx.opts), false);
}

}  // namespace kiln::ops
