// Weight pre-packing for the level-3 Conv/MatMul kernels (see pack_weights.h).
#include "passes/pack_weights.h"

#include "ops/conv_params.h"
#include "ops/matmul_params.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::passes {

namespace {

bool packable(const ir::Node& n) {
  const ir::Value* w = n.inputs.size() > 1 ? n.inputs[1] : nullptr;
  return w && w->is_constant() && w->type.dtype == DType::kF32 && !n.attrs.has("packed");
}

}  // namespace

void pack_weights(ir::Graph& g, const ops::KernelOptions& opts) {
  if (opts.level < 3) return;
  int64_t nr = ops::register_tile(opts).nr;
  for (const auto& node : g.nodes()) {
    ir::Node& n = *node;
    if (!packable(n)) continue;
    const ir::Value* w = n.inputs[1];
    if (n.op == ir::OpKind::kConv) {
      Expected<ops::ConvParams> p = ops::conv_params(n);
      if (!p || !ops::conv_tiled_applies(n, *p, opts) || ops::conv_1x1_rows_applies(*p, opts)) continue;
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
