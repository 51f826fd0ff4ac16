// A reference interpreter for kernel IR, used by the ops tests to check a
// lowering's results independently of LLVM (scalar and vector code alike:
// every lane is computed in double or int64 and rounded to its element type).
#pragma once

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "kernel/ir.h"

namespace kiln::ops::testing {

// A value of kernel-IR type `t`: one entry per lane (floats in f, others in i).
struct Val {
  kir::Type t;
  std::vector<double> f;
  std::vector<int64_t> i;
  int lanes() const { return t.lanes; }
  double as_f(int l) const { return t.is_float() ? f[l] : static_cast<double>(i[l]); }
};

// Interprets statements over memory given as one base pointer per parameter buffer.
class KirInterpreter {
 public:
  // `num_elements` bounds every access: an out-of-range one is recorded in errors().
  void bind(const kir::Buffer& b, void* data, int64_t num_elements) {
    mem_[b.get()] = static_cast<uint8_t*>(data);
    size_[b.get()] = num_elements;
  }
  void run(const kir::Stmt& s) { exec(s); }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  static double round_to(DType t, double v) { return t == DType::kF32 ? static_cast<double>(static_cast<float>(v)) : v; }
  static int64_t wrap_int(DType t, int64_t v) {
    switch (t) {
      case DType::kI8: return static_cast<int8_t>(v);
      case DType::kU8: return static_cast<uint8_t>(v);
      case DType::kI32: return static_cast<int32_t>(v);
      case DType::kU32: return static_cast<uint32_t>(v);
      case DType::kI16: return static_cast<int16_t>(v);
      case DType::kBool: return v != 0;
      default: return v;
    }
  }
  static Val make(kir::Type t) {
    Val v{t, {}, {}};
    if (t.is_float()) v.f.resize(t.lanes); else v.i.resize(t.lanes);
    return v;
  }
  static Val splat(const Val& s, int lanes) {
    if (s.lanes() == lanes) return s;
    KILN_CHECK(s.lanes() == 1) << "interpreter: lane mismatch " << s.lanes() << " vs " << lanes;
    Val v = make(s.t.with_lanes(lanes));
    for (int l = 0; l < lanes; ++l) {
      if (s.t.is_float()) v.f[l] = s.f[0]; else v.i[l] = s.i[0];
    }
    return v;
  }

  // False (and an error recorded) if idx is outside b.
  bool in_bounds(const kir::BufferNode* b, int64_t idx) {
    if (idx >= 0 && idx < size_.at(b)) return true;
    if (errors_.size() < 10)
      errors_.push_back("access " + b->name + "[" + std::to_string(idx) + "] outside [0, " + std::to_string(size_.at(b)) + ")");
    return false;
  }
  double read_elem(const kir::BufferNode* b, int64_t idx) {
    if (!in_bounds(b, idx)) return 0;
    uint8_t* p = mem_.at(b) + idx * dtype_size(b->elem);
    switch (b->elem) {
      case DType::kF32: { float x; std::memcpy(&x, p, 4); return x; }
      case DType::kF64: { double x; std::memcpy(&x, p, 8); return x; }
      case DType::kI64: { int64_t x; std::memcpy(&x, p, 8); return static_cast<double>(x); }
      case DType::kI32: { int32_t x; std::memcpy(&x, p, 4); return x; }
      case DType::kU32: { uint32_t x; std::memcpy(&x, p, 4); return x; }
      case DType::kI16: { int16_t x; std::memcpy(&x, p, 2); return x; }
      case DType::kI8: return static_cast<int8_t>(*p);
      case DType::kU8: return *p;
      case DType::kBool: return *p != 0;
      default: KILN_UNREACHABLE("interpreter: unsupported dtype");
    }
  }
  int64_t read_int(const kir::BufferNode* b, int64_t idx) {
    if (b->elem == DType::kI64) {
      if (!in_bounds(b, idx)) return 0;
      int64_t x;
      std::memcpy(&x, mem_.at(b) + idx * 8, 8);
      return x;
    }
    return static_cast<int64_t>(read_elem(b, idx));
  }
  void write_elem(const kir::BufferNode* b, int64_t idx, const Val& v, int l) {
    if (!in_bounds(b, idx)) return;
    uint8_t* p = mem_.at(b) + idx * dtype_size(b->elem);
    switch (b->elem) {
      case DType::kF32: { float x = static_cast<float>(v.as_f(l)); std::memcpy(p, &x, 4); break; }
      case DType::kF64: { double x = v.as_f(l); std::memcpy(p, &x, 8); break; }
      case DType::kI64: { int64_t x = v.i[l]; std::memcpy(p, &x, 8); break; }
      case DType::kI32:
      case DType::kU32: { uint32_t x = static_cast<uint32_t>(v.i[l]); std::memcpy(p, &x, 4); break; }
      case DType::kI16: { int16_t x = static_cast<int16_t>(v.i[l]); std::memcpy(p, &x, 2); break; }
      case DType::kI8:
      case DType::kU8: *p = static_cast<uint8_t>(v.i[l]); break;
      case DType::kBool: *p = v.i[l] != 0; break;
      default: KILN_UNREACHABLE("interpreter: unsupported dtype");
    }
  }

  Val eval(const kir::Expr& e) {
    using kir::NodeKind;
    kir::Type t = e.type();
    Val r = make(t);
    switch (e.kind()) {
      case NodeKind::kIntImm: r.i[0] = e.as<kir::IntImm>()->value; return r;
      case NodeKind::kFloatImm: r.f[0] = e.as<kir::FloatImm>()->value; return r;
      case NodeKind::kVar: return vars_.at(e.get());
      case NodeKind::kLoad: {
        const kir::Load* op = e.as<kir::Load>();
        Val idx = eval(op->index);
        for (int l = 0; l < t.lanes; ++l) {
          if (t.is_float()) r.f[l] = read_elem(op->buffer.get(), idx.i[l]);
          else r.i[l] = read_int(op->buffer.get(), idx.i[l]);
        }
        return r;
      }
      case NodeKind::kBinary: return eval_binary(e.as<kir::Binary>(), t);
      case NodeKind::kSelect: {
        const kir::Select* op = e.as<kir::Select>();
        Val c = splat(eval(op->cond), t.lanes), a = splat(eval(op->t), t.lanes), b = splat(eval(op->f), t.lanes);
        for (int l = 0; l < t.lanes; ++l) {
          if (t.is_float()) r.f[l] = c.i[l] ? a.f[l] : b.f[l]; else r.i[l] = c.i[l] ? a.i[l] : b.i[l];
        }
        return r;
      }
      case NodeKind::kCast: {
        Val v = splat(eval(e.as<kir::Cast>()->value), t.lanes);
        for (int l = 0; l < t.lanes; ++l) {
          if (t.is_float()) r.f[l] = round_to(t.elem, v.as_f(l));
          else if (t.is_bool()) r.i[l] = v.as_f(l) != 0;
          else r.i[l] = wrap_int(t.elem, v.t.is_float() ? static_cast<int64_t>(std::trunc(v.f[l])) : v.i[l]);
        }
        return r;
      }
      case NodeKind::kCall: return eval_call(e.as<kir::Call>(), t);
      case NodeKind::kRamp: {
        const kir::Ramp* op = e.as<kir::Ramp>();
        Val b = eval(op->base), s = eval(op->stride);
        for (int l = 0; l < t.lanes; ++l) r.i[l] = b.i[0] + l * s.i[0];
        return r;
      }
      case NodeKind::kBroadcast: return splat(eval(e.as<kir::Broadcast>()->value), t.lanes);
      default: KILN_UNREACHABLE("interpreter: not an expression");
    }
  }

  Val eval_binary(const kir::Binary* op, kir::Type t) {
    using kir::BinOp;
    Val a = eval(op->a), b = eval(op->b);
    int lanes = std::max(a.lanes(), b.lanes());
    a = splat(a, lanes), b = splat(b, lanes);
    Val r = make(t);
    bool fl = a.t.is_float();
    for (int l = 0; l < lanes; ++l) {
      if (fl) {
        double x = a.f[l], y = b.f[l], z = 0;
        switch (op->op) {
          case BinOp::kAdd: z = x + y; break;
          case BinOp::kSub: z = x - y; break;
          case BinOp::kMul: z = x * y; break;
          case BinOp::kDiv: z = x / y; break;
          case BinOp::kMod: z = std::fmod(x, y); break;
          case BinOp::kMin: z = std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y); break;
          case BinOp::kMax: z = std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y); break;
          case BinOp::kEQ: r.i[l] = x == y; continue;
          case BinOp::kNE: r.i[l] = x != y; continue;
          case BinOp::kLT: r.i[l] = x < y; continue;
          case BinOp::kLE: r.i[l] = x <= y; continue;
          case BinOp::kGT: r.i[l] = x > y; continue;
          case BinOp::kGE: r.i[l] = x >= y; continue;
          default: KILN_UNREACHABLE("interpreter: float " << kir::binop_name(op->op));
        }
        r.f[l] = round_to(t.elem, z);
      } else {
        int64_t x = a.i[l], y = b.i[l], z = 0;
        switch (op->op) {
          case BinOp::kAdd: z = x + y; break;
          case BinOp::kSub: z = x - y; break;
          case BinOp::kMul: z = x * y; break;
          case BinOp::kDiv: z = x / y; break;
          case BinOp::kMod: z = x % y; break;
          case BinOp::kMin: z = std::min(x, y); break;
          case BinOp::kMax: z = std::max(x, y); break;
          case BinOp::kEQ: z = x == y; break;
          case BinOp::kNE: z = x != y; break;
          case BinOp::kLT: z = x < y; break;
          case BinOp::kLE: z = x <= y; break;
          case BinOp::kGT: z = x > y; break;
          case BinOp::kGE: z = x >= y; break;
          case BinOp::kAnd: z = x && y; break;
          case BinOp::kOr: z = x || y; break;
          case BinOp::kBitAnd:
          case BinOp::kBitOr:
          case BinOp::kBitXor:
          case BinOp::kShl:
          case BinOp::kShr: z = kir::eval_bitwise(op->op, a.t.elem, x, y); break;
        }
        r.i[l] = wrap_int(t.elem, z);
      }
    }
    return r;
  }

  // dot (kir::Intrinsic::kDot): lane l is acc + sum over j < G of a[G*l + j] * b[G*l + j].
  Val eval_dot(const kir::Call* op, kir::Type t) {
    Val acc = splat(eval(op->args[0]), t.lanes);
    int g = static_cast<int>(*kir::as_const_int(op->args[3]));
    auto element = [&](const Val& x, int lane, int j) -> int64_t {
      if (dtype_size(x.t.elem) != 4) return x.i[g * lane + j];
      uint32_t bits = static_cast<uint32_t>(x.i[x.lanes() == 1 ? 0 : lane]);
      if (g == 2) return static_cast<int16_t>(bits >> (16 * j));
      uint8_t byte = static_cast<uint8_t>(bits >> (8 * j));
      return x.t.elem == DType::kU32 ? int64_t{byte} : int64_t{static_cast<int8_t>(byte)};
    };
    Val a = eval(op->args[1]), b = eval(op->args[2]);
    Val r = make(t);
    for (int l = 0; l < t.lanes; ++l) {
      int64_t sum = acc.i[l];
      for (int j = 0; j < g; ++j) sum += element(a, l, j) * element(b, l, j);
      r.i[l] = wrap_int(DType::kI32, sum);
    }
    return r;
  }

  Val eval_call(const kir::Call* op, kir::Type t) {
    using kir::Intrinsic;
    if (op->func == Intrinsic::kDot) return eval_dot(op, t);
    if (op->func == Intrinsic::kPrefetch) return make(t);  // a hint: nothing to compute, nothing read
    std::vector<Val> args;
    for (const kir::Expr& a : op->args) args.push_back(splat(eval(a), t.lanes));
    Val r = make(t);
    for (int l = 0; l < t.lanes; ++l) {
      if (op->func == Intrinsic::kNot) {
        r.i[l] = !args[0].i[l];
        continue;
      }
      if (op->func == Intrinsic::kAbs && !t.is_float()) {
        r.i[l] = std::abs(args[0].i[l]);
        continue;
      }
      double x = args[0].as_f(l), z = 0;
      switch (op->func) {
        case Intrinsic::kExp: z = std::exp(x); break;
        case Intrinsic::kLog: z = std::log(x); break;
        case Intrinsic::kSqrt: z = std::sqrt(x); break;
        case Intrinsic::kErf: z = std::erf(x); break;
        case Intrinsic::kTanh: z = std::tanh(x); break;
        case Intrinsic::kSigmoid: z = 1 / (1 + std::exp(-x)); break;
        case Intrinsic::kAbs: z = std::fabs(x); break;
        case Intrinsic::kFloor: z = std::floor(x); break;
        case Intrinsic::kCeil: z = std::ceil(x); break;
        case Intrinsic::kRoundEven: z = std::nearbyint(x); break;
        case Intrinsic::kPow: z = std::pow(x, args[1].as_f(l)); break;
        case Intrinsic::kFma: z = x * args[1].as_f(l) + args[2].as_f(l); break;
        case Intrinsic::kMulRounded: z = x * args[1].as_f(l); break;
        case Intrinsic::kSin: z = std::sin(x); break;
        case Intrinsic::kCos: z = std::cos(x); break;
        case Intrinsic::kTan: z = std::tan(x); break;
        case Intrinsic::kAsin: z = std::asin(x); break;
        case Intrinsic::kAcos: z = std::acos(x); break;
        case Intrinsic::kAtan: z = std::atan(x); break;
        default: KILN_UNREACHABLE("interpreter: intrinsic");
      }
      r.f[l] = round_to(t.elem, z);
    }
    return r;
  }

  void exec(const kir::Stmt& s) {
    using kir::NodeKind;
    switch (s.kind()) {
      case NodeKind::kFor: {
        const kir::For* op = s.as<kir::For>();
        int64_t lo = eval(op->min).i[0], n = eval(op->extent).i[0];
        for (int64_t i = lo; i < lo + n; ++i) {
          Val v = make(kir::i64());
          v.i[0] = i;
          vars_[op->var.get()] = v;
          exec(op->body);
        }
        return;
      }
      case NodeKind::kStore: {
        const kir::Store* op = s.as<kir::Store>();
        Val idx = eval(op->index);
        Val v = splat(eval(op->value), idx.lanes());
        for (int l = 0; l < idx.lanes(); ++l) write_elem(op->buffer.get(), idx.i[l], v, l);
        return;
      }
      case NodeKind::kBlock:
        for (const kir::Stmt& c : s.as<kir::Block>()->stmts) exec(c);
        return;
      case NodeKind::kIfThenElse: {
        const kir::IfThenElse* op = s.as<kir::IfThenElse>();
        Val c = eval(op->cond);
        KILN_CHECK(c.lanes() == 1) << "interpreter: vector if";
        if (c.i[0]) exec(op->then_case);
        else if (op->else_case) exec(op->else_case);
        return;
      }
      case NodeKind::kLetStmt: {
        const kir::LetStmt* op = s.as<kir::LetStmt>();
        vars_[op->var.get()] = eval(op->value);
        exec(op->body);
        return;
      }
      case NodeKind::kAllocate: {
        const kir::Allocate* op = s.as<kir::Allocate>();
        int64_t n = eval(op->size).i[0];
        std::vector<uint8_t> storage(n * dtype_size(op->buffer->elem) + 8, 0xCD);  // poisoned
        const kir::BufferNode* b = op->buffer.get();
        uint8_t* saved = mem_.count(b) ? mem_[b] : nullptr;
        int64_t saved_size = size_.count(b) ? size_[b] : 0;
        mem_[b] = storage.data();
        size_[b] = n;
        exec(op->body);
        mem_[b] = saved;
        size_[b] = saved_size;
        return;
      }
      default: KILN_UNREACHABLE("interpreter: not a statement");
    }
  }

  std::map<const kir::BufferNode*, uint8_t*> mem_;
  std::map<const kir::BufferNode*, int64_t> size_;
  std::vector<std::string> errors_;
  std::map<const kir::ExprNode*, Val> vars_;
};

}  // namespace kiln::ops::testing
