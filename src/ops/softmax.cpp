// Softmax and LogSoftmax over one axis (attribute axis:i, non-negative;
// default the last), numerically stable: the axis maximum is subtracted first.
#include "ops/op_families.h"
#include "ops/row_reduce.h"

namespace kiln::ops {

using ir::OpKind;
using kir::Expr;
using kir::Stmt;

Status infer_softmax(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  int64_t axis = node.attrs.get_int("axis", x.rank() - 1);
  if (axis < 0 || axis >= x.rank())
    return Status::invalid(std::string(ir::op_name(node.op)) + " axis " + std::to_string(axis) +
                           " is out of range for " + x.str());
  outputs->assign(1, x);
  return Status::ok();
}

namespace {

// Rows at least this many vectors long run along the row; shorter ones (and
// strided axes) vectorize across rows.
constexpr int64_t kMinRowVectors = 1;
// The exp of a row up to this long is kept in a local buffer (on the stack)
// for the normalizing pass instead of computed again.
constexpr int64_t kMaxKeptRow = 4096;

// A contiguous axis (every later dimension 1), row by row, vectorized along
// the row, three passes over the row while it is in L1: max; exp(x - max)
// (kept) and their sum; the outputs.
Stmt lower_softmax_rows(const LowerContext& ctx, int64_t axis) {
  const ir::TensorType& x = ctx.node.inputs[0]->type;
  bool log = ctx.node.op == OpKind::kLogSoftmax;
  kir::Type t = scalar_type(x.dtype);
  Expr zero = Expr(int64_t{0});
  int64_t len = x.shape[axis];
  int lanes = ctx.opts.f32_lanes;
  RowLoops rows(x.shape, axis);
  auto at = [&](const Expr& j) { return rows.at(j); };
  kir::Buffer mx = kir::make_buffer("mx", x.dtype), sum = kir::make_buffer("sum", x.dtype);
  kir::Buffer kept = kir::make_buffer("e", x.dtype);
  bool keep = !log && len <= kMaxKeptRow;
  Expr m = kir::load(mx, zero);
  Stmt find_max = fold_row(len, lanes, x.dtype, lowest_value(x.dtype), kir::BinOp::kMax, mx,
                           [&](const Expr& j, const kir::Buffer& acc) {
                             return kir::store(acc, zero, kir::max(kir::load(acc, zero), ctx.read(0, at(j))));
                           });
  Stmt add_exp = fold_row(len, lanes, x.dtype, kir::make_const(t, 0), kir::BinOp::kAdd, sum,
                          [&](const Expr& j, const kir::Buffer& acc) {
                            Expr e = kir::call(kir::Intrinsic::kExp, {ctx.read(0, at(j)) - m});
                            if (!keep) return kir::store(acc, zero, kir::load(acc, zero) + e);
                            Expr ev = kir::var("ev", t);
                            return kir::let_stmt(ev, e, kir::block({kir::store(kept, j, ev),
                                                                    kir::store(acc, zero, kir::load(acc, zero) + ev)}));
                          });
  // log: x - (max + log(sum)); else exp(x - max) * (1 / sum).
  kir::Buffer shift = kir::make_buffer("shift", x.dtype);
  Expr sh = kir::load(shift, zero);
  Stmt set_shift = kir::store(shift, zero, log ? m + kir::call(kir::Intrinsic::kLog, {kir::load(sum, zero)})
                                                : kir::make_const(t, 1) / kir::load(sum, zero));
  Stmt emit = for_row(len, lanes, [&](const Expr& j) {
    Expr v = log ? ctx.read(0, at(j)) - sh
                 : (keep ? kir::load(kept, j) : kir::call(kir::Intrinsic::kExp, {ctx.read(0, at(j)) - m})) * sh;
    return ctx.write(0, at(j), v);
  });
  Stmt body = kir::block({find_max, add_exp, set_shift, emit});
  body = kir::allocate(shift, Expr(int64_t{1}), body);
  if (keep) body = kir::allocate(kept, Expr(len), body);
  body = kir::allocate(mx, Expr(int64_t{1}), kir::allocate(sum, Expr(int64_t{1}), body));
  return rows.build(body, ctx.opts.parallelize());
}

}  // namespace

// for every position of the other axes (outermost parallel, innermost
// vectorized): max over the axis; sum of exp(x - max); then each output once.
Expected<Stmt> lower_softmax(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::TensorType& x = node.inputs[0]->type;
  int64_t axis = node.attrs.get_int("axis", x.rank() - 1);
  bool log = node.op == OpKind::kLogSoftmax;
  kir::Type t = scalar_type(x.dtype);
  Expr zero = Expr(int64_t{0});
  int64_t len = x.shape[axis];
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[d];
  if (ctx.opts.vectorize() && inner == 1 && len >= kMinRowVectors * ctx.opts.f32_lanes)
    return lower_softmax_rows(ctx, axis);


  auto point = [&](const std::vector<Expr>& base) -> Stmt {
    kir::Buffer mx = kir::make_buffer("mx", x.dtype);
    kir::Buffer sum = kir::make_buffer("sum", x.dtype);
    auto at = [&](const Expr& j) {
      std::vector<Expr> i = base;
      i[axis] = j;
      return i;
    };
    Expr j1 = kir::var("j"), j2 = kir::var("j"), j3 = kir::var("j");
    Expr m = kir::load(mx, zero);
    Expr s = kir::load(sum, zero);
    Stmt find_max = kir::for_loop(j1, zero, Expr(len), kir::ForKind::kSerial,
                                  kir::store(mx, zero, kir::max(m, ctx.read(0, at(j1)))));
    Stmt add_exp = kir::for_loop(j2, zero, Expr(len), kir::ForKind::kSerial,
                                 kir::store(sum, zero, s + kir::call(kir::Intrinsic::kExp, {ctx.read(0, at(j2)) - m})));
    Expr shifted = ctx.read(0, at(j3)) - m;
    Expr value = log ? shifted - kir::call(kir::Intrinsic::kLog, {s})
                     : kir::call(kir::Intrinsic::kExp, {shifted}) / s;
    Stmt emit = kir::for_loop(j3, zero, Expr(len), kir::ForKind::kSerial, ctx.write(0, at(j3), value));
    Stmt body = kir::block({kir::store(mx, zero, lowest_value(x.dtype)), find_max,
                            kir::store(sum, zero, kir::make_const(t, 0)), add_exp, emit});
    return kir::allocate(mx, Expr(int64_t{1}), kir::allocate(sum, Expr(int64_t{1}), body));
  };

  return lower_along_axis(ctx, x.shape, axis, point);
}

}  // namespace kiln::ops
