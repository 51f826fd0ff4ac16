// The level-3 GEMM microkernel and its cache blocking, shared by the
// GEMM-shaped lowerings (ops/matmul_tiled.cpp, ops/conv_1x1_rows.cpp): an
// mr x nr register tile of vector accumulators (A elements broadcast, B rows
// loaded as vectors along N), blocked as ops/gemm_blocking.h plans it.
#pragma once

#include <functional>

#include "ops/gemm_blocking.h"
#include "ops/op_info.h"

namespace kiln::ops {

// How the tiler reads and writes one product C[M, N] = A[M, K] x B[K, N].
// Indices are i64 expressions; n (and so `lane`) varies along the vector.
struct GemmOperands {
  // A[m0 + i, k] for row i of the register tile of `rows` rows from row m0
  // (a tile-packed A, pack_gemm_rows, keeps each tile's rows interleaved).
  std::function<kir::Expr(const kir::Expr& m0, int64_t i, int64_t rows, const kir::Expr& k)> a;
  // B[k, n] where n = panel * nr + lane (packed weights index by panel and lane).
  std::function<kir::Expr(const kir::Expr& k, const kir::Expr& n, const kir::Expr& panel, const kir::Expr& lane)> b;
  // B is packed in panels (b reads [panel, k, lane] and ignores n; a panel's
  // rows follow one another, so that b(k, _, panel, lane + nr) is row k + 1):
  // the row tiles prefetch the next panel (into L2) while they read this one,
  // each its share of it, so that a B bigger than the caches streams in
  // instead of stalling the next panel's first tile.
  bool prefetch_b = false;
  // Where C's rows (or A's) follow one another in memory, so that element n
  // (or k) of row m, past the row's end, is the next row's: prefetches of
  // that element. prefetch_c: the lines write(m, n, _) stores to and reads
  // (the output, a residual); prefetch_a: A[m, k]. With a row-outer plan of
  // one column chunk (GemmPlan::rows_outer), each k step of a row tile
  // prefetches (into L2) its share of the next row tile's runs, so that an
  // output, residual or input that does not stay in L2 streams in while this
  // tile computes, instead of stalling the epilogue's stores and loads.
  std::function<std::vector<kir::Expr>(const kir::Expr& m, const kir::Expr& n)> prefetch_c;
  std::function<kir::Expr(const kir::Expr& m, const kir::Expr& k)> prefetch_a;
  // Stores the finished C[m, n] (through the fused epilogue).
  std::function<kir::Stmt(const kir::Expr& m, const kir::Expr& n, const kir::Expr& value)> write;
};

class GemmTiler {
 public:
  GemmTiler(const GemmPlan& plan, int64_t n, int64_t k, DType dt, int lanes, GemmOperands ops);

  // The loops of work item w (0 <= w < plan.items()): M block w / chunks,
  // column chunk w % chunks; panel by panel, the block's row tiles pass over
  // the panel. With K blocks, partial sums are parked in a local buffer
  // between blocks and written (through the epilogue) after the last.
  kir::Stmt item(const kir::Expr& w);

 private:
  kir::Expr tile_row(const kir::Expr& t) const;
  kir::Expr block_len() const;
  kir::Stmt panel(const kir::Expr& m0, int64_t rows);
  kir::Stmt row_tiles(const std::function<kir::Stmt(const kir::Expr& m0, int64_t rows)>& make);
  kir::Stmt tile(const kir::Expr& m0, int64_t rows, int64_t off, int64_t width);
  kir::Stmt pack_panel();
  kir::Stmt prefetch_next_rows(const kir::Expr& m0, int64_t rows, const kir::Expr& k, kir::Stmt step) const;

  GemmPlan g_;
  int64_t n_, k_;
  DType dt_;
  int lanes_;
  GemmOperands ops_;
  kir::Expr nb_, pl_, kb_, k0_, t0_, t1_, row0_;
  kir::Buffer c_part_, b_pack_;
};

}  // namespace kiln::ops
