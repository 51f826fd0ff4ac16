// lower_elementwise(): the loop nest for Elementwise, Injective and Reshape ops
// (and for fused chains of them): one write per output element.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

// Outputs at least this big get a parallel outer loop at level >= 2.
constexpr int64_t kParallelMinElements = 16 * 1024;

Expected<Stmt> lower_elementwise(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const OpInfo& info = op_info(node.op);
  KILN_CHECK(info.element != nullptr) << "lower_elementwise: " << node.label() << " has no element function";
  KILN_CHECK(!node.outputs.empty()) << "lower_elementwise: " << node.label() << " has no outputs";
  const ir::Shape& shape = node.outputs[0]->type.shape;
  for (int64_t d : shape)
    if (d == 0) return Stmt(kir::block({}));  // nothing to write

  auto body_at = [&](const std::vector<Expr>& idx) {
    return ctx.write(0, idx, info.element(node, idx, ctx.read));
  };
  if (shape.empty()) return body_at({});

  // Loops over the dimensions before the vector one; those after it have extent 1.
  std::vector<size_t> dims(shape.size());
  for (size_t i = 0; i < dims.size(); ++i) dims[i] = i;
  size_t vd = vector_dim(shape, dims);
  LoopNest nest;
  std::vector<Expr> idx(shape.size(), Expr(int64_t{0}));
  for (size_t i = 0; i < vd; ++i) idx[i] = nest.add("i" + std::to_string(i), shape[i]);
  int64_t inner = shape[vd];
  Stmt body = vector_loop("i" + std::to_string(vd), 0, inner, ctx.opts.f32_lanes, ctx.opts.vectorize(),
                          [&](const Expr& i) {
                            std::vector<Expr> full = idx;
                            full[vd] = i;
                            return body_at(full);
                          });
  bool parallel = ctx.opts.parallelize() && nest.total() * inner >= kParallelMinElements;
  return nest.build(body, parallel);
}

}  // namespace kiln::ops
