// IRVisitor and IRMutator over kernel IR, derived from nodes.def, plus substitute().
// Passes subclass them and override the visit_/mutate_ hooks of the kinds they care about.
#pragma once

#include "kernel/ir.h"

namespace kiln::kir {

// Walks every node; the default hook of each kind visits its children.
class IRVisitor {
 public:
  virtual ~IRVisitor() = default;
  virtual void visit(const Expr& e);
  virtual void visit(const Stmt& s);

 protected:
#define KILN_EXPR(N) virtual void visit_##N(const N* op);
#define KILN_STMT(N) virtual void visit_##N(const N* op);
#include "kernel/nodes.def"
#undef KILN_EXPR
#undef KILN_STMT
};

// Rebuilds the IR bottom-up; the default hook of each kind mutates its children
// and returns the original node when none changed, otherwise a node rebuilt with
// the builders of ir.h (so constants fold and scalars broadcast).
class IRMutator {
 public:
  virtual ~IRMutator() = default;
  virtual Expr mutate(const Expr& e);
  virtual Stmt mutate(const Stmt& s);

 protected:
#define KILN_EXPR(N) virtual Expr mutate_##N(const Expr& e, const N* op);
#define KILN_STMT(N) virtual Stmt mutate_##N(const Stmt& s, const N* op);
#include "kernel/nodes.def"
#undef KILN_EXPR
#undef KILN_STMT
};

// Replaces every use of the Var `v` (by identity) with `replacement`.
Expr substitute(const Expr& e, const Expr& v, const Expr& replacement);
Stmt substitute(const Stmt& s, const Expr& v, const Expr& replacement);

}  // namespace kiln::kir
