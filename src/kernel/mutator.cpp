// IRVisitor / IRMutator dispatch (from nodes.def) and their default child walks.
#include "kernel/mutator.h"

namespace kiln::kir {

void IRVisitor::visit(const Expr& e) {
  if (!e) return;
  switch (e.kind()) {
#define KILN_EXPR(N)  \
  case NodeKind::k##N: \
    return visit_##N(e.as<N>());
#define KILN_STMT(N)
#include "kernel/nodes.def"
#undef KILN_EXPR
#undef KILN_STMT
    default: KILN_UNREACHABLE("statement kind visited as an expression");
  }
}

void IRVisitor::visit(const Stmt& s) {
  if (!s) return;
  switch (s.kind()) {
#define KILN_EXPR(N)
#define KILN_STMT(N)  \
  case NodeKind::k##N: \
    return visit_##N(s.as<N>());
#include "kernel/nodes.def"
#undef KILN_EXPR
#undef KILN_STMT
    default: KILN_UNREACHABLE("expression kind visited as a statement");
  }
}

void IRVisitor::visit_IntImm(const IntImm*) {}
void IRVisitor::visit_FloatImm(const FloatImm*) {}
void IRVisitor::visit_Var(const Var*) {}
void IRVisitor::visit_Load(const Load* op) { visit(op->index); }
void IRVisitor::visit_Binary(const Binary* op) {
  visit(op->a);
  visit(op->b);
}
void IRVisitor::visit_Select(const Select* op) {
  visit(op->cond);
  visit(op->t);
  visit(op->f);
}
void IRVisitor::visit_Cast(const Cast* op) { visit(op->value); }
void IRVisitor::visit_Call(const Call* op) {
  for (auto& a : op->args) visit(a);
}
void IRVisitor::visit_Ramp(const Ramp* op) {
  visit(op->base);
  visit(op->stride);
}
void IRVisitor::visit_Broadcast(const Broadcast* op) { visit(op->value); }
void IRVisitor::visit_For(const For* op) {
  visit(op->var);
  visit(op->min);
  visit(op->extent);
  visit(op->body);
}
void IRVisitor::visit_Store(const Store* op) {
  visit(op->index);
  visit(op->value);
}
void IRVisitor::visit_Block(const Block* op) {
  for (auto& s : op->stmts) visit(s);
}
void IRVisitor::visit_IfThenElse(const IfThenElse* op) {
  visit(op->cond);
  visit(op->then_case);
  visit(op->else_case);
}
void IRVisitor::visit_LetStmt(const LetStmt* op) {
  visit(op->var);
  visit(op->value);
  visit(op->body);
}
void IRVisitor::visit_Allocate(const Allocate* op) {
  visit(op->size);
  visit(op->body);
}

Expr IRMutator::mutate(const Expr& e) {
  if (!e) return e;
  switch (e.kind()) {
#define KILN_EXPR(N)  \
  case NodeKind::k##N: \
    return mutate_##N(e, e.as<N>());
#define KILN_STMT(N)
#include "kernel/nodes.def"
#undef KILN_EXPR
#undef KILN_STMT
    default: KILN_UNREACHABLE("statement kind mutated as an expression");
  }
}

Stmt IRMutator::mutate(const Stmt& s) {
  if (!s) return s;
  switch (s.kind()) {
#define KILN_EXPR(N)
#define KILN_STMT(N)  \
  case NodeKind::k##N: \
    return mutate_##N(s, s.as<N>());
#include "kernel/nodes.def"
#undef KILN_EXPR
#undef KILN_STMT
    default: KILN_UNREACHABLE("expression kind mutated as a statement");
  }
}

Expr IRMutator::mutate_IntImm(const Expr& e, const IntImm*) { return e; }
Expr IRMutator::mutate_FloatImm(const Expr& e, const FloatImm*) { return e; }
Expr IRMutator::mutate_Var(const Expr& e, const Var*) { return e; }

Expr IRMutator::mutate_Load(const Expr& e, const Load* op) {
  Expr i = mutate(op->index);
  return i.same_as(op->index) ? e : load(op->buffer, i);
}

Expr IRMutator::mutate_Binary(const Expr& e, const Binary* op) {
  Expr a = mutate(op->a), b = mutate(op->b);
  return a.same_as(op->a) && b.same_as(op->b) ? e : binary(op->op, a, b);
}

Expr IRMutator::mutate_Select(const Expr& e, const Select* op) {
  Expr c = mutate(op->cond), t = mutate(op->t), f = mutate(op->f);
  return c.same_as(op->cond) && t.same_as(op->t) && f.same_as(op->f) ? e : select(c, t, f);
}

Expr IRMutator::mutate_Cast(const Expr& e, const Cast* op) {
  Expr v = mutate(op->value);
  return v.same_as(op->value) ? e : cast(Type{op->type.elem, v.type().lanes}, v);
}

Expr IRMutator::mutate_Call(const Expr& e, const Call* op) {
  std::vector<Expr> args;
  bool changed = false;
  for (auto& a : op->args) {
    args.push_back(mutate(a));
    changed |= !args.back().same_as(a);
  }
  return changed ? call(op->func, std::move(args)) : e;
}

Expr IRMutator::mutate_Ramp(const Expr& e, const Ramp* op) {
  Expr b = mutate(op->base), s = mutate(op->stride);
  return b.same_as(op->base) && s.same_as(op->stride) ? e : ramp(b, s, op->type.lanes);
}

Expr IRMutator::mutate_Broadcast(const Expr& e, const Broadcast* op) {
  Expr v = mutate(op->value);
  return v.same_as(op->value) ? e : broadcast(v, op->type.lanes);
}

Stmt IRMutator::mutate_For(const Stmt& s, const For* op) {
  Expr m = mutate(op->min), x = mutate(op->extent);
  Stmt b = mutate(op->body);
  if (m.same_as(op->min) && x.same_as(op->extent) && b.same_as(op->body)) return s;
  return for_loop(op->var, m, x, op->for_kind, b);
}

Stmt IRMutator::mutate_Store(const Stmt& s, const Store* op) {
  Expr i = mutate(op->index), v = mutate(op->value);
  return i.same_as(op->index) && v.same_as(op->value) ? s : store(op->buffer, i, v);
}

Stmt IRMutator::mutate_Block(const Stmt& s, const Block* op) {
  std::vector<Stmt> stmts;
  bool changed = false;
  for (auto& c : op->stmts) {
    stmts.push_back(mutate(c));
    changed |= !stmts.back().same_as(c);
  }
  return changed ? block(std::move(stmts)) : s;
}

Stmt IRMutator::mutate_IfThenElse(const Stmt& s, const IfThenElse* op) {
  Expr c = mutate(op->cond);
  Stmt t = mutate(op->then_case), f = mutate(op->else_case);
  if (c.same_as(op->cond) && t.same_as(op->then_case) && f.same_as(op->else_case)) return s;
  return if_then_else(c, t, f);
}

Stmt IRMutator::mutate_LetStmt(const Stmt& s, const LetStmt* op) {
  Expr v = mutate(op->value);
  Stmt b = mutate(op->body);
  return v.same_as(op->value) && b.same_as(op->body) ? s : let_stmt(op->var, v, b);
}

Stmt IRMutator::mutate_Allocate(const Stmt& s, const Allocate* op) {
  Expr n = mutate(op->size);
  Stmt b = mutate(op->body);
  return n.same_as(op->size) && b.same_as(op->body) ? s : allocate(op->buffer, n, b);
}

namespace {

class Substituter : public IRMutator {
 public:
  Substituter(const Expr& v, const Expr& r) : var_(v.get()), replacement_(r) {}

 protected:
  Expr mutate_Var(const Expr& e, const Var* op) override { return op == var_ ? replacement_ : e; }

 private:
  const ExprNode* var_;
  Expr replacement_;
};

}  // namespace

Expr substitute(const Expr& e, const Expr& v, const Expr& replacement) {
  return Substituter(v, replacement).mutate(e);
}

Stmt substitute(const Stmt& s, const Expr& v, const Expr& replacement) {
  return Substituter(v, replacement).mutate(s);
}

}  // namespace kiln::kir
