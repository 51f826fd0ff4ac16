// Row reductions vectorized along the row (see row_reduce.h).
#include "ops/row_reduce.h"

#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Stmt fold_row(int64_t len, int lanes, DType dt, const Expr& init, kir::BinOp combine, const kir::Buffer& out,
              const FoldStep& step) {
  Expr zero = Expr(int64_t{0});
  int64_t chunks = lanes > 1 ? len / lanes : 0;
  std::vector<Stmt> parts{kir::store(out, zero, init)};
  if (chunks > 0) {
    // part[v] = fold of elements c * lanes + v; the vectorize pass makes the
    // per-lane accumulator one vector register.
    kir::Buffer part = kir::make_buffer("part", dt), acc = kir::make_buffer("acc", dt);
    Expr v = kir::var("v"), c = kir::var("c");
    Stmt lane_fold = kir::allocate(
        acc, Expr(int64_t{1}),
        kir::block({kir::store(acc, zero, init),
                    kir::for_loop(c, zero, Expr(chunks), kir::ForKind::kSerial, step(c * Expr(int64_t{lanes}) + v, acc)),
                    kir::store(part, v, kir::load(acc, zero))}));
    Stmt lanes_loop = kir::for_loop(v, zero, Expr(int64_t{lanes}), kir::ForKind::kVectorized, lane_fold);
    // The lanes pairwise (a tree, not a chain of dependent operations).
    std::vector<Expr> level;
    for (int64_t i = 0; i < lanes; ++i) level.push_back(kir::load(part, Expr(i)));
    while (level.size() > 1) {
      std::vector<Expr> next;
      for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(kir::binary(combine, level[i], level[i + 1]));
      if (level.size() % 2) next.push_back(level.back());
      level = std::move(next);
    }
    Stmt fold_lanes = kir::store(out, zero, kir::binary(combine, kir::load(out, zero), level[0]));
    parts.push_back(kir::allocate(part, Expr(int64_t{lanes}), kir::block({lanes_loop, fold_lanes})));
  }
  int64_t tail = len - chunks * lanes;
  if (tail > 0) {
    Expr t = kir::var("t");
    parts.push_back(kir::for_loop(t, Expr(chunks * lanes), Expr(tail), kir::ForKind::kSerial, step(t, out)));
  }
  return kir::block(std::move(parts));
}

Stmt for_row(int64_t len, int lanes, const std::function<Stmt(const Expr& j)>& make) {
  return vector_loop("j", 0, len, lanes, lanes > 1, make);
}

RowLoops::RowLoops(const ir::Shape& shape, int64_t axis)
    : base_(shape.size(), kir::Expr(int64_t{0})), axis_(axis), len_(shape[axis]) {
  for (int64_t d = 0; d < axis; ++d) base_[d] = nest_.add("r" + std::to_string(d), shape[d]);
}

std::vector<kir::Expr> RowLoops::at(const kir::Expr& j) const {
  std::vector<kir::Expr> i = base_;
  i[axis_] = j;
  return i;
}

kir::Stmt RowLoops::build(kir::Stmt body, bool parallelize) const {
  return nest_.build(std::move(body), parallelize && nest_.total() * len_ >= 16 * 1024);
}

}  // namespace kiln::ops
