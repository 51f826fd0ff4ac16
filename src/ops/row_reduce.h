// Reductions over one contiguous row, vectorized along the row (softmax.cpp,
// layer_norm.cpp): per-lane partial results over whole vectors, then the
// lanes and the row's tail folded by a scalar loop.
#pragma once

#include <functional>

#include "kernel/ir.h"

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

}  // namespace kiln::ops
