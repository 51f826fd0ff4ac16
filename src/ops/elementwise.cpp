// lower_elementwise(): the loop nest for Elementwise, Injective and Reshape ops
// (and for fused chains of them): one write per output element.
#include <algorithm>
#include <optional>

#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

// Outputs at least this big get a parallel outer loop at level >= 2.
constexpr int64_t kParallelMinElements = 16 * 1024;

namespace {

struct BlockedDim {
  size_t dim;             // the output dimension that is the input's innermost one
  int64_t block;          // its block: up to a cache line of the input's elements
  int64_t vector_block;   // the vector dimension's block (0: not blocked)
};

// A Transpose (at level >= 2) whose vector dimension is not the input's innermost
// one gathers along a large input stride. In output order the loop nest would
// sweep the whole input between two uses of a cache line (NHWC -> NCHW at
// 256x56x56: 3 MB, so every gathered element comes from L2 or memory). Blocking
// the output dimension that walks the input's innermost one by a cache line and
// moving that block's loop next to the vector loop keeps the lines a block
// gathers from in L1 until all of their elements are used. The vector dimension
// is blocked too (two vectors) when it divides: its lines lie a large stride
// apart, often a multiple of 4 KiB, so they share few L1 sets.
std::optional<BlockedDim> transpose_block(const ir::Node& node, const ir::Shape& shape, size_t vd,
                                          const KernelOptions& opts) {
  if (node.op != ir::OpKind::kTranspose || !opts.vectorize()) return std::nullopt;
  const ir::TensorType& in = node.inputs[0]->type;
  std::vector<size_t> in_dims(in.shape.size());
  for (size_t i = 0; i < in_dims.size(); ++i) in_dims[i] = i;
  const int64_t inner = static_cast<int64_t>(vector_dim(in.shape, in_dims));
  std::vector<int64_t> perm = transpose_perm(node);
  size_t b = std::find(perm.begin(), perm.end(), inner) - perm.begin();
  if (b >= vd) return std::nullopt;  // already contiguous along the vector loop
  const int64_t vector_block = 2 * opts.f32_lanes;
  for (int64_t block = 64 / dtype_size(in.dtype); block >= 4; block /= 2) {
    if (shape[b] % block != 0) continue;
    bool split = shape[vd] > vector_block && shape[vd] % vector_block == 0;
    return BlockedDim{b, block, split ? vector_block : 0};
  }
  return std::nullopt;
}

}  // namespace

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
  std::optional<BlockedDim> blocked = transpose_block(node, shape, vd, ctx.opts);
  for (size_t i = 0; i < vd; ++i) {
    std::string name = "i" + std::to_string(i);
    idx[i] = blocked && blocked->dim == i ? nest.add(name + "o", shape[i] / blocked->block) * blocked->block
                                          : nest.add(name, shape[i]);
  }
  int64_t inner = shape[vd];
  std::optional<Expr> vector_base;
  if (blocked && blocked->vector_block) {
    vector_base = nest.add("i" + std::to_string(vd) + "o", inner / blocked->vector_block) * blocked->vector_block;
    inner = blocked->vector_block;
  }
  if (blocked) idx[blocked->dim] = idx[blocked->dim] + nest.add("i" + std::to_string(blocked->dim) + "i", blocked->block);
  Stmt body = vector_loop("i" + std::to_string(vd), 0, inner, ctx.opts.f32_lanes, ctx.opts.vectorize(),
                          [&](const Expr& i) {
                            std::vector<Expr> full = idx;
                            full[vd] = vector_base ? *vector_base + i : i;
                            return body_at(full);
                          });
  bool parallel = ctx.opts.parallelize() && nest.total() * inner >= kParallelMinElements;
  return nest.build(body, parallel);
}

}  // namespace kiln::ops
