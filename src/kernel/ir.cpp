// Kernel IR builders: node construction with constant folding, the trivial
// integer identities and scalar-to-vector broadcasting (see ir.h).
#include "kernel/ir.h"

#include <cmath>

#include "ir/narrow_float.h"

namespace kiln::kir {

std::string Type::str() const {
  std::string s;
  switch (elem) {
    case DType::kF32: s = "f32"; break;
    case DType::kU8: s = "u8"; break;
    case DType::kI8: s = "i8"; break;
    case DType::kU16: s = "u16"; break;
    case DType::kI16: s = "i16"; break;
    case DType::kI32: s = "i32"; break;
    case DType::kI64: s = "i64"; break;
    case DType::kU32: s = "u32"; break;
    case DType::kU64: s = "u64"; break;
    case DType::kBool: s = "bool"; break;
    case DType::kF16: s = "f16"; break;
    case DType::kF64: s = "f64"; break;
    case DType::kBF16: s = "bf16"; break;
    case DType::kF8E4M3FN: s = "f8e4m3fn"; break;
    case DType::kF8E4M3FNUZ: s = "f8e4m3fnuz"; break;
    case DType::kF8E5M2: s = "f8e5m2"; break;
    case DType::kF8E5M2FNUZ: s = "f8e5m2fnuz"; break;
    case DType::kF8E8M0: s = "f8e8m0"; break;
    case DType::kF4E2M1: s = "f4e2m1"; break;
    case DType::kU4: s = "u4"; break;
    case DType::kI4: s = "i4"; break;
    case DType::kU2: s = "u2"; break;
    case DType::kI2: s = "i2"; break;
  }
  if (lanes > 1) s += "x" + std::to_string(lanes);
  return s;
}

Buffer make_buffer(std::string name, DType elem) {
  return std::make_shared<const BufferNode>(BufferNode{std::move(name), elem});
}

const char* binop_name(BinOp op) {
  switch (op) {
    case BinOp::kAdd: return "+";
    case BinOp::kSub: return "-";
    case BinOp::kMul: return "*";
    case BinOp::kDiv: return "/";
    case BinOp::kMod: return "%";
    case BinOp::kMin: return "min";
    case BinOp::kMax: return "max";
    case BinOp::kEQ: return "==";
    case BinOp::kNE: return "!=";
    case BinOp::kLT: return "<";
    case BinOp::kLE: return "<=";
    case BinOp::kGT: return ">";
    case BinOp::kGE: return ">=";
    case BinOp::kAnd: return "&&";
    case BinOp::kOr: return "||";
    case BinOp::kBitAnd: return "&";
    case BinOp::kBitOr: return "|";
    case BinOp::kBitXor: return "^";
    case BinOp::kShl: return "<<";
    case BinOp::kShr: return ">>";
  }
  return "?";
}

const char* intrinsic_name(Intrinsic f) {
  switch (f) {
    case Intrinsic::kExp: return "exp";
    case Intrinsic::kLog: return "log";
    case Intrinsic::kSqrt: return "sqrt";
    case Intrinsic::kErf: return "erf";
    case Intrinsic::kTanh: return "tanh";
    case Intrinsic::kSigmoid: return "sigmoid";
    case Intrinsic::kAbs: return "abs";
    case Intrinsic::kFloor: return "floor";
    case Intrinsic::kCeil: return "ceil";
    case Intrinsic::kRoundEven: return "round_even";
    case Intrinsic::kPow: return "pow";
    case Intrinsic::kFma: return "fma";
    case Intrinsic::kMulRounded: return "mul_rounded";
    case Intrinsic::kNot: return "not";
    case Intrinsic::kSin: return "sin";
    case Intrinsic::kCos: return "cos";
    case Intrinsic::kTan: return "tan";
    case Intrinsic::kAsin: return "asin";
    case Intrinsic::kAcos: return "acos";
    case Intrinsic::kAtan: return "atan";
    case Intrinsic::kDot: return "dot";
    case Intrinsic::kPrefetch: return "prefetch";
  }
  return "?";
}

const char* for_kind_name(ForKind k) {
  switch (k) {
    case ForKind::kSerial: return "serial";
    case ForKind::kParallel: return "parallel";
    case ForKind::kVectorized: return "vectorized";
    case ForKind::kUnrolled: return "unrolled";
  }
  return "?";
}

namespace {

}  // namespace

int64_t wrap_int(DType t, int64_t v) {
  switch (t) {
    case DType::kU8: return static_cast<uint8_t>(v);
    case DType::kI8: return static_cast<int8_t>(v);
    case DType::kU16: return static_cast<uint16_t>(v);
    case DType::kI16: return static_cast<int16_t>(v);
    case DType::kU32: return static_cast<uint32_t>(v);
    case DType::kI32: return static_cast<int32_t>(v);
    case DType::kU4: return v & 0xf;
    case DType::kU2: return v & 0x3;
    case DType::kI4: return static_cast<int64_t>(static_cast<uint64_t>(v) << 60) >> 60;
    case DType::kI2: return static_cast<int64_t>(static_cast<uint64_t>(v) << 62) >> 62;
    case DType::kBool: return v != 0;
    default: return v;  // int64, and uint64 as its bit pattern
  }
}

namespace {

double round_float(DType t, double v) {
  if (t == DType::kF32) return static_cast<double>(static_cast<float>(v));
  if (t == DType::kF16 || t == DType::kF64) return v;
  return narrow_float_round(t, t == DType::kF8E8M0 ? static_cast<float>(v) : f32_round_odd(v));
}

bool is_const(const Expr& e) { return e.as<IntImm>() || e.as<FloatImm>(); }

// Whether constant e keeps its value as an element of type t (no silent 0.5 -> 0).
bool fits(const Expr& e, const Type& t) {
  if (t.is_bool()) {
    auto* i = e.as<IntImm>();
    return i && (i->value == 0 || i->value == 1);
  }
  if (auto* f = e.as<FloatImm>()) return t.is_float() || std::trunc(f->value) == f->value;
  return true;
}

double const_value(const Expr& e) {
  if (auto* i = e.as<IntImm>()) {
    if (i->type.elem == DType::kU64) return static_cast<double>(static_cast<uint64_t>(i->value));
    return static_cast<double>(i->value);
  }
  return e.as<FloatImm>()->value;
}

bool is_const_int(const Expr& e, int64_t v) {
  if (auto* i = e.as<IntImm>()) return i->value == v;
  if (auto* b = e.as<Broadcast>()) return is_const_int(b->value, v);
  return false;
}

// Brings a and b to one type: constants adopt the other operand's element type,
// scalars are broadcast to the other operand's lanes.
void match_types(Expr& a, Expr& b, const char* what) {
  KILN_CHECK(a.get() && b.get()) << what << ": null operand";
  if (a.type().elem != b.type().elem) {
    if (is_const(a) && fits(a, b.type())) {
      a = make_const(b.type().element_of(), const_value(a));
    } else if (is_const(b) && fits(b, a.type())) {
      b = make_const(a.type().element_of(), const_value(b));
    } else if (auto* bc = a.as<Broadcast>(); bc && is_const(bc->value) && fits(bc->value, b.type())) {
      a = make_const(b.type().element_of().with_lanes(a.type().lanes), const_value(bc->value));
    } else if (auto* bc2 = b.as<Broadcast>(); bc2 && is_const(bc2->value) && fits(bc2->value, a.type())) {
      b = make_const(a.type().element_of().with_lanes(b.type().lanes), const_value(bc2->value));
    }
  }
  KILN_CHECK(a.type().elem == b.type().elem)
      << what << ": operand types differ: " << a.type().str() << " (" << to_string(a) << ") vs " << b.type().str()
      << " (" << to_string(b) << "); insert a cast";
  int la = a.type().lanes, lb = b.type().lanes;
  if (la != lb) {
    KILN_CHECK(la == 1 || lb == 1) << what << ": vector widths differ: " << a.type().str() << " vs " << b.type().str();
    if (la == 1) a = broadcast(a, lb);
    else b = broadcast(b, la);
  }
}

bool is_comparison(BinOp op) {
  return op == BinOp::kEQ || op == BinOp::kNE || op == BinOp::kLT || op == BinOp::kLE || op == BinOp::kGT ||
         op == BinOp::kGE;
}

// Folds op over two constants of type t; returns null when it cannot (division by zero).
Expr fold(BinOp op, const Expr& a, const Expr& b) {
  Type t = a.type();
  if (t.is_float()) {
    double x = a.as<FloatImm>()->value, y = b.as<FloatImm>()->value;
    switch (op) {
      case BinOp::kAdd: return float_imm(x + y, t);
      case BinOp::kSub: return float_imm(x - y, t);
      case BinOp::kMul: return float_imm(x * y, t);
      case BinOp::kDiv: return float_imm(x / y, t);
      case BinOp::kMod: return float_imm(std::fmod(x, y), t);
      case BinOp::kMin: return std::isnan(x) || std::isnan(y) ? float_imm(NAN, t) : float_imm(std::min(x, y), t);
      case BinOp::kMax: return std::isnan(x) || std::isnan(y) ? float_imm(NAN, t) : float_imm(std::max(x, y), t);
      case BinOp::kEQ: return int_imm(x == y, boolean());
      case BinOp::kNE: return int_imm(x != y, boolean());
      case BinOp::kLT: return int_imm(x < y, boolean());
      case BinOp::kLE: return int_imm(x <= y, boolean());
      case BinOp::kGT: return int_imm(x > y, boolean());
      case BinOp::kGE: return int_imm(x >= y, boolean());
      default: KILN_UNREACHABLE("logical op on floats");
    }
  }
  int64_t x = a.as<IntImm>()->value, y = b.as<IntImm>()->value;
  if (dtype_is_unsigned(t.elem)) {
    // Unsigned values are stored wrapped (uint64: as the bit pattern).
    uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
    switch (op) {
      case BinOp::kDiv: return uy == 0 ? Expr() : int_imm(static_cast<int64_t>(ux / uy), t);
      case BinOp::kMod: return uy == 0 ? Expr() : int_imm(static_cast<int64_t>(ux % uy), t);
      case BinOp::kMin: return int_imm(static_cast<int64_t>(std::min(ux, uy)), t);
      case BinOp::kMax: return int_imm(static_cast<int64_t>(std::max(ux, uy)), t);
      case BinOp::kLT: return int_imm(ux < uy, boolean());
      case BinOp::kLE: return int_imm(ux <= uy, boolean());
      case BinOp::kGT: return int_imm(ux > uy, boolean());
      case BinOp::kGE: return int_imm(ux >= uy, boolean());
      default: break;
    }
  }
  switch (op) {
    case BinOp::kAdd: return int_imm(static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y)), t);
    case BinOp::kSub: return int_imm(static_cast<int64_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(y)), t);
    case BinOp::kMul: return int_imm(static_cast<int64_t>(static_cast<uint64_t>(x) * static_cast<uint64_t>(y)), t);
    case BinOp::kDiv: return y == 0 ? Expr() : int_imm(x / y, t);
    case BinOp::kMod: return y == 0 ? Expr() : int_imm(x % y, t);
    case BinOp::kMin: return int_imm(std::min(x, y), t);
    case BinOp::kMax: return int_imm(std::max(x, y), t);
    case BinOp::kEQ: return int_imm(x == y, boolean());
    case BinOp::kNE: return int_imm(x != y, boolean());
    case BinOp::kLT: return int_imm(x < y, boolean());
    case BinOp::kLE: return int_imm(x <= y, boolean());
    case BinOp::kGT: return int_imm(x > y, boolean());
    case BinOp::kGE: return int_imm(x >= y, boolean());
    case BinOp::kAnd: return int_imm(x && y, boolean());
    case BinOp::kOr: return int_imm(x || y, boolean());
    case BinOp::kBitAnd:
    case BinOp::kBitOr:
    case BinOp::kBitXor:
    case BinOp::kShl:
    case BinOp::kShr: return int_imm(eval_bitwise(op, t.elem, x, y), t);
  }
  return Expr();
}

}  // namespace

int64_t eval_bitwise(BinOp op, DType t, int64_t x, int64_t y) {
  int bits = dtype_bits(t);
  bool is_unsigned = dtype_is_unsigned(t);
  uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  uint64_t ux = static_cast<uint64_t>(x) & mask;
  switch (op) {
    case BinOp::kBitAnd: return x & y;
    case BinOp::kBitOr: return x | y;
    case BinOp::kBitXor: return x ^ y;
    case BinOp::kShl: return y < 0 || y >= bits ? 0 : static_cast<int64_t>(ux << y);
    case BinOp::kShr:
      if (is_unsigned) return y < 0 || y >= bits ? 0 : static_cast<int64_t>(ux >> y);
      return y < 0 || y >= bits ? (x < 0 ? -1 : 0) : x >> y;
    default: KILN_UNREACHABLE("eval_bitwise: " << binop_name(op));
  }
  return 0;
}

Expr::Expr(int64_t v) : node_(std::make_shared<IntImm>(i64(), v)) {}

Expr var(const std::string& name, Type t) { return Expr(std::make_shared<Var>(t, name)); }

Expr int_imm(int64_t v, Type t) {
  KILN_CHECK(!t.is_float()) << "int_imm of float type " << t.str();
  if (t.lanes > 1) return broadcast(int_imm(v, t.element_of()), t.lanes);
  return Expr(std::make_shared<IntImm>(t, wrap_int(t.elem, v)));
}

Expr float_imm(double v, Type t) {
  KILN_CHECK(t.is_float()) << "float_imm of non-float type " << t.str();
  if (t.lanes > 1) return broadcast(float_imm(v, t.element_of()), t.lanes);
  return Expr(std::make_shared<FloatImm>(t, round_float(t.elem, v)));
}

Expr make_const(Type t, double v) {
  if (t.is_float()) return float_imm(v, t);
  if (v >= 9223372036854775808.0 && v < 18446744073709551616.0)
    return int_imm(static_cast<int64_t>(static_cast<uint64_t>(v)), t);  // uint64 range
  return int_imm(static_cast<int64_t>(v), t);
}

Expr load(const Buffer& b, Expr index) {
  KILN_CHECK(b) << "load from a null buffer";
  KILN_CHECK(index.get() && index.type().is_int()) << "load from " << b->name << ": index must be an integer, got "
                                             << (index ? index.type().str() : "null");
  return Expr(std::make_shared<Load>(Type{b->elem, index.type().lanes}, b, std::move(index)));
}

namespace {

// x when e is (x / c) * c, for a constant c > 0 and the same x node as `mod`'s x % c.
const Binary* div_mul_of(const Expr& e, const Binary* mod) {
  auto* mul = e.as<Binary>();
  if (!mul || mul->op != BinOp::kMul) return nullptr;
  auto* div = mul->a.as<Binary>();
  const int64_t* c = as_const_int(mul->b);
  const int64_t* cm = as_const_int(mod->b);
  const int64_t* cd = div ? as_const_int(div->b) : nullptr;
  if (!div || div->op != BinOp::kDiv || !c || !cm || !cd || *c != *cm || *cd != *c || *c <= 0) return nullptr;
  return div->a.same_as(mod->a) ? div : nullptr;
}

// z + (x / c) * c + x % c -> z + x (and without z): C's truncating division
// makes it an identity. Flat indices of (p / W, p % W) become p again, so a
// loop over p addresses memory contiguously.
Expr fold_div_mod(const Expr& a, const Expr& b) {
  auto* mod = b.as<Binary>();
  if (!mod || mod->op != BinOp::kMod) return Expr();
  if (div_mul_of(a, mod)) return mod->a;
  auto* add = a.as<Binary>();
  if (add && add->op == BinOp::kAdd && div_mul_of(add->b, mod)) return add->a + mod->a;
  return Expr();
}

}  // namespace

Expr binary(BinOp op, Expr a, Expr b) {
  match_types(a, b, binop_name(op));
  Type t = a.type();
  if (op == BinOp::kAnd || op == BinOp::kOr) {
    KILN_CHECK(t.is_bool()) << binop_name(op) << " needs bool operands, got " << t.str();
  }
  if (op >= BinOp::kBitAnd) {
    KILN_CHECK(t.is_int()) << binop_name(op) << " needs integer operands, got " << t.str();
  }
  // Both operands lane-invariant: compute on scalars and broadcast once.
  if (t.lanes > 1) {
    auto* ba = a.as<Broadcast>();
    auto* bb = b.as<Broadcast>();
    if (ba && bb) return broadcast(binary(op, ba->value, bb->value), t.lanes);
  }
  if (is_const(a) && is_const(b)) {
    if (Expr f = fold(op, a, b)) return f;
  }
  if (t.is_int()) {
    switch (op) {
      case BinOp::kAdd:
        if (is_const_int(a, 0)) return b;
        if (is_const_int(b, 0)) return a;
        if (Expr r = fold_div_mod(a, b)) return r;
        break;
      case BinOp::kSub:
        if (is_const_int(b, 0)) return a;
        break;
      case BinOp::kMul:
        if (is_const_int(a, 1)) return b;
        if (is_const_int(b, 1)) return a;
        if (is_const_int(a, 0)) return a;
        if (is_const_int(b, 0)) return b;
        break;
      case BinOp::kDiv:
        if (is_const_int(b, 1)) return a;
        break;
      default: break;
    }
  }
  Type rt = is_comparison(op) ? boolean(t.lanes) : t;
  return Expr(std::make_shared<Binary>(rt, op, std::move(a), std::move(b)));
}

Expr select(Expr cond, Expr t, Expr f) {
  KILN_CHECK(cond.get() && cond.type().is_bool()) << "select condition must be bool, got "
                                            << (cond ? cond.type().str() : "null");
  match_types(t, f, "select");
  int lanes = std::max(cond.type().lanes, t.type().lanes);
  if (t.type().lanes < lanes) {
    t = broadcast(t, lanes);
    f = broadcast(f, lanes);
  }
  KILN_CHECK(cond.type().lanes == 1 || cond.type().lanes == lanes)
      << "select: condition " << cond.type().str() << " vs values " << t.type().str();
  if (auto* c = cond.as<IntImm>()) return c->value ? t : f;
  if (auto* bc = cond.as<Broadcast>()) {
    if (auto* c = bc->value.as<IntImm>()) return c->value ? t : f;
  }
  Type rt = t.type();
  return Expr(std::make_shared<Select>(rt, std::move(cond), std::move(t), std::move(f)));
}

Expr cast(Type t, Expr v) {
  KILN_CHECK(v) << "cast of null";
  if (t.lanes == 1) t = t.with_lanes(v.type().lanes);
  KILN_CHECK(t.lanes == v.type().lanes) << "cast from " << v.type().str() << " to " << t.str() << " changes lanes";
  if (t == v.type()) return v;
  if (auto* b = v.as<Broadcast>()) return broadcast(cast(t.element_of(), b->value), t.lanes);
  if (is_const(v)) {
    double x = const_value(v);
    if (t.is_bool()) return int_imm(x != 0, t);
    if (t.is_float()) return float_imm(x, t);
    if (v.as<FloatImm>() && std::isfinite(x) && std::fabs(x) < 9223372036854775808.0)
      return int_imm(static_cast<int64_t>(std::trunc(x)), t);
    if (v.as<FloatImm>() && x >= 9223372036854775808.0 && x < 18446744073709551616.0)
      return int_imm(static_cast<int64_t>(static_cast<uint64_t>(x)), t);  // uint64 range
    if (auto* i = v.as<IntImm>()) return int_imm(i->value, t);
  }
  return Expr(std::make_shared<Cast>(t, std::move(v)));
}

namespace {

// The operand checks of dot (see Intrinsic::kDot).
Expr dot_call(std::vector<Expr> args) {
  KILN_CHECK(args.size() == 4) << "dot takes 4 arguments, got " << args.size();
  Type acc = args[0].type();
  KILN_CHECK(acc.elem == DType::kI32) << "dot accumulates in int32, got " << acc.str();
  const int64_t* g = as_const_int(args[3]);
  KILN_CHECK(g && (*g == 2 || *g == 4)) << "dot's group size must be the immediate 2 or 4";
  for (int i = 1; i <= 2; ++i) {
    Type t = args[i].type();
    bool packed = (t.lanes == 1 || t.lanes == acc.lanes) &&
                  (t.elem == DType::kI32 || (t.elem == DType::kU32 && *g == 4));
    bool elements = t.lanes == *g * acc.lanes &&
                    (*g == 2 ? t.elem == DType::kI16 : t.elem == DType::kU8 || t.elem == DType::kI8);
    KILN_CHECK(packed || elements) << "dot of " << acc.str() << " in groups of " << *g << ": operand " << t.str()
                                   << " is neither " << *g << "x" << acc.lanes << " elements nor packed groups";
  }
  return Expr(std::make_shared<Call>(acc, Intrinsic::kDot, std::move(args)));
}

}  // namespace

Expr call(Intrinsic f, std::vector<Expr> args) {
  if (f == Intrinsic::kDot) return dot_call(std::move(args));
  size_t want = f == Intrinsic::kFma ? 3 : f == Intrinsic::kPow || f == Intrinsic::kMulRounded ? 2 : 1;
  KILN_CHECK(args.size() == want) << intrinsic_name(f) << " takes " << want << " arguments, got " << args.size();
  for (size_t i = 1; i < args.size(); ++i) match_types(args[0], args[i], intrinsic_name(f));
  if (args.size() == 3) match_types(args[1], args[2], intrinsic_name(f));
  if (args.size() == 3) match_types(args[0], args[1], intrinsic_name(f));
  Type t = args[0].type();
  KILN_CHECK(f != Intrinsic::kPrefetch || (args[0].as<Load>() && t.lanes == 1)) << "prefetch takes a scalar load";
  switch (f) {
    case Intrinsic::kNot:
      KILN_CHECK(t.is_bool()) << "not needs a bool, got " << t.str();
      if (auto* c = args[0].as<IntImm>()) return int_imm(!c->value, boolean());
      break;
    case Intrinsic::kAbs:
      KILN_CHECK(!t.is_bool()) << "abs of bool";
      break;
    case Intrinsic::kPrefetch: break;  // of any buffer
    default:
      KILN_CHECK(t.is_float()) << intrinsic_name(f) << " needs float arguments, got " << t.str();
  }
  return Expr(std::make_shared<Call>(t, f, std::move(args)));
}

Expr ramp(Expr base, Expr stride, int lanes) {
  KILN_CHECK(lanes > 1) << "ramp needs at least 2 lanes, got " << lanes;
  match_types(base, stride, "ramp");
  KILN_CHECK(base.type().lanes == 1 && base.type().is_int()) << "ramp base/stride must be scalar ints, got "
                                                              << base.type().str();
  if (is_const_int(stride, 0)) return broadcast(base, lanes);
  return Expr(std::make_shared<Ramp>(base.type().with_lanes(lanes), std::move(base), std::move(stride)));
}

Expr broadcast(Expr v, int lanes) {
  KILN_CHECK(v) << "broadcast of null";
  if (lanes == 1) return v;
  KILN_CHECK(v.type().lanes == 1) << "broadcast of a vector " << v.type().str();
  return Expr(std::make_shared<Broadcast>(v.type().with_lanes(lanes), std::move(v)));
}

Expr min(Expr a, Expr b) { return binary(BinOp::kMin, std::move(a), std::move(b)); }
Expr max(Expr a, Expr b) { return binary(BinOp::kMax, std::move(a), std::move(b)); }
Expr operator+(Expr a, Expr b) { return binary(BinOp::kAdd, std::move(a), std::move(b)); }
Expr operator-(Expr a, Expr b) { return binary(BinOp::kSub, std::move(a), std::move(b)); }
Expr operator*(Expr a, Expr b) { return binary(BinOp::kMul, std::move(a), std::move(b)); }
Expr operator/(Expr a, Expr b) { return binary(BinOp::kDiv, std::move(a), std::move(b)); }
Expr operator%(Expr a, Expr b) { return binary(BinOp::kMod, std::move(a), std::move(b)); }
Expr operator-(Expr a) {
  // Floats negate as x * -1 (exact, keeps the sign of zero); ints as 0 - x.
  if (a.type().is_float()) return a * make_const(a.type(), -1.0);
  return make_const(a.type(), 0) - a;
}
Expr operator==(Expr a, Expr b) { return binary(BinOp::kEQ, std::move(a), std::move(b)); }
Expr operator!=(Expr a, Expr b) { return binary(BinOp::kNE, std::move(a), std::move(b)); }
Expr operator<(Expr a, Expr b) { return binary(BinOp::kLT, std::move(a), std::move(b)); }
Expr operator<=(Expr a, Expr b) { return binary(BinOp::kLE, std::move(a), std::move(b)); }
Expr operator>(Expr a, Expr b) { return binary(BinOp::kGT, std::move(a), std::move(b)); }
Expr operator>=(Expr a, Expr b) { return binary(BinOp::kGE, std::move(a), std::move(b)); }
Expr operator&&(Expr a, Expr b) { return binary(BinOp::kAnd, std::move(a), std::move(b)); }
Expr operator||(Expr a, Expr b) { return binary(BinOp::kOr, std::move(a), std::move(b)); }

Stmt for_loop(Expr v, Expr min, Expr extent, ForKind kind, Stmt body) {
  KILN_CHECK(v.as<Var>()) << "for loop variable must be a Var";
  KILN_CHECK(min.get() && extent.get() && min.type().is_int() && extent.type().is_int() && min.type().lanes == 1 &&
             extent.type().lanes == 1)
      << "for " << v.as<Var>()->name << ": min and extent must be scalar integers";
  if (kind == ForKind::kVectorized || kind == ForKind::kUnrolled) {
    KILN_CHECK(as_const_int(extent)) << for_kind_name(kind) << " loop " << v.as<Var>()->name
                                     << " needs a constant extent, got " << to_string(extent);
  }
  if (min.type() != v.type()) min = cast(v.type(), min);
  if (extent.type() != v.type()) extent = cast(v.type(), extent);
  return Stmt(std::make_shared<For>(std::move(v), std::move(min), std::move(extent), kind, std::move(body)));
}

Stmt store(const Buffer& b, Expr index, Expr value) {
  KILN_CHECK(b) << "store to a null buffer";
  KILN_CHECK(index.get() && index.type().is_int()) << "store to " << b->name << ": index must be an integer";
  KILN_CHECK(value) << "store to " << b->name << ": null value";
  if (value.type().elem != b->elem && is_const(value) && fits(value, Type{b->elem, 1})) value = make_const(Type{b->elem, 1}, const_value(value));
  KILN_CHECK(value.type().elem == b->elem) << "store to " << b->name << " (" << dtype_name(b->elem)
                                           << ") of a " << value.type().str() << " value";
  if (value.type().lanes == 1 && index.type().lanes > 1) value = broadcast(value, index.type().lanes);
  return Stmt(std::make_shared<Store>(b, std::move(index), std::move(value)));
}

Stmt block(std::vector<Stmt> stmts) {
  std::vector<Stmt> flat;
  for (auto& s : stmts) {
    if (!s) continue;
    if (auto* b = s.as<Block>()) {
      flat.insert(flat.end(), b->stmts.begin(), b->stmts.end());
    } else {
      flat.push_back(std::move(s));
    }
  }
  if (flat.size() == 1) return flat[0];
  return Stmt(std::make_shared<Block>(std::move(flat)));
}

Stmt if_then_else(Expr cond, Stmt then_case, Stmt else_case) {
  KILN_CHECK(cond.get() && cond.type().is_bool()) << "if condition must be bool";
  if (auto* c = cond.as<IntImm>()) return c->value ? then_case : else_case;
  return Stmt(std::make_shared<IfThenElse>(std::move(cond), std::move(then_case), std::move(else_case)));
}

Stmt let_stmt(Expr v, Expr value, Stmt body) {
  KILN_CHECK(v.as<Var>()) << "let needs a Var";
  KILN_CHECK(value.get() && value.type() == v.type()) << "let " << v.as<Var>()->name << ": variable is " << v.type().str()
                                                << " but value is " << (value ? value.type().str() : "null");
  return Stmt(std::make_shared<LetStmt>(std::move(v), std::move(value), std::move(body)));
}

Stmt allocate(const Buffer& b, Expr size, Stmt body) {
  KILN_CHECK(b && size.get() && size.type().is_int() && size.type().lanes == 1)
      << "allocate needs a buffer and a scalar integer size";
  return Stmt(std::make_shared<Allocate>(b, std::move(size), std::move(body)));
}

const int64_t* as_const_int(const Expr& e) {
  auto* i = e.as<IntImm>();
  return i ? &i->value : nullptr;
}

}  // namespace kiln::kir
