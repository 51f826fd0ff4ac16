// Kernel IR printer: a readable, indented text form for KILN_DUMP_IR=kernel and tests.
#include <charconv>
#include <cmath>
#include <sstream>

#include "kernel/ir.h"

namespace kiln::kir {
namespace {

std::string float_str(const FloatImm* f) {
  double v = f->value;
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = f->type.elem == DType::kF32 ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(v))
                                         : std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  if (f->type.elem != DType::kF32) s = "(" + f->type.str() + ")" + s;
  return s;
}

class Printer {
 public:
  std::string expr(const Expr& e) {
    if (!e) return "<null>";
    switch (e.kind()) {
      case NodeKind::kIntImm: {
        auto* i = e.as<IntImm>();
        if (i->type.is_bool()) return i->value ? "true" : "false";
        std::string s = std::to_string(i->value);
        return i->type.elem == DType::kI64 ? s : "(" + i->type.str() + ")" + s;
      }
      case NodeKind::kFloatImm: return float_str(e.as<FloatImm>());
      case NodeKind::kVar: return e.as<Var>()->name;
      case NodeKind::kLoad: {
        auto* l = e.as<Load>();
        return l->buffer->name + "[" + expr(l->index) + "]";
      }
      case NodeKind::kBinary: {
        auto* b = e.as<Binary>();
        if (b->op == BinOp::kMin || b->op == BinOp::kMax) {
          return std::string(binop_name(b->op)) + "(" + expr(b->a) + ", " + expr(b->b) + ")";
        }
        return "(" + expr(b->a) + " " + binop_name(b->op) + " " + expr(b->b) + ")";
      }
      case NodeKind::kSelect: {
        auto* s = e.as<Select>();
        return "select(" + expr(s->cond) + ", " + expr(s->t) + ", " + expr(s->f) + ")";
      }
      case NodeKind::kCast: return e.type().str() + "(" + expr(e.as<Cast>()->value) + ")";
      case NodeKind::kCall: {
        auto* c = e.as<Call>();
        std::string s = std::string(intrinsic_name(c->func)) + "(";
        for (size_t i = 0; i < c->args.size(); ++i) s += (i ? ", " : "") + expr(c->args[i]);
        return s + ")";
      }
      case NodeKind::kRamp: {
        auto* r = e.as<Ramp>();
        return "ramp(" + expr(r->base) + ", " + expr(r->stride) + ", " + std::to_string(r->type.lanes) + ")";
      }
      case NodeKind::kBroadcast: {
        auto* b = e.as<Broadcast>();
        return "broadcast(" + expr(b->value) + ", " + std::to_string(b->type.lanes) + ")";
      }
      default: KILN_UNREACHABLE("statement kind in an expression");
    }
  }

  void stmt(const Stmt& s, int indent) {
    std::string pad(indent * 2, ' ');
    if (!s) return;
    switch (s.kind()) {
      case NodeKind::kFor: {
        auto* f = s.as<For>();
        os_ << pad << "for (" << expr(f->var) << ", " << expr(f->min) << ", " << expr(f->extent) << ") "
            << for_kind_name(f->for_kind) << " {\n";
        stmt(f->body, indent + 1);
        os_ << pad << "}\n";
        break;
      }
      case NodeKind::kStore: {
        auto* st = s.as<Store>();
        os_ << pad << st->buffer->name << "[" << expr(st->index) << "] = " << expr(st->value) << "\n";
        break;
      }
      case NodeKind::kBlock:
        for (auto& c : s.as<Block>()->stmts) stmt(c, indent);
        break;
      case NodeKind::kIfThenElse: {
        auto* i = s.as<IfThenElse>();
        os_ << pad << "if (" << expr(i->cond) << ") {\n";
        stmt(i->then_case, indent + 1);
        if (i->else_case) {
          os_ << pad << "} else {\n";
          stmt(i->else_case, indent + 1);
        }
        os_ << pad << "}\n";
        break;
      }
      case NodeKind::kLetStmt: {
        auto* l = s.as<LetStmt>();
        os_ << pad << "let " << expr(l->var) << " = " << expr(l->value) << "\n";
        stmt(l->body, indent);
        break;
      }
      case NodeKind::kAllocate: {
        auto* a = s.as<Allocate>();
        os_ << pad << "allocate " << a->buffer->name << ": " << Type{a->buffer->elem, 1}.str() << "["
            << expr(a->size) << "] {\n";
        stmt(a->body, indent + 1);
        os_ << pad << "}\n";
        break;
      }
      default: KILN_UNREACHABLE("expression kind in a statement");
    }
  }

  std::ostringstream os_;
};

}  // namespace

std::string to_string(const Expr& e) { return Printer().expr(e); }

std::string to_string(const Stmt& s) {
  Printer p;
  p.stmt(s, 0);
  return p.os_.str();
}

std::string to_string(const Func& f) {
  Printer p;
  p.os_ << "func " << f.name << "(";
  for (size_t i = 0; i < f.params.size(); ++i) {
    p.os_ << (i ? ", " : "") << f.params[i]->name << ": " << Type{f.params[i]->elem, 1}.str() << "*";
  }
  p.os_ << ") {\n";
  p.stmt(f.body, 1);
  p.os_ << "}\n";
  return p.os_.str();
}

}  // namespace kiln::kir
