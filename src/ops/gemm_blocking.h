// Cache blocking of the level-3 GEMM-shaped kernels (ops/matmul_tiled.cpp,
// ops/conv_1x1_rows.cpp): how an M x N x K product is cut into register
// tiles, K blocks, M blocks, column chunks and parallel work items.
#pragma once

#include <cstdint>

#include "kernel/ir.h"

namespace kiln::ops {

// The L2 size the blocking assumes (a documented constant: the x86-64 and
// AArch64 cores kiln targets have at least 512 KiB of L2 per core), and the
// largest local buffer a kernel keeps on the stack (codegen mallocs bigger
// ones, which costs page faults).
inline constexpr int64_t kGemmL2Bytes = 512 * 1024;
inline constexpr int64_t kGemmStackBytes = 64 * 1024;

struct GemmPlan {
  int64_t mr = 1, nr = 1;  // register tile: at most mr rows x nr columns (one column panel)
  // ceil(M / mr) row tiles whose heights differ by at most one: the first
  // tile_r have tile_q + 1 rows, the others tile_q.
  int64_t tiles = 1, tile_q = 1, tile_r = 0;
  // M blocks (the A block, its rows x kc, stays in L2 while the item's
  // panels pass over it): block b has tiles [b * tiles / mblocks, (b + 1) * tiles / mblocks).
  int64_t mblocks = 1;
  // Column panels of nr, grouped in chunks of panels_per_chunk (the last may have fewer).
  int64_t panels = 1, panels_per_chunk = 1, chunks = 1;
  // K blocks of kc (the last may be shorter). With kblocks > 1 a work item
  // parks its partial sums between K blocks in a local buffer of
  // block_rows() x panels_per_chunk x nr, and the epilogue runs after the last.
  int64_t kc = 1, kblocks = 1;
  // Within a work item: true, each row tile passes over all of the chunk's
  // panels (its A rows stay in L1; C is written in long runs per row, which
  // the prefetchers follow); false, each panel is passed by all row tiles
  // (the B micro-panel stays in L1).
  bool rows_outer = false;
  // B read strided (plan_packed_b): each full column panel's K block is first
  // copied into a contiguous local buffer (kc x nr) that the block's row
  // tiles then read.
  bool pack_b = false;

  // The most rows an M block has.
  int64_t block_rows() const { return (tiles + mblocks - 1) / mblocks * (tile_q + (tile_r > 0 ? 1 : 0)); }
  // Work items (M block x column chunk): the parallel loop's extent (per batch).
  int64_t items() const { return mblocks * chunks; }
  // The first tile of M block b (an index expression).
  kir::Expr block_tile(const kir::Expr& b) const;
  // The next-panel prefetch of GemmTiler (GemmOperands::prefetch_b), in
  // steps of `step` elements (a cache line, or nr if that is shorter): over
  // a K block of `len` rows, the row tile `offset` rows into its M block
  // prefetches steps [start, start + len) of the next panel's K block
  // (len x nr elements), start being its share of that block.
  kir::Expr prefetch_start(const kir::Expr& offset, const kir::Expr& len, int64_t step) const;
};

// The register tiles' rows and the K blocks of an M x K by K x N product
// (plan_gemm's tiles, tile_q, tile_r, mr, kc and kblocks; the rest default).
// They depend on M, K and mr only, so that an A operand packed at compile
// time tile by tile (pack_gemm_rows) matches the kernel's plan.
GemmPlan plan_row_tiles(int64_t m, int64_t k, int64_t mr);

// The blocking of `batches` products of M x K by K x N with at most an
// mr x nr register tile.
GemmPlan plan_gemm(int64_t m, int64_t n, int64_t k, int64_t mr, int64_t nr, int64_t batches);

// Blocks K of a panel-outer plan (not rows_outer) so that a B micro-panel
// (kc x nr) fits in `l1_bytes`, where K is at least 4 times that kc: a
// panel's row tiles then read it from L1 rather than L2 (fewer panels per
// chunk where the parked sums would outgrow the stack buffer).
void plan_l1_k_blocks(GemmPlan& g, int64_t k, int64_t l1_bytes);

// Sets pack_b (and panel-outer order) for a plan whose B rows lie far apart
// in memory (NCHW activations, a whole plane apart): when the packed panel
// fits a stack buffer and enough row tiles read it. n and k are B's columns
// and rows. `gathered`: B's columns lie apart too (a vector of them is a
// gather or a strided load), and every full panel that fits is packed.
void plan_packed_b(GemmPlan& g, int64_t n, int64_t k, bool gathered = false);

}  // namespace kiln::ops
