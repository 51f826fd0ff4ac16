// Level-3 Conv on NHWC activations (layout="NHWC"; passes/convert_layout).
// Output channels are contiguous in NHWC, so the register-tiled direct conv of
// conv_direct.cpp (mr output positions x nr output channels, "ohwi<nr>o"
// weights, input channels innermost) stores its tile as whole channel vectors.
// A 1x1 unpadded conv is a GEMM over positions x Cin x Cout on the GEMM
// microkernel (conv_nhwc_1x1.cpp); depthwise convs have their own kernel
// (depthwise_nhwc.cpp).
#include "ops/conv_direct.h"
#include "ops/op_families.h"

namespace kiln::ops {

RegisterTile nhwc_conv_tile(const ConvParams& p, const KernelOptions& opts) {
  RegisterTile tile = register_tile(opts);
  // The mr positions of a tile read their inputs (sw x C floats apart) in
  // lockstep. At a multiple of 4 KiB apart they all map to one L1 set, which
  // holds 8 lines on the cores kiln targets: more rows than that evict each
  // other at every step (ResNet-50's 1024-channel 1x1 convs ran at 75 % of the
  // speed of 1000-channel ones, Zen4). Then the tile has 8 rows. (On a 12-way
  // L1 14 rows are faster; copying the rows of a 1x1 conv's GEMM to spread
  // them over the sets, per work item, cost more than it gained:
  // docs/performance.md.)
  int64_t stride_bytes = (conv_is_flat(p) ? 1 : p.sw) * p.c * 4;
  if (tile.mr > 8 && stride_bytes % 4096 == 0) tile.mr = 8;
  return tile;
}

Expected<kir::Stmt> lower_conv_nhwc(const LowerContext& ctx, const ConvParams& p) {
  if (p.cg == 1 && p.m == p.group) return lower_depthwise_nhwc(ctx, p);
  if (conv_nhwc_1x1_applies(p)) return lower_conv_nhwc_1x1(ctx, p);
  return lower_conv_direct(ctx, p, nhwc_conv_tile(p, ctx.opts), true);
}

}  // namespace kiln::ops
