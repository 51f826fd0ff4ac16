// Weight pre-packing for the level-3 Conv/MatMul kernels (see pack_weights.h).
#include "passes/pack_weights.h"

#include <algorithm>

#include "ops/conv_params.h"
#include "ops/conv_transpose_params.h"
#include "ops/int8_conv.h"
#include "ops/layout.h"
#include "ops/matmul_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"
#include "ops/winograd.h"

namespace kiln::passes {

namespace {

bool packable(const ir::Node& n) {
  const ir::Value* w = n.inputs.size() > 1 ? n.inputs[1] : nullptr;
  return w && w->is_constant() && w->type.dtype == DType::kF32 && !n.attrs.has("packed");
}

// The weights of a layout="NHWC" node (passes/convert_layout), in the layout
// its NHWC kernel reads: depthwise convs in channel blocks of one vector
// ("chw<lanes>c"), other convs and ConvTranspose in blocks of nr output channels.
void pack_channels_last(ir::Graph& g, ir::Node& n, const ops::KernelOptions& opts) {
  const ir::Value* w = n.inputs[1];
  int64_t nr = ops::register_tile(opts).nr;
  if (n.op == ir::OpKind::kConv) {
    Expected<ops::ConvParams> p = ops::conv_params(n);
    if (!p) return;
    nr = ops::nhwc_conv_tile(*p, opts).nr;
    if (p->cg == 1 && p->m == p->group) {
      int64_t block = std::max(1, opts.f32_lanes);
      ir::Tensor packed = ops::pack_conv_weight(*w->constant, 1, block);
      ops::set_packed_weight(n.attrs, ops::depthwise_layout_name(block), w->type.shape);
      n.inputs[1] = g.add_constant(w->name + "_packed", std::move(packed));
      return;
    }
    ir::Tensor packed = ops::pack_conv_weight(*w->constant, p->group, nr);
    ops::set_packed_weight(n.attrs, ops::conv_layout_name(nr), w->type.shape);
    n.inputs[1] = g.add_constant(w->name + "_packed", std::move(packed));
  } else if (n.op == ir::OpKind::kConvTranspose) {
    Expected<ops::ConvTransposeParams> p = ops::conv_transpose_params(n);
    if (!p || w->type.rank() != 4) return;
    ir::Tensor packed = ops::pack_conv_transpose_weight(*w->constant, p->group, nr);
    ops::set_packed_weight(n.attrs, ops::conv_layout_name(nr), w->type.shape);
    n.inputs[1] = g.add_constant(w->name + "_packed", std::move(packed));
  }
}

// Level 4: a Winograd-eligible conv (either layout) gets U = G g G^T in the
// layout of its batched GEMMs (ops/winograd.h). False if it is not eligible.
bool pack_winograd(ir::Graph& g, ir::Node& n, const ops::KernelOptions& opts) {
  if (n.op != ir::OpKind::kConv) return false;
  Expected<ops::ConvParams> p = ops::conv_params(n);
  int tile = p ? ops::conv_winograd_tile(n, *p, opts) : 0;
  if (tile == 0) return false;
  const ir::Value* w = n.inputs[1];
  const ops::WinogradTransform& t = ops::winograd_transform(tile);
  int64_t nr = ops::register_tile(opts).nr;
  ir::Tensor packed = ops::pack_winograd_weight(*w->constant, nr, t);
  ops::set_packed_weight(n.attrs, ops::winograd_layout_name(nr, t.m), w->type.shape);
  n.inputs[1] = g.add_constant(w->name + "_winograd", std::move(packed));
  return true;
}

// A ConvInteger's weights (a MatMulInteger's B) in the layout of the tiled
// int8 kernel, and its dot4 corrections as a fifth input (ops/int8_conv.h).
void pack_conv_integer(ir::Graph& g, ir::Node& n, const ops::KernelOptions& opts) {
  ops::ConvParams p;
  if (n.op == ir::OpKind::kMatMulInteger) {
    Expected<ops::MatMulParams> mp = ops::matmul_integer_params(n);
    if (!mp || !ops::matmul_integer_tiled_applies(n, *mp, opts)) return;
    p = ops::matmul_integer_as_conv(*mp);
  } else {
    Expected<ops::ConvParams> cp = ops::conv_integer_params(n);
    if (!cp || !ops::conv_integer_tiled_applies(n, *cp, opts)) return;
    p = *cp;
  }
  int64_t mr = ops::conv_integer_block(opts);
  int group = ops::int8_group(opts);
  const ir::Value* w = n.inputs[1];
  bool flat = ops::conv_integer_flat(p, group);
  ops::PackedConvInteger packed = ops::pack_conv_integer_weight(n, p, mr, group, flat);
  ops::set_packed_weight(n.attrs, ops::conv_integer_layout_name(mr, group, flat), w->type.shape);
  n.inputs[1] = g.add_constant(w->name + "_packed", std::move(packed.weights));
  if (group == 4) n.inputs.push_back(g.add_constant(w->name + "_offsets", std::move(packed.offsets)));
}

}  // namespace

void pack_weights(ir::Graph& g, const ops::KernelOptions& opts) {
  if (opts.level < 3) return;
  int64_t nr = ops::register_tile(opts).nr;
  for (const auto& node : g.nodes()) {
    ir::Node& n = *node;
    if ((n.op == ir::OpKind::kConvInteger || n.op == ir::OpKind::kMatMulInteger) && !n.attrs.has("packed")) {
      pack_conv_integer(g, n, opts);
      continue;
    }
    if (!packable(n) || pack_winograd(g, n, opts)) continue;
    if (ops::is_channels_last(n)) {
      pack_channels_last(g, n, opts);
      continue;
    }
    const ir::Value* w = n.inputs[1];
    if (n.op == ir::OpKind::kConv) {
      Expected<ops::ConvParams> p = ops::conv_params(n);
      if (!p || !ops::conv_tiled_applies(n, *p, opts)) continue;
      if (ops::conv_1x1_rows_applies(*p, opts) && !ops::conv_1x1_transposed(*p, opts)) {
        // The GEMM's A operand, tile by tile (ops/conv_1x1_rows.cpp).
        int64_t mr = ops::register_tile(opts).mr;
        ir::Tensor packed = ops::pack_gemm_rows(*w->constant, p->group, mr);
        ops::set_packed_weight(n.attrs, ops::gemm_rows_layout_name(mr), w->type.shape);
        n.inputs[1] = g.add_constant(w->name + "_packed", std::move(packed));
        continue;
      }
      ir::Tensor packed = ops::pack_conv_weight(*w->constant, p->group, nr);
      ops::set_packed_weight(n.attrs, ops::conv_layout_name(nr), w->type.shape);
      n.inputs[1] = g.add_constant(w->name + "_packed", std::move(packed));
    } else if (n.op == ir::OpKind::kMatMul) {
      Expected<ops::MatMulParams> p = ops::matmul_params(n);
      if (!p || w->type.rank() != 2 || !ops::matmul_tiled_applies(n, *p, opts)) continue;
      ir::Tensor packed = ops::pack_matmul_weight(*w->constant, nr);
      ops::set_packed_weight(n.attrs, ops::matmul_layout_name(nr), w->type.shape);
      n.inputs[1] = g.add_constant(w->name + "_packed", std::move(packed));
    }
  }
}

}  // namespace kiln::passes
