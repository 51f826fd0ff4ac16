// The level-3 GEMM microkernel and its blocking (see gemm_tiler.h).
#include "ops/gemm_tiler.h"

#include <algorithm>

#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }

}  // namespace

GemmTiler::GemmTiler(const GemmPlan& plan, int64_t n, int64_t k, DType dt, int lanes, GemmOperands ops)
    : g_(plan), n_(n), k_(k), dt_(dt), lanes_(lanes), ops_(std::move(ops)) {}

Stmt GemmTiler::item(const Expr& w) {
  Expr mb = g_.chunks == 1 ? w : g_.mblocks == 1 ? zero() : w / Expr(g_.chunks);
  Expr ch = g_.mblocks == 1 ? w : g_.chunks == 1 ? zero() : w % Expr(g_.chunks);
  t0_ = g_.block_tile(mb);
  t1_ = g_.mblocks == 1 ? Expr(g_.tiles) : g_.block_tile(mb + Expr(int64_t{1}));
  row0_ = tile_row(t0_);
  pl_ = kir::var("pl");
  nb_ = g_.chunks == 1 ? pl_ : ch * Expr(g_.panels_per_chunk) + pl_;
  Expr count = g_.chunks == 1 ? Expr(g_.panels)
                              : kir::min(Expr(g_.panels_per_chunk), Expr(g_.panels) - ch * Expr(g_.panels_per_chunk));
  if (g_.kblocks > 1) {
    kb_ = kir::var("kb");
    k0_ = kb_ * Expr(g_.kc);
    c_part_ = kir::make_buffer("c_part", dt_);
  }
  if (g_.pack_b) b_pack_ = kir::make_buffer("b_pack", dt_);
  auto panels = [&](const Stmt& body) {
    if (!g_.pack_b) return kir::for_loop(pl_, zero(), count, kir::ForKind::kSerial, body);
    Stmt packed = kir::allocate(b_pack_, Expr(g_.kc * g_.nr), kir::block({pack_panel(), body}));
    return kir::for_loop(pl_, zero(), count, kir::ForKind::kSerial, packed);
  };
  Stmt body = g_.rows_outer
                  ? row_tiles([&](const Expr& m0, int64_t rows) { return panels(panel(m0, rows)); })
                  : panels(row_tiles([&](const Expr& m0, int64_t rows) { return panel(m0, rows); }));
  if (g_.kblocks == 1) return body;
  body = kir::for_loop(kb_, zero(), Expr(g_.kblocks), kir::ForKind::kSerial, body);
  return kir::allocate(c_part_, Expr(g_.block_rows() * g_.panels_per_chunk * g_.nr), body);
}

// Copies the K block of panel nb_ into b_pack_ (k-major, nr lanes per k),
// unless it is a narrower last panel (whose tiles read B directly).
Stmt GemmTiler::pack_panel() {
  Expr k = kir::var("pk"), j = kir::var("j");
  Expr len = block_len();
  Expr kg = g_.kblocks > 1 ? k0_ + k : k;
  Stmt row = kir::store(b_pack_, k * Expr(g_.nr) + j, ops_.b(kg, nb_ * Expr(g_.nr) + j, nb_, j));
  Stmt copy = kir::for_loop(k, zero(), len, kir::ForKind::kSerial,
                            kir::for_loop(j, zero(), Expr(g_.nr), kir::ForKind::kVectorized, row));
  if (n_ == g_.panels * g_.nr) return copy;
  return kir::if_then_else(nb_ < Expr(g_.panels - 1), copy);
}

// The rows of K block kb_: [kb * kc, min(K, (kb + 1) * kc)), or all of K.
Expr GemmTiler::block_len() const {
  if (g_.kblocks == 1) return Expr(k_);
  return k_ % g_.kc == 0 ? Expr(g_.kc) : kir::min(Expr(g_.kc), Expr(k_) - k0_);
}

// The first row of row tile t: the first tile_r tiles have tile_q + 1 rows.
Expr GemmTiler::tile_row(const Expr& t) const {
  if (g_.tile_r == 0) return t * Expr(g_.tile_q);
  return t * Expr(g_.tile_q) + kir::min(t, Expr(g_.tile_r));
}

// The tile at rows [m0, m0 + rows) of panel nb_; the last panel may be narrower.
Stmt GemmTiler::panel(const Expr& m0, int64_t rows) {
  int64_t tail = n_ - (g_.panels - 1) * g_.nr;
  Stmt body = tile(m0, rows, 0, g_.nr);
  if (tail == g_.nr) return body;
  std::vector<Stmt> pieces;
  for (auto [off, w] : vector_pieces(tail, lanes_)) pieces.push_back(tile(m0, rows, off, w));
  Stmt last = kir::block(std::move(pieces));
  return g_.panels == 1 ? last : kir::if_then_else(nb_ == Expr(g_.panels - 1), last, body);
}

// make(first row, rows) for the row tiles [t0_, t1_): a loop over the taller
// tiles (t < tile_r), then one over the others.
Stmt GemmTiler::row_tiles(const std::function<Stmt(const Expr& m0, int64_t rows)>& make) {
  std::vector<Stmt> parts;
  auto run = [&](const Expr& begin, const Expr& end, int64_t height, bool taller) {
    Expr t = kir::var("mt");
    Expr extent = g_.mblocks == 1 ? end - begin : kir::max(end - begin, zero());
    if (const int64_t* e = kir::as_const_int(extent); e && *e <= 0) return;
    Expr row = taller ? t * Expr(height) : t * Expr(height) + Expr(g_.tile_r);
    parts.push_back(kir::for_loop(t, begin, extent, kir::ForKind::kSerial, make(row, height)));
  };
  if (g_.tile_r == 0) {
    run(t0_, t1_, g_.tile_q, true);
  } else if (g_.mblocks == 1) {
    run(zero(), Expr(g_.tile_r), g_.tile_q + 1, true);
    run(Expr(g_.tile_r), Expr(g_.tiles), g_.tile_q, false);
  } else {
    run(t0_, kir::min(t1_, Expr(g_.tile_r)), g_.tile_q + 1, true);
    run(kir::max(t0_, Expr(g_.tile_r)), t1_, g_.tile_q, false);
  }
  return kir::block(std::move(parts));
}

// One tile: rows [m0, m0 + rows) x columns [off, off + width) of panel nb_,
// accumulated over K (or over K block kb_, reloading and parking the sums).
Stmt GemmTiler::tile(const Expr& m0, int64_t rows, int64_t off, int64_t width) {
  bool blocked = g_.kblocks > 1;
  Expr j = kir::var("j"), k = kir::var("k");
  Expr lane = Expr(off) + j;  // column within the panel
  Expr n = nb_ * Expr(g_.nr) + lane;
  Expr kg = blocked ? k0_ + k : k;
  kir::Buffer acc = kir::make_buffer("acc", dt_);
  bool packed = g_.pack_b && off == 0 && width == g_.nr;
  Expr bv = packed ? kir::load(b_pack_, k * Expr(g_.nr) + lane) : ops_.b(kg, n, nb_, lane);
  std::vector<Stmt> zeros, reload, update, park, out;
  for (int64_t i = 0; i < rows; ++i) {
    Expr m = m0 + Expr(i);
    zeros.push_back(kir::store(acc, Expr(i), kir::make_const(scalar_type(dt_), 0)));
    update.push_back(kir::store(acc, Expr(i), kir::load(acc, Expr(i)) + ops_.a(m0, i, rows, kg) * bv));
    out.push_back(ops_.write(m, n, kir::load(acc, Expr(i))));
    if (blocked) {
      Expr c = (pl_ * Expr(g_.block_rows()) + m - row0_) * Expr(g_.nr) + lane;
      reload.push_back(kir::store(acc, Expr(i), kir::load(c_part_, c)));
      park.push_back(kir::store(c_part_, c, kir::load(acc, Expr(i))));
    }
  }
  Stmt init = kir::block(zeros), done = kir::block(out), step = kir::block(update);
  if (ops_.prefetch_b && !g_.rows_outer && g_.panels > 1) {
    // One prefetch per k (into L2) of the next panel's K block, taken as a
    // flat run of cache lines that each of the block's row tiles starts at
    // its own share (GemmPlan::prefetch_start): the next panel streams in
    // evenly while all the row tiles pass over this one, and the loop's one
    // extra instruction has a pointer increment for its address. Before,
    // every tile prefetched every line of the next panel's row k: the first
    // tile asked for the whole panel at once and each k cost a load slot per
    // line. Measured on an AVX-512 Xeon (13x32 tiles, 1 thread, B packed):
    // MatMul 128x768x3072 and 128x3072x768 5-6 % faster, 128x768x768 and
    // 512^3 2-5 %, BERT-base-like encoder 6 %.
    int64_t line = std::min<int64_t>(64 / dtype_size(dt_), g_.nr);
    Expr next = kir::min(nb_ + Expr(int64_t{1}), Expr(g_.panels - 1));
    // Lanes past nr address the block's next rows.
    Expr at = (g_.prefetch_start(m0 - row0_, block_len(), line) + k) * Expr(line);
    Expr pf = kir::call(kir::Intrinsic::kPrefetch, {ops_.b(blocked ? k0_ : zero(), zero(), next, at)});
    step = kir::let_stmt(kir::var("pf", scalar_type(dt_)), pf, step);
  }
  if (off == 0) step = prefetch_next_rows(m0, rows, k, step);
  Stmt red = kir::for_loop(k, zero(), block_len(), kir::ForKind::kSerial, step);
  if (blocked) {
    init = kir::if_then_else(kb_ == zero(), init, kir::block(reload));
    done = kir::if_then_else(kb_ == Expr(g_.kblocks - 1), done, kir::block(park));
  }
  Stmt body = kir::allocate(acc, Expr(rows), kir::block({init, red, done}));
  return kir::for_loop(j, zero(), Expr(width), kir::ForKind::kVectorized, body);
}

// Step k of row tile [m0, m0 + rows) prefetching, before `step`, its share
// of the next row tile's contiguous runs (GemmOperands::prefetch_c and
// prefetch_a): the tile's panels x K steps spread each run's lines evenly.
// A run of more lines than steps is left to the hardware (a short K: a step
// of a few FMAs; measured on MobileNetV2's 8->48 1x1 convs at 56x56, K = 8,
// with two or three prefetches per step: 5-8 % slower).
Stmt GemmTiler::prefetch_next_rows(const Expr& m0, int64_t rows, const Expr& k, Stmt step) const {
  if (!g_.rows_outer || g_.chunks != 1 || g_.kblocks != 1) return step;
  int64_t line = 64 / dtype_size(dt_), steps = g_.panels * k_;
  Expr m1 = kir::min(m0 + Expr(rows), Expr(g_.tiles * g_.tile_q + g_.tile_r - 1));
  Expr s = pl_ * Expr(k_) + k;
  std::vector<Expr> calls;
  // The first element of the line of a run of `len` elements that step s asks for.
  auto share = [&](int64_t len, const std::function<void(const Expr&)>& add) {
    int64_t lines = (len + line - 1) / line;
    if (lines <= steps) add(s * Expr(lines) / Expr(steps) * Expr(line));
  };
  if (ops_.prefetch_c)
    share(rows * n_, [&](const Expr& e) {
      for (Expr& c : ops_.prefetch_c(m1, e)) calls.push_back(c);
    });
  if (ops_.prefetch_a)
    share(rows * k_, [&](const Expr& e) {
      calls.push_back(kir::call(kir::Intrinsic::kPrefetch, {ops_.prefetch_a(m1, e)}));
    });
  for (size_t i = 0; i < calls.size(); ++i)
    step = kir::let_stmt(kir::var("pr" + std::to_string(i), scalar_type(dt_)), calls[i], step);
  return step;
}

}  // namespace kiln::ops
