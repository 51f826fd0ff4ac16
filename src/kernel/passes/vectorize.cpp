// Vectorize pass (see vectorize.h): kVectorized loops -> vector code on ramps.
#include "kernel/passes/vectorize.h"

#include <unordered_map>

#include "kernel/mutator.h"

namespace kiln::kir {
namespace {

// binary() plus the ramp algebra that keeps contiguous indices recognizable:
// ramp +- broadcast, ramp +- ramp and ramp * broadcast stay ramps.
Expr vector_binary(BinOp op, const Expr& a, const Expr& b) {
  auto* ra = a.as<Ramp>();
  auto* rb = b.as<Ramp>();
  auto scalar_of = [](const Expr& e) -> Expr {
    if (e.type().lanes == 1) return e;
    if (auto* bc = e.as<Broadcast>()) return bc->value;
    return Expr();
  };
  Expr sa = scalar_of(a), sb = scalar_of(b);
  if (ra || rb) {
    int lanes = ra ? ra->type.lanes : rb->type.lanes;
    switch (op) {
      case BinOp::kAdd:
        if (ra && rb) return ramp(ra->base + rb->base, ra->stride + rb->stride, lanes);
        if (ra && sb) return ramp(ra->base + sb, ra->stride, lanes);
        if (rb && sa) return ramp(sa + rb->base, rb->stride, lanes);
        break;
      case BinOp::kSub:
        if (ra && rb) return ramp(ra->base - rb->base, ra->stride - rb->stride, lanes);
        if (ra && sb) return ramp(ra->base - sb, ra->stride, lanes);
        if (rb && sa) return ramp(sa - rb->base, -rb->stride, lanes);
        break;
      case BinOp::kMul:
        if (ra && sb) return ramp(ra->base * sb, ra->stride * sb, lanes);
        if (rb && sa) return ramp(sa * rb->base, sa * rb->stride, lanes);
        break;
      default: break;
    }
  }
  return binary(op, a, b);
}

class Vectorizer : public IRMutator {
 protected:
  Stmt mutate_For(const Stmt& s, const For* op) override {
    if (op->for_kind != ForKind::kVectorized) {
      Expr m = mutate(op->min), x = mutate(op->extent);
      KILN_CHECK(m.type().lanes == 1 && x.type().lanes == 1)
          << "loop " << to_string(op->var) << " inside vectorized loop " << to_string(Expr(loop_var_))
          << " has bounds that vary across lanes";
      Stmt b = mutate(op->body);
      if (m.same_as(op->min) && x.same_as(op->extent) && b.same_as(op->body)) return s;
      return for_loop(op->var, m, x, op->for_kind, b);
    }
    KILN_CHECK(lanes_ == 0) << "vectorized loop " << to_string(op->var) << " is nested inside vectorized loop "
                            << to_string(Expr(loop_var_)) << "; vectorize one loop of a nest";
    const int64_t* extent = as_const_int(op->extent);
    KILN_CHECK(extent && *extent >= 1) << "vectorized loop " << to_string(op->var)
                                       << " needs a constant positive extent, got " << to_string(op->extent);
    Expr m = mutate(op->min);
    if (*extent == 1) return mutate(substitute(op->body, op->var, m));
    lanes_ = static_cast<int>(*extent);
    loop_var_ = op->var.ptr();
    loop_ramp_ = ramp(m, make_const(m.type(), 1), lanes_);
    Stmt body = mutate(op->body);
    lanes_ = 0;
    loop_var_ = nullptr;
    loop_ramp_ = Expr();
    widened_.clear();
    lets_.clear();
    return body;
  }

  Expr mutate_Var(const Expr& e, const Var* op) override {
    if (loop_var_ && op == loop_var_.get()) return loop_ramp_;
    auto it = lets_.find(op);
    return it != lets_.end() ? it->second : e;
  }

  Expr mutate_Binary(const Expr& e, const Binary* op) override {
    Expr a = mutate(op->a), b = mutate(op->b);
    if (a.same_as(op->a) && b.same_as(op->b)) return e;
    if (a.type().is_vector() || b.type().is_vector()) return vector_binary(op->op, a, b);
    return binary(op->op, a, b);
  }

  Expr mutate_Load(const Expr& e, const Load* op) override {
    Expr i = mutate(op->index);
    if (auto it = widened_.find(op->buffer.get()); it != widened_.end()) return load(it->second, widen_index(i));
    if (auto* bc = i.as<Broadcast>()) return broadcast(load(op->buffer, bc->value), bc->type.lanes);
    return i.same_as(op->index) ? e : load(op->buffer, i);
  }

  Stmt mutate_Store(const Stmt& s, const Store* op) override {
    Expr i = mutate(op->index), v = mutate(op->value);
    if (auto it = widened_.find(op->buffer.get()); it != widened_.end()) {
      return store(it->second, widen_index(i), v.type().is_vector() ? v : broadcast(v, lanes_));
    }
    if (i.as<Broadcast>() || !i.type().is_vector()) {
      Expr scalar_index = i.type().is_vector() ? i.as<Broadcast>()->value : i;
      Expr scalar_value = v;
      if (auto* bv = v.as<Broadcast>()) scalar_value = bv->value;
      KILN_CHECK(!scalar_value.type().is_vector())
          << "store to " << op->buffer->name << "[" << to_string(scalar_index)
          << "] inside vectorized loop " << to_string(Expr(loop_var_))
          << " writes a lane-varying value to one location; allocate the accumulator inside the vectorized loop";
      if (scalar_index.same_as(op->index) && scalar_value.same_as(op->value)) return s;
      return store(op->buffer, scalar_index, scalar_value);
    }
    return i.same_as(op->index) && v.same_as(op->value) ? s : store(op->buffer, i, v);
  }

  Stmt mutate_Allocate(const Stmt& s, const Allocate* op) override {
    if (lanes_ == 0) return IRMutator::mutate_Allocate(s, op);
    Expr size = mutate(op->size);
    KILN_CHECK(!size.type().is_vector()) << "allocate " << op->buffer->name << ": size varies across lanes";
    Buffer wide = make_buffer(op->buffer->name + ".v", op->buffer->elem);
    widened_[op->buffer.get()] = wide;
    Stmt body = mutate(op->body);
    return allocate(wide, size * make_const(size.type(), lanes_), body);
  }

  Stmt mutate_LetStmt(const Stmt& s, const LetStmt* op) override {
    Expr v = mutate(op->value);
    Expr name = op->var;
    if (v.type() != op->var.type()) {
      name = var(op->var.as<Var>()->name, v.type());
      lets_[op->var.get()] = name;
    }
    Stmt b = mutate(op->body);
    if (v.same_as(op->value) && b.same_as(op->body)) return s;
    return let_stmt(name, v, b);
  }

  Stmt mutate_IfThenElse(const Stmt& s, const IfThenElse* op) override {
    Expr c = mutate(op->cond);
    if (!c.type().is_vector()) return IRMutator::mutate_IfThenElse(s, op);
    Stmt t = mutate(op->then_case), f = mutate(op->else_case);
    return block({predicate(t, c), predicate(f, call(Intrinsic::kNot, {c}))});
  }

 private:
  // Element i of lane j of a widened buffer lives at i * lanes + j.
  Expr widen_index(const Expr& i) {
    Expr idx = i.type().is_vector() ? i : broadcast(i, lanes_);
    Expr scaled = vector_binary(BinOp::kMul, idx, broadcast(make_const(i.type().element_of(), lanes_), lanes_));
    return vector_binary(BinOp::kAdd, scaled, ramp(make_const(i.type().element_of(), 0),
                                                   make_const(i.type().element_of(), 1), lanes_));
  }

  // Rewrites the stores of s to keep their old value in lanes where c is false.
  Stmt predicate(const Stmt& s, const Expr& c) {
    if (!s) return s;
    if (auto* st = s.as<Store>()) {
      KILN_CHECK(st->index.type().is_vector() && !st->index.as<Broadcast>())
          << "store to " << st->buffer->name << " under a lane-varying condition inside vectorized loop "
          << to_string(Expr(loop_var_)) << " writes one location from all lanes; use Select instead";
      return store(st->buffer, st->index, select(c, st->value, load(st->buffer, st->index)));
    }
    if (auto* b = s.as<Block>()) {
      std::vector<Stmt> out;
      for (auto& x : b->stmts) out.push_back(predicate(x, c));
      return block(std::move(out));
    }
    if (auto* i = s.as<IfThenElse>()) {
      return block({predicate(i->then_case, c && i->cond),
                    predicate(i->else_case, c && call(Intrinsic::kNot, {i->cond}))});
    }
    if (auto* l = s.as<LetStmt>()) return let_stmt(l->var, l->value, predicate(l->body, c));
    KILN_UNREACHABLE("an IfThenElse with a lane-varying condition inside vectorized loop ")
        << to_string(Expr(loop_var_)) << " contains a statement that cannot be predicated:\n"
        << to_string(s) << "lowerers must use Select for lane-varying conditions";
    return s;
  }

  int lanes_ = 0;
  std::shared_ptr<const ExprNode> loop_var_;
  Expr loop_ramp_;
  std::unordered_map<const BufferNode*, Buffer> widened_;
  std::unordered_map<const ExprNode*, Expr> lets_;
};

}  // namespace

Stmt vectorize_loops(const Stmt& s) { return Vectorizer().mutate(s); }

Func vectorize_loops(const Func& f) {
  Func out = f;
  out.body = vectorize_loops(f.body);
  return out;
}

}  // namespace kiln::kir
