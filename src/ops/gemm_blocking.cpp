// GEMM cache blocking (see gemm_blocking.h). The constants were chosen by
// measurement on the project's bench machine (AMD Zen4, AVX-512) with the
// BERT-base and ResNet-50 shapes of bench/models.py.
#include "ops/gemm_blocking.h"

#include <algorithm>

namespace kiln::ops {

using kir::Expr;

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Work items the parallel loop should have, when the shape allows: the
// runtime hands each thread up to 4 contiguous runs of items, and 8 split
// evenly over 1, 2, 4 or 8 threads.
constexpr int64_t kMinItems = 8;
// K up to this stays in one block: the tile's accumulators stay in registers
// over all of K while A's rows stream from L2 (measured: K-blocking a K of
// 768 costs 2-7 %).
constexpr int64_t kMaxUnblockedK = 1536;
// The K block of a longer K: its A block (128 rows x 768 = 384 KiB) stays in
// L2 across the item's panels; shorter blocks cost more in parked sums than
// they gain (measured: 768 beats 384, 224 and 128 at K = 3072).
constexpr int64_t kBlockK = 768;
// A row tile whose A rows (rows x K) fit in this much of L1 passes over all
// of its chunk's panels (GemmPlan::rows_outer): 1x1 convs with few input
// channels write their NCHW output planes in long runs (measured on
// ResNet-50's expansion convs: 5-15 % faster).
constexpr int64_t kRowsOuterBytes = 16 * 1024;

// A packed B panel serves at least this many row tiles (measured on NCHW 1x1
// convs, AVX-512: 2 row tiles, Conv 96->16 at 28x28, were slower packed;
// 4 or more, 8->48 at 112x112 and ResNet-50's 256-512 channel layers at
// 56x56 and 28x28, 10-25 % faster).
constexpr int64_t kMinPackedRowTiles = 3;
// A B up to this size stays in L2 between its reads, and packing its panels
// costs more than it saves: in ResNet-50 (AVX-512, 1 thread) the 64->256 1x1
// convs at 56x56 (B 800 KB, rows_outer) ran 2x slower packed, in MobileNetV2
// 192->32 at 14x14 (B 150 KB) 20 % slower, while 256->64 and 256->128 at
// 56x56 (B 3.2 MB) ran 20-33 % faster and 512->128 at 28x28 (1.6 MB) 10 %.
constexpr int64_t kPackMinB = 1024 * 1024;

}  // namespace

Expr GemmPlan::block_tile(const Expr& b) const {
  if (mblocks == 1) return Expr(int64_t{0});
  return b * Expr(tiles) / Expr(mblocks);
}

Expr GemmPlan::prefetch_start(const Expr& offset, const Expr& len, int64_t step) const {
  int64_t per_row = nr / step;
  if (per_row <= 1) return Expr(int64_t{0});
  return kir::min(offset * Expr(per_row) * len / Expr(block_rows()), Expr(per_row - 1) * len);
}

GemmPlan plan_row_tiles(int64_t m, int64_t k, int64_t mr) {
  GemmPlan g;
  if (k > kMaxUnblockedK) {
    g.kblocks = ceil_div(k, kBlockK);
    g.kc = std::min(k, ceil_div(ceil_div(k, g.kblocks), 8) * 8);
    g.kblocks = ceil_div(k, g.kc);
  } else {
    g.kc = k;
  }
  // Full-height tiles also when A's rows share an L1 set (a row stride that
  // is a multiple of 4 KiB) and in K blocks: measured on an AVX-512 Xeon
  // (48 KiB 12-way L1, B panels prefetched), capping them at 7 rows made
  // MatMul 128x1024x1024 12 % and 128x3000x768 10 % slower.
  g.mr = mr;
  g.tiles = ceil_div(m, g.mr);
  g.tile_q = m / g.tiles;
  g.tile_r = m % g.tiles;
  return g;
}

GemmPlan plan_gemm(int64_t m, int64_t n, int64_t k, int64_t mr, int64_t nr, int64_t batches) {
  GemmPlan g = plan_row_tiles(m, k, mr);
  g.nr = nr;
  g.panels = ceil_div(n, nr);
  // M blocks whose A block (rows x kc) fits in L2.
  int64_t tile_rows = g.tile_q + (g.tile_r > 0 ? 1 : 0);
  int64_t rows = std::max<int64_t>(tile_rows, kGemmL2Bytes / (g.kc * 4));
  g.mblocks = ceil_div(g.tiles, std::max<int64_t>(1, rows / tile_rows));

  // Column chunks: enough work items for the threads (batches share them);
  // parked sums within one stack buffer. One product's items are a multiple
  // of kMinItems where the panels allow (3 M blocks x 3 chunks left one
  // thread of two a third more work: MatMul 512^3 at 2 threads).
  int64_t want = ceil_div(kMinItems, batches * g.mblocks);
  if (batches == 1)
    while (g.mblocks * want % kMinItems != 0 && want < g.panels) ++want;
  int64_t ppc = ceil_div(g.panels, std::max<int64_t>(1, want));
  if (g.kblocks > 1) ppc = std::min(ppc, std::max<int64_t>(1, kGemmStackBytes / 4 / (g.block_rows() * nr)));
  g.chunks = ceil_div(g.panels, std::max<int64_t>(1, ppc));
  g.panels_per_chunk = ceil_div(g.panels, g.chunks);
  g.rows_outer = g.kblocks == 1 && k * tile_rows * 4 <= kRowsOuterBytes;
  return g;
}

void plan_l1_k_blocks(GemmPlan& g, int64_t k, int64_t l1_bytes) {
  int64_t kc = std::max<int64_t>(8, l1_bytes / (g.nr * 4) / 8 * 8);
  if (g.rows_outer || k < 4 * kc) return;
  g.kblocks = ceil_div(k, kc);
  g.kc = ceil_div(ceil_div(k, g.kblocks), 8) * 8;
  int64_t ppc = std::max<int64_t>(1, kGemmStackBytes / 4 / (g.block_rows() * g.nr));
  if (g.panels_per_chunk > ppc) {
    g.chunks = ceil_div(g.panels, ppc);
    g.panels_per_chunk = ceil_div(g.panels, g.chunks);
  }
}

void plan_packed_b(GemmPlan& g, int64_t n, int64_t k, bool gathered) {
  if (!gathered && n * k * 4 <= kPackMinB) return;
  int64_t rows_per_block = (g.tiles + g.mblocks - 1) / g.mblocks;
  if (g.kc * g.nr * 4 > kGemmStackBytes || g.panels < 2) return;
  if (!gathered && rows_per_block < kMinPackedRowTiles) return;
  g.pack_b = true;
  g.rows_outer = false;
}

}  // namespace kiln::ops
