// Level-3 1x1 unit-stride (along rows), unpadded Conv on NCHW as GEMMs:
// output channels x positions = W[oc, ic] x X[ic, positions], per image and
// group, on the GEMM microkernel of ops/gemm_tiler.h (mr output channels x nr
// positions, weights broadcast, vectors along the contiguous positions, so
// loads and the epilogue's stores are contiguous vectors). With unit strides
// the whole H x W plane is one row of positions; with a row stride (or an
// epilogue that reads an input broadcast along only one of H and W) each
// output row is its own GEMM.
#include "kernel/mutator.h"
#include "ops/conv_params.h"
#include "ops/gemm_tiler.h"
#include "ops/op_families.h"
#include "ops/weight_layout.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

Expr zero() { return Expr(int64_t{0}); }

// Whether every index the write of output element (.., oh, ow) computes uses
// both oh and ow or neither: then a flat position p may stand for (0, p).
class PlaneIndexCheck : public kir::IRVisitor {
 public:
  PlaneIndexCheck(const Expr& oh, const Expr& ow) : oh_(oh.get()), ow_(ow.get()) {}
  bool ok = true;

 protected:
  void visit_Load(const kir::Load* op) override {
    check(op->index);
    kir::IRVisitor::visit_Load(op);
  }
  void visit_Store(const kir::Store* op) override {
    check(op->index);
    kir::IRVisitor::visit_Store(op);
  }

 private:
  class Uses : public kir::IRVisitor {
   public:
    explicit Uses(const kir::ExprNode* v) : v_(v) {}
    bool found = false;

   protected:
    void visit_Var(const kir::Var* op) override { found = found || op == v_; }

   private:
    const kir::ExprNode* v_;
  };
  void check(const Expr& index) {
    Uses h(oh_), w(ow_);
    h.visit(index);
    w.visit(index);
    ok = ok && h.found == w.found;
  }
  const kir::ExprNode *oh_, *ow_;
};

bool plane_is_one_row(const LowerContext& ctx) {
  Expr oh = kir::var("oh"), ow = kir::var("ow");
  PlaneIndexCheck check(oh, ow);
  check.visit(ctx.write(0, {zero(), zero(), oh, ow}, kir::make_const(scalar_type(ctx.node.inputs[0]->type.dtype), 0)));
  return check.ok;
}

}  // namespace

bool conv_1x1_rows_applies(const ConvParams& p, const KernelOptions& opts) {
  bool unit = p.kh == 1 && p.kw == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0;
  // Rows of positions at least half a panel long keep most vector lanes busy.
  int64_t row = p.sh == 1 ? p.oh * p.ow : p.ow;
  return unit && 2 * row >= register_tile(opts).nr;
}

Expected<Stmt> lower_conv_1x1_rows(const LowerContext& ctx, const ConvParams& p) {
  RegisterTile tile = register_tile(ctx.opts);
  DType dt = ctx.node.inputs[0]->type.dtype;
  int64_t mg = p.m / p.group;
  bool flat = p.sh == 1 && plane_is_one_row(ctx);
  int64_t cols = flat ? p.oh * p.ow : p.ow;
  LoopNest nest;
  Expr n = nest.add("n", p.n), g = nest.add("g", p.group);
  Expr oh = flat ? zero() : nest.add("oh", p.oh);
  int64_t batches = p.n * p.group * (flat ? 1 : p.oh);
  // Weights are tile-packed by passes/pack_weights ("rowtile<mr>", each
  // tile's rows interleaved: one contiguous stream of broadcasts), or OIHW,
  // or, from elsewhere, packed in output-channel blocks.
  std::optional<PackedWeight> packed = packed_weight(ctx.node);
  bool tiled = packed && packed->layout == gemm_rows_layout_name(packed->block);
  int64_t mr = tiled ? packed->block : tile.mr;
  GemmPlan plan = plan_gemm(mg, cols, p.cg, mr, tile.nr, batches);
  auto oc = [&](const Expr& m) { return p.group == 1 ? m : g * Expr(mg) + m; };
  GemmOperands ops;
  ops.a = [&](const Expr& m0, int64_t i, int64_t rows, const Expr& k) {
    if (tiled) return ctx.read(1, {oc(m0) * Expr(p.cg) + k * Expr(rows) + Expr(i)});
    Expr m = m0 + Expr(i);
    if (packed) return ctx.read(1, packed_conv_index(oc(m), k, zero(), zero(), mg, packed->block));
    return ctx.read(1, {oc(m), k, zero(), zero()});
  };
  ops.b = [&](const Expr& k, const Expr& col, const Expr&, const Expr&) {
    Expr cin = p.group == 1 ? k : g * Expr(p.cg) + k;
    return ctx.read(0, {n, cin, oh * Expr(p.sh), col});
  };
  ops.write = [&](const Expr& m, const Expr& col, const Expr& v) {
    Expr y = ctx.node.inputs.size() == 3 ? v + ctx.read(2, {oc(m)}) : v;
    return ctx.write(0, {n, oc(m), oh, col}, y);
  };
  Expr w = nest.add("w", plan.items());
  bool parallel = ctx.opts.parallelize() && p.n * p.m * p.oh * p.ow * p.cg >= 64 * 1024;
  GemmTiler tiler(plan, cols, p.cg, dt, ctx.opts.f32_lanes, ops);
  return nest.build(tiler.item(w), parallel);
}

}  // namespace kiln::ops
