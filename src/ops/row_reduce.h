// Reductions over one contiguous row, vectorized along the row (softmax.cpp,
// layer_norm.cpp): per-lane partial results over whole vectors, then the
// lanes and the row's tail folded by a scalar loop.
#pragma once

#include <functional>
#include <vector>

#include "ir/graph.h"
#include "kernel/ir.h"
#include "ops/op_families.h"

namespace kiln::ops {

// How element j joins the accumulator: the statement that updates acc[0]
// (it may also store into other buffers). Called twice (vector body and
// scalar tail), so build fresh nodes each time.
using FoldStep = std::function<kir::Stmt(const kir::Expr& j, const kir::Buffer& acc)>;

// out[0] = init folded with step(j) for j in [0, len), as whole vectors of
// `lanes` (each lane folding its own elements from `init`) whose lanes are
// then combined with `combine`, then the tail. `init` must be the identity of
// `combine` (0 for +, -inf for max); `out` is a one-element buffer.
kir::Stmt fold_row(int64_t len, int lanes, DType dt, const kir::Expr& init, kir::BinOp combine,
                   const kir::Buffer& out, const FoldStep& step);

// Emits make(j) for j in [0, len): vectorized chunks of `lanes`, then a scalar tail.
kir::Stmt for_row(int64_t len, int lanes, const std::function<kir::Stmt(const kir::Expr& j)>& make);

// The loops over every row of a tensor of `shape` along `axis` (the dims before it,
// as a LoopNest; the dims after it are 1 or absent) and the index of element j of
// the current row.
class RowLoops {
 public:
  RowLoops(const ir::Shape& shape, int64_t axis);
  std::vector<kir::Expr> at(const kir::Expr& j) const;
  // `body` (one row) inside the row loops; the outermost parallel when `parallelize`
  // and the rows hold at least 16K elements.
  kir::Stmt build(kir::Stmt body, bool parallelize) const;

 private:
  LoopNest nest_;
  std::vector<kir::Expr> base_;
  int64_t axis_, len_;
};

}  // namespace kiln::ops
