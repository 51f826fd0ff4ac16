// Level-3 1x1, unpadded Conv on NHWC activations as a GEMM per group: output
// positions x output channels = X[positions, ic] x W^T[ic, oc], on the GEMM
// microkernel of ops/gemm_tiler.h (mr positions broadcast, nr output channels
// as vectors). For a 1x1 conv the "ohwi<nr>o" weights of passes/pack_weights
// are exactly the MatMul's packed B panels (Wp[panel, 0, 0, ic, lane]), so
// the kernel is the MatMul's: B streamed panel by panel with prefetches, long
// K blocked, plan_gemm's blocking (adjusted for a row-major output that does
// not stay in the caches: schedule_rows). Positions run flat over all images
// (NHWC keeps them contiguous); with strides, position (n, oh, ow) reads input
// pixel (n, oh * sh, ow * sw). The outputs are contiguous channel vectors,
// stored through the fused epilogue (bias, activation, residual Add).
#include <algorithm>

#include "ops/conv_params.h"
#include "ops/gemm_tiler.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

// The L1 data cache the schedule assumes (the cores kiln targets have at
// least 32 KiB), and the work items a schedule that splits only the
// positions makes where it can (as plan_gemm: 8 split evenly over 1, 2, 4 or 8 threads).
constexpr int64_t kL1Bytes = 32 * 1024;
constexpr int64_t kWorkItems = 8;

Expr zero() { return Expr(int64_t{0}); }

// The position dimensions (N, H, W) of an NHWC shape.
struct Positions {
  int64_t n, h, w;
};

// The index of element (position m, channel c) of an NHWC tensor whose
// positions (n, h, w) are row-major: m in the innermost dimension of extent
// > 1 (ops::flat_index skips extent-1 dimensions), whose stride is C.
std::vector<Expr> flat_position(const Positions& s, const Expr& m, const Expr& c) {
  if (s.w > 1) return {zero(), zero(), m, c};
  if (s.h > 1) return {zero(), m, zero(), c};
  return {m, zero(), zero(), c};
}

class Conv1x1Gemm {
 public:
  Conv1x1Gemm(const LowerContext& ctx, const ConvParams& p)
      : ctx_(ctx), p_(p), mg_(p.m / p.group), positions_(p.n * p.oh * p.ow), packed_(packed_weight(ctx.node)) {
    unit_ = p.sh == 1 && p.sw == 1;
    // The epilogue may index the output by flat position when every tensor it
    // reads either follows all of the output's position dimensions or none.
    Expr n = kir::var("n"), oh = kir::var("oh"), ow = kir::var("ow");
    std::vector<Expr> vars;
    for (auto [v, extent] : {std::pair{n, p.n}, {oh, p.oh}, {ow, p.ow}})
      if (extent > 1) vars.push_back(v);
    flat_out_ = write_indexes_all_or_none(ctx, {n, oh, ow, zero()}, vars);
  }

  Stmt build() {
    RegisterTile tile = nhwc_conv_tile(p_, ctx_.opts);
    int64_t nr = packed_ ? packed_->block : tile.nr;
    LoopNest nest;
    g_ = nest.add("g", p_.group);
    GemmPlan plan = plan_gemm(positions_, mg_, p_.cg, tile.mr, nr, p_.group);
    schedule_rows(plan);
    GemmOperands ops;
    ops.a = [&](const Expr& m0, int64_t i, int64_t, const Expr& k) { return input(m0 + Expr(i), k); };
    ops.b = [&, nr](const Expr& k, const Expr& n, const Expr& panel, const Expr& lane) {
      if (packed_) return ctx_.read(1, {g_ * Expr((mg_ + nr - 1) / nr) + panel, zero(), zero(), k, lane});
      return ctx_.read(1, {oc(n), k, zero(), zero()});
    };
    ops.prefetch_b = packed_.has_value();
    ops.write = [&](const Expr& m, const Expr& n, const Expr& v) {
      Expr y = ctx_.node.inputs.size() == 3 ? v + ctx_.read(2, {oc(n)}) : v;
      return ctx_.write(0, output(m, oc(n)), y);
    };
    // Runs of positions that do not stay in L2 stream in ahead (GemmOperands::prefetch_c, prefetch_a).
    int64_t input_bytes = p_.n * p_.h * p_.w * p_.c * 4;
    if (p_.group == 1 && positions_ * mg_ * 4 > kGemmL2Bytes)
      ops.prefetch_c = [&](const Expr& m, const Expr& c) {
        return write_prefetches(ctx_, [&](const Expr& pm) { return output(pm, c); }, m);
      };
    if (p_.group == 1 && unit_ && input_bytes > kGemmL2Bytes)
      ops.prefetch_a = [&](const Expr& m, const Expr& k) { return input(m, k); };
    Expr w = nest.add("w", plan.items());
    bool parallel = ctx_.opts.parallelize() && positions_ * p_.m * p_.cg >= 64 * 1024;
    GemmTiler tiler(plan, mg_, p_.cg, ctx_.node.inputs[0]->type.dtype, ctx_.opts.f32_lanes, ops);
    return nest.build(tiler.item(w), parallel);
  }

 private:
  // Where the weights stay in L2 and the output does not (or has rows for
  // every work item), each row tile passes over every column panel, so that
  // the output is written in whole rows (long runs the prefetchers follow),
  // and the work items split the positions only (ResNet-50's 64->256 at 56x56
  // with its residual Add: 0.82 -> 0.65 ms). Split by positions, a thread
  // reads only its own rows of the input, which the layer before (split the
  // same way) left in its core's cache; split by panels as well, every
  // thread read every row (ResNet-50's 512->128 at 28x28, 2 threads: 0.42 ->
  // 0.27-0.28 ms, ORT 0.33; 1 thread unchanged within noise). Otherwise plan_gemm's
  // blocking, but a row tile passes over its chunk's panels only while they
  // stay in L1: else every row tile streams them from L2 (MobileNetV2's
  // 112->1280 at 7x7: 0.122 -> 0.083 ms). In panel order a long K is cut in
  // blocks whose B micro-panel fits in L1 (plan_l1_k_blocks; ResNet-50, AVX-512
  // Xeon, kc 256: 2048->512 at 7x7 5-8 % faster, 1024->512 at 14x14 2-5 %,
  // 1024->256 0-4 %; at K = 512, two blocks, 2-5 % slower, so not split).
  void schedule_rows(GemmPlan& plan) const {
    int64_t weights = p_.cg * mg_ * 4, out = positions_ * mg_ * 4;
    if ((out > kGemmL2Bytes || plan.tiles >= kWorkItems) && 2 * weights <= kGemmL2Bytes && plan.kblocks == 1) {
      plan.chunks = 1;
      plan.panels_per_chunk = plan.panels;
      plan.mblocks = std::max(plan.mblocks, std::min(plan.tiles, kWorkItems));
      plan.rows_outer = true;
    } else if (p_.cg * plan.panels_per_chunk * plan.nr * 4 > kL1Bytes) {
      plan.rows_outer = false;
    }
    plan_l1_k_blocks(plan, p_.cg, kL1Bytes);
  }

  // Output channel n of group g_.
  Expr oc(const Expr& n) const { return p_.group == 1 ? n : g_ * Expr(mg_) + n; }

  // Input channel k of group g_ at output position m.
  Expr input(const Expr& m, const Expr& k) const {
    Expr c = p_.group == 1 ? k : g_ * Expr(p_.cg) + k;
    if (unit_) return ctx_.read(0, flat_position({p_.n, p_.h, p_.w}, m, c));
    auto [n, oh, ow] = split(m);
    return ctx_.read(0, {n, oh * Expr(p_.sh), ow * Expr(p_.sw), c});
  }

  std::vector<Expr> output(const Expr& m, const Expr& c) const {
    if (flat_out_) return flat_position({p_.n, p_.oh, p_.ow}, m, c);
    auto [n, oh, ow] = split(m);
    return {n, oh, ow, c};
  }

  // (image, row, column) of output position m.
  std::tuple<Expr, Expr, Expr> split(const Expr& m) const {
    Expr ow = p_.ow == 1 ? zero() : m % Expr(p_.ow);
    Expr rows = p_.ow == 1 ? m : m / Expr(p_.ow);
    Expr oh = p_.oh == 1 ? zero() : p_.n == 1 ? rows : rows % Expr(p_.oh);
    Expr n = p_.n == 1 ? zero() : rows / Expr(p_.oh);
    return {n, oh, ow};
  }

  const LowerContext& ctx_;
  const ConvParams& p_;
  int64_t mg_, positions_;
  std::optional<PackedWeight> packed_;
  bool unit_ = true, flat_out_ = false;
  Expr g_;
};

}  // namespace

bool conv_nhwc_1x1_applies(const ConvParams& p) {
  return p.kh == 1 && p.kw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0;
}

Expected<Stmt> lower_conv_nhwc_1x1(const LowerContext& ctx, const ConvParams& p) {
  return Conv1x1Gemm(ctx, p).build();
}

}  // namespace kiln::ops
