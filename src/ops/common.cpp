// Helpers shared by the op files: broadcasting, index arithmetic, loop nests,
// and the generic elementwise lowering.
#include <cmath>
#include <limits>
#include <sstream>

#include "ir/narrow_float.h"
#include "kernel/mutator.h"
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

Expected<ir::Shape> broadcast_shapes(const ir::Shape& a, const ir::Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  ir::Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right.
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return Status::invalid("shapes " + ir::shape_str(a) + " and " + ir::shape_str(b) +
                             " cannot be broadcast (dimension " + std::to_string(i) + ": " +
                             std::to_string(da) + " vs " + std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<Expr> broadcast_index(const std::vector<Expr>& out_idx, const ir::Shape& in) {
  KILN_CHECK(out_idx.size() >= in.size()) << "broadcast_index: input rank " << in.size() << " > output rank "
                                          << out_idx.size();
  size_t skip = out_idx.size() - in.size();
  std::vector<Expr> idx;
  idx.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) idx.push_back(in[i] == 1 ? Expr(int64_t{0}) : out_idx[skip + i]);
  return idx;
}

std::vector<int64_t> row_major_strides(const ir::Shape& s) {
  std::vector<int64_t> strides(s.size());
  int64_t stride = 1;
  for (size_t i = s.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= s[i];
  }
  return strides;
}

Expr flat_index(const std::vector<Expr>& idx, const ir::Shape& shape) {
  KILN_CHECK(idx.size() == shape.size()) << "flat_index: " << idx.size() << " indices for rank " << shape.size();
  std::vector<int64_t> strides = row_major_strides(shape);
  Expr flat = int64_t{0};
  for (size_t i = 0; i < idx.size(); ++i) {
    if (shape[i] == 1) continue;  // the index is always 0 there
    flat = flat + idx[i] * Expr(strides[i]);
  }
  return flat;
}

Status check_num_inputs(const ir::Node& node, int lo, int hi) {
  int n = static_cast<int>(node.inputs.size());
  if (n >= lo && n <= hi) return Status::ok();
  std::string want = lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
  return Status::invalid(std::string(ir::op_name(node.op)) + " takes " + want + " inputs, got " + std::to_string(n));
}

Status check_float_input(const ir::Node& node, int i) {
  const ir::TensorType& t = node.inputs[i]->type;
  if (t.dtype == DType::kF32 || t.dtype == DType::kF64) return Status::ok();
  return Status::invalid(std::string(ir::op_name(node.op)) + " needs a float32 or float64 input " +
                         std::to_string(i) + ", got " + t.str());
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << "]";
  return os.str();
}

Expr lowest_value(DType t) {
  kir::Type st = scalar_type(t);
  if (dtype_is_float(t)) {
    bool has_inf = !dtype_is_narrow_float(t) || t == DType::kBF16 || t == DType::kF8E5M2;
    return kir::make_const(st, has_inf ? -std::numeric_limits<double>::infinity() : -narrow_float_max(t));
  }
  if (t == DType::kBool || dtype_is_unsigned(t)) return kir::int_imm(0, st);
  return kir::int_imm(int64_t{-1} << (dtype_bits(t) - 1), st);  // wrapped: -2^(bits-1)
}

Expr highest_value(DType t) {
  kir::Type st = scalar_type(t);
  if (dtype_is_float(t)) {
    bool has_inf = !dtype_is_narrow_float(t) || t == DType::kBF16 || t == DType::kF8E5M2;
    return kir::make_const(st, has_inf ? std::numeric_limits<double>::infinity() : narrow_float_max(t));
  }
  if (t == DType::kBool) return kir::int_imm(1, st);
  if (dtype_is_unsigned(t)) return kir::int_imm(-1, st);  // all ones, wrapped to the type
  return kir::int_imm(static_cast<int64_t>((uint64_t{1} << (dtype_bits(t) - 1)) - 1), st);
}

size_t vector_dim(const ir::Shape& shape, const std::vector<size_t>& dims) {
  KILN_CHECK(!dims.empty()) << "vector_dim of no dimensions";
  for (size_t i = dims.size(); i-- > 0;)
    if (shape[dims[i]] > 1) return dims[i];
  return dims.back();
}

namespace {

// Whether expression e uses the Var v.
bool uses(const Expr& e, const kir::ExprNode* v) {
  class Uses : public kir::IRVisitor {
   public:
    explicit Uses(const kir::ExprNode* v) : v_(v) {}
    bool found = false;

   protected:
    void visit_Var(const kir::Var* op) override { found = found || op == v_; }

   private:
    const kir::ExprNode* v_;
  };
  Uses u(v);
  u.visit(e);
  return u.found;
}

// Whether every load and store index uses all of `vars` or none of them.
class AllOrNoneCheck : public kir::IRVisitor {
 public:
  explicit AllOrNoneCheck(const std::vector<Expr>& vars) {
    for (const Expr& v : vars) vars_.push_back(v.get());
  }
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
  void check(const Expr& index) {
    size_t used = 0;
    for (const kir::ExprNode* v : vars_) used += uses(index, v) ? 1 : 0;
    ok = ok && (used == 0 || used == vars_.size());
  }
  std::vector<const kir::ExprNode*> vars_;
};

// Prefetches of the addresses of a statement's stores and of its loads whose
// index uses the Var v.
class WritePrefetches : public kir::IRVisitor {
 public:
  explicit WritePrefetches(const Expr& v) : v_(v.get()) {}
  std::vector<Expr> calls;

 protected:
  void visit_Load(const kir::Load* op) override {
    if (uses(op->index, v_)) add(op->buffer, op->index);
    kir::IRVisitor::visit_Load(op);
  }
  void visit_Store(const kir::Store* op) override {
    add(op->buffer, op->index);
    kir::IRVisitor::visit_Store(op);
  }

 private:
  void add(const kir::Buffer& b, const Expr& index) {
    calls.push_back(kir::call(kir::Intrinsic::kPrefetch, {kir::load(b, index)}));
  }
  const kir::ExprNode* v_;
};

}  // namespace

bool write_indexes_all_or_none(const LowerContext& ctx, const std::vector<Expr>& idx, const std::vector<Expr>& vars) {
  AllOrNoneCheck check(vars);
  check.visit(ctx.write(0, idx, kir::make_const(scalar_type(ctx.node.outputs[0]->type.dtype), 0)));
  return check.ok;
}

std::vector<Expr> write_prefetches(const LowerContext& ctx, const std::function<std::vector<Expr>(const Expr&)>& index,
                                   const Expr& m) {
  Expr v = kir::var("pm");
  WritePrefetches p(v);
  p.visit(ctx.write(0, index(v), kir::make_const(scalar_type(ctx.node.outputs[0]->type.dtype), 0)));
  for (Expr& c : p.calls) c = kir::substitute(c, v, m);
  return p.calls;
}

Expr clamp_index(const Expr& e, int64_t hi) {
  return kir::max(kir::min(e, Expr(hi - 1)), Expr(int64_t{0}));
}

Expr LoopNest::add(const std::string& name, int64_t extent) {
  KILN_CHECK(extent >= 1) << "LoopNest: loop " << name << " has extent " << extent;
  if (extent == 1) {
    loops_.push_back({Expr(), 1});
    return Expr(int64_t{0});
  }
  Expr v = kir::var(name);
  loops_.push_back({v, extent});
  return v;
}

int64_t LoopNest::total() const {
  int64_t t = 1;
  for (const Loop& l : loops_) t *= l.extent;
  return t;
}

Stmt LoopNest::build(Stmt body, bool parallel) const {
  size_t outer = loops_.size();
  for (size_t i = 0; i < loops_.size(); ++i)
    if (loops_[i].extent > 1) {
      outer = i;
      break;
    }
  for (size_t i = loops_.size(); i-- > 0;) {
    if (loops_[i].extent == 1) continue;
    kir::ForKind kind = parallel && i == outer ? kir::ForKind::kParallel : kir::ForKind::kSerial;
    body = kir::for_loop(loops_[i].var, Expr(int64_t{0}), Expr(loops_[i].extent), kind, body);
  }
  return body;
}

Stmt vector_loop(const std::string& name, int64_t begin, int64_t end, int lanes, bool vectorize,
                 const std::function<Stmt(const Expr&)>& make, bool parallel_blocks) {
  int64_t n = end - begin;
  if (n <= 0) return Stmt();
  if (n == 1) return make(Expr(begin));
  if (!vectorize || lanes <= 1 || n < lanes) {
    Expr i = kir::var(name);
    return kir::for_loop(i, Expr(begin), Expr(n), kir::ForKind::kSerial, make(i));
  }
  int64_t blocks = n / lanes;
  std::vector<Stmt> parts;
  Expr vi = kir::var(name + "_v");
  if (blocks == 1) {
    parts.push_back(kir::for_loop(vi, Expr(begin), Expr(int64_t{lanes}), kir::ForKind::kVectorized, make(vi)));
  } else {
    Expr vo = kir::var(name + "_o");
    Expr i = Expr(begin) + vo * Expr(int64_t{lanes}) + vi;
    Stmt inner = kir::for_loop(vi, Expr(int64_t{0}), Expr(int64_t{lanes}), kir::ForKind::kVectorized, make(i));
    kir::ForKind kind = parallel_blocks ? kir::ForKind::kParallel : kir::ForKind::kSerial;
    parts.push_back(kir::for_loop(vo, Expr(int64_t{0}), Expr(blocks), kind, inner));
  }
  int64_t tail = n - blocks * lanes;
  if (tail == 1) {
    parts.push_back(make(Expr(begin + blocks * lanes)));
  } else if (tail > 1) {
    Expr t = kir::var(name + "_t");
    parts.push_back(kir::for_loop(t, Expr(begin + blocks * lanes), Expr(tail), kir::ForKind::kSerial, make(t)));
  }
  return kir::block(std::move(parts));
}

kir::Stmt lower_along_axis(const LowerContext& ctx, const ir::Shape& shape, int64_t axis,
                           const std::function<kir::Stmt(const std::vector<kir::Expr>&)>& point) {
  std::vector<size_t> others;
  for (size_t d = 0; d < shape.size(); ++d)
    if (static_cast<int64_t>(d) != axis) others.push_back(d);
  size_t vd = others.empty() ? 0 : vector_dim(shape, others);
  LoopNest nest;
  std::vector<kir::Expr> idx(shape.size(), kir::Expr(int64_t{0}));
  for (size_t d : others)
    if (d < vd) idx[d] = nest.add("i" + std::to_string(d), shape[d]);

  kir::Stmt inner;
  int64_t inner_extent = 1;
  if (others.empty()) {
    inner = point(idx);
  } else {
    inner_extent = shape[vd];
    inner = vector_loop("i" + std::to_string(vd), 0, inner_extent, ctx.opts.f32_lanes, ctx.opts.vectorize(),
                        [&](const kir::Expr& i) {
                          std::vector<kir::Expr> full = idx;
                          full[vd] = i;
                          return point(full);
                        });
  }
  bool parallel = ctx.opts.parallelize() && nest.total() * inner_extent * shape[axis] >= 16 * 1024;
  return nest.build(inner, parallel);
}

}  // namespace kiln::ops
