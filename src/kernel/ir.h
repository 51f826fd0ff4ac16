// Kernel IR: kiln's loop-level IR (DESIGN.md "lowering + kernel IR").
// Buffers, loops marked serial/parallel/vectorized/unrolled, loads, stores,
// arithmetic and a few intrinsics. Nodes are immutable and shared; passes
// rebuild what they change (see mutator.h). Node kinds are listed in nodes.def.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/check.h"
#include "ir/dtype.h"

namespace kiln::kir {

// An element type and a vector width (lanes == 1: scalar). Bool values are i1
// in registers and one byte in memory.
struct Type {
  DType elem = DType::kF32;
  int lanes = 1;

  bool is_float() const { return dtype_is_float(elem); }
  bool is_bool() const { return elem == DType::kBool; }
  bool is_int() const { return !is_float() && !is_bool(); }
  bool is_vector() const { return lanes > 1; }
  Type with_lanes(int l) const { return Type{elem, l}; }
  Type element_of() const { return Type{elem, 1}; }
  bool operator==(const Type& o) const { return elem == o.elem && lanes == o.lanes; }
  bool operator!=(const Type& o) const { return !(*this == o); }
  std::string str() const;  // "f32", "i64x8"
};

inline Type f32(int lanes = 1) { return {DType::kF32, lanes}; }
inline Type i64(int lanes = 1) { return {DType::kI64, lanes}; }
inline Type i32(int lanes = 1) { return {DType::kI32, lanes}; }
inline Type boolean(int lanes = 1) { return {DType::kBool, lanes}; }

enum class NodeKind : uint8_t {
#define KILN_EXPR(N) k##N,
#define KILN_STMT(N) k##N,
#include "kernel/nodes.def"
#undef KILN_EXPR
#undef KILN_STMT
};

// A memory region a kernel reads or writes: a parameter of the kernel function
// or a local Allocate. Identity is the pointer; the name is for printing.
struct BufferNode {
  std::string name;
  DType elem;
};
using Buffer = std::shared_ptr<const BufferNode>;
Buffer make_buffer(std::string name, DType elem);

struct ExprNode;
struct StmtNode;

// A handle to an immutable expression node, with arithmetic operators that
// fold constants and the trivial identities (x*1, x+0) as they build.
class Expr {
 public:
  Expr() = default;
  Expr(std::shared_ptr<const ExprNode> n) : node_(std::move(n)) {}  // NOLINT
  Expr(int64_t v);  // NOLINT: an i64 immediate (index arithmetic)
  Expr(int v) : Expr(static_cast<int64_t>(v)) {}  // NOLINT

  const ExprNode* get() const { return node_.get(); }
  const ExprNode* operator->() const { return node_.get(); }
  explicit operator bool() const { return node_ != nullptr; }
  const std::shared_ptr<const ExprNode>& ptr() const { return node_; }
  Type type() const;
  NodeKind kind() const;
  template <typename T>
  const T* as() const;  // null if not that kind
  bool same_as(const Expr& o) const { return node_ == o.node_; }

 private:
  std::shared_ptr<const ExprNode> node_;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(std::shared_ptr<const StmtNode> n) : node_(std::move(n)) {}  // NOLINT
  const StmtNode* get() const { return node_.get(); }
  const StmtNode* operator->() const { return node_.get(); }
  explicit operator bool() const { return node_ != nullptr; }
  NodeKind kind() const;
  template <typename T>
  const T* as() const;
  bool same_as(const Stmt& o) const { return node_ == o.node_; }

 private:
  std::shared_ptr<const StmtNode> node_;
};

struct ExprNode {
  NodeKind kind;
  Type type;
  ExprNode(NodeKind k, Type t) : kind(k), type(t) {}
  virtual ~ExprNode() = default;
};

struct StmtNode {
  NodeKind kind;
  explicit StmtNode(NodeKind k) : kind(k) {}
  virtual ~StmtNode() = default;
};

// ---- expressions ----
struct IntImm : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kIntImm;
  int64_t value;
  IntImm(Type t, int64_t v) : ExprNode(NodeKind::kIntImm, t), value(v) {}
};
struct FloatImm : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kFloatImm;
  double value;
  FloatImm(Type t, double v) : ExprNode(NodeKind::kFloatImm, t), value(v) {}
};
// A loop variable or let-bound name. Identity is the node pointer.
struct Var : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kVar;
  std::string name;
  Var(Type t, std::string n) : ExprNode(NodeKind::kVar, t), name(std::move(n)) {}
};
// buffer[index]; index is i64 (lanes > 1: a vector load/gather of that width).
struct Load : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kLoad;
  Buffer buffer;
  Expr index;
  Load(Type t, Buffer b, Expr i) : ExprNode(NodeKind::kLoad, t), buffer(std::move(b)), index(std::move(i)) {}
};
enum class BinOp : uint8_t {
  kAdd, kSub, kMul, kDiv, kMod, kMin, kMax, kEQ, kNE, kLT, kLE, kGT, kGE, kAnd, kOr,
  // Integer (non-bool) bitwise ops. kShr is logical for unsigned types and
  // arithmetic for signed ones; shifting by a negative amount or >= the bit
  // width gives 0 (kShr of a negative signed value: -1).
  kBitAnd, kBitOr, kBitXor, kShl, kShr,
};
const char* binop_name(BinOp op);
// v wrapped to integer type t (two's complement; the 4- and 2-bit types sign-
// or zero-extended from their bits; uint64 kept as its bit pattern; bool: v != 0).
// IntImm values are stored this way.
int64_t wrap_int(DType t, int64_t v);
// kBitAnd .. kShr on two values of integer dtype t (as stored: wrapped to t).
int64_t eval_bitwise(BinOp op, DType t, int64_t x, int64_t y);
// Integer kDiv/kMod truncate toward zero (C semantics). kMin/kMax on floats
// propagate NaN like ONNX Min/Max. Comparisons yield bool.
struct Binary : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kBinary;
  BinOp op;
  Expr a, b;
  Binary(Type t, BinOp o, Expr x, Expr y) : ExprNode(NodeKind::kBinary, t), op(o), a(std::move(x)), b(std::move(y)) {}
};
struct Select : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kSelect;
  Expr cond, t, f;
  Select(Type ty, Expr c, Expr x, Expr y)
      : ExprNode(NodeKind::kSelect, ty), cond(std::move(c)), t(std::move(x)), f(std::move(y)) {}
};
// Numeric conversion (float->int truncates toward zero, like ONNX Cast).
struct Cast : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kCast;
  Expr value;
  Cast(Type t, Expr v) : ExprNode(NodeKind::kCast, t), value(std::move(v)) {}
};
enum class Intrinsic : uint8_t {
  kExp, kLog, kSqrt, kErf, kTanh, kSigmoid, kAbs, kFloor, kCeil,
  kRoundEven,  // round half to even
  kPow,        // pow(x, y) with C semantics for negative x and integral y
  kFma,        // fma(a, b, c) = a*b + c, one rounding
  kMulRounded, // a * b rounded on its own: never contracted with a neighbouring add into an FMA
  kNot,        // logical not of a bool
  kSin, kCos, kTan, kAsin, kAcos, kAtan,  // radians; asin/acos of |x| > 1 is NaN
  // dot(acc, a, b, G): the integer dot product of the int8 kernels, exact
  // (int32, wrapping): lane i of the int32 x L accumulator plus sum over j < G
  // of a[G*i + j] * b[G*i + j]. G (an int64 immediate) is 4 for 8-bit elements,
  // 2 for int16 ones. An operand is G*L elements (uint8/int8, or int16), or L
  // 32-bit lanes each holding one group packed little-endian (uint32: four
  // uint8; int32: four int8 or two int16), or one packed 32-bit group for every
  // lane (a broadcast). Results never depend on the ISA (VNNI vpdpbusd, AVX2
  // vpmaddwd, NEON sdot/udot or widening multiplies: codegen/llvm/emit_dot.cpp).
  kDot,
  kPrefetch,   // prefetch(load): asks the cache for the address `load` would read (into L2;
               // the load itself does not happen, any address is allowed); evaluates to 0
};
const char* intrinsic_name(Intrinsic f);
struct Call : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kCall;
  Intrinsic func;
  std::vector<Expr> args;
  Call(Type t, Intrinsic f, std::vector<Expr> a) : ExprNode(NodeKind::kCall, t), func(f), args(std::move(a)) {}
};
// base, base+stride, ..., base+(lanes-1)*stride.
struct Ramp : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kRamp;
  Expr base, stride;
  Ramp(Type t, Expr b, Expr s) : ExprNode(NodeKind::kRamp, t), base(std::move(b)), stride(std::move(s)) {}
};
struct Broadcast : ExprNode {
  static constexpr NodeKind kKind = NodeKind::kBroadcast;
  Expr value;
  Broadcast(Type t, Expr v) : ExprNode(NodeKind::kBroadcast, t), value(std::move(v)) {}
};

// ---- statements ----
enum class ForKind : uint8_t {
  kSerial,
  kParallel,    // iterations run on the runtime's thread pool (outermost loops only)
  kVectorized,  // constant extent; becomes one vector operation (kernel/passes/vectorize)
  kUnrolled,    // constant extent; body repeated
};
const char* for_kind_name(ForKind k);
struct For : StmtNode {
  static constexpr NodeKind kKind = NodeKind::kFor;
  Expr var;  // a Var of type i64
  Expr min, extent;
  ForKind for_kind;
  Stmt body;
  For(Expr v, Expr m, Expr e, ForKind k, Stmt b)
      : StmtNode(NodeKind::kFor), var(std::move(v)), min(std::move(m)), extent(std::move(e)), for_kind(k), body(std::move(b)) {}
};
struct Store : StmtNode {
  static constexpr NodeKind kKind = NodeKind::kStore;
  Buffer buffer;
  Expr index;
  Expr value;
  Store(Buffer b, Expr i, Expr v) : StmtNode(NodeKind::kStore), buffer(std::move(b)), index(std::move(i)), value(std::move(v)) {}
};
struct Block : StmtNode {
  static constexpr NodeKind kKind = NodeKind::kBlock;
  std::vector<Stmt> stmts;
  explicit Block(std::vector<Stmt> s) : StmtNode(NodeKind::kBlock), stmts(std::move(s)) {}
};
struct IfThenElse : StmtNode {
  static constexpr NodeKind kKind = NodeKind::kIfThenElse;
  Expr cond;
  Stmt then_case, else_case;  // else_case may be null
  IfThenElse(Expr c, Stmt t, Stmt e)
      : StmtNode(NodeKind::kIfThenElse), cond(std::move(c)), then_case(std::move(t)), else_case(std::move(e)) {}
};
struct LetStmt : StmtNode {
  static constexpr NodeKind kKind = NodeKind::kLetStmt;
  Expr var;  // a Var
  Expr value;
  Stmt body;
  LetStmt(Expr v, Expr val, Stmt b) : StmtNode(NodeKind::kLetStmt), var(std::move(v)), value(std::move(val)), body(std::move(b)) {}
};
// A local buffer of `size` elements live within body (stack when small).
struct Allocate : StmtNode {
  static constexpr NodeKind kKind = NodeKind::kAllocate;
  Buffer buffer;
  Expr size;
  Stmt body;
  Allocate(Buffer b, Expr s, Stmt body_)
      : StmtNode(NodeKind::kAllocate), buffer(std::move(b)), size(std::move(s)), body(std::move(body_)) {}
};

template <typename T>
const T* Expr::as() const {
  return node_ && node_->kind == T::kKind ? static_cast<const T*>(node_.get()) : nullptr;
}
template <typename T>
const T* Stmt::as() const {
  return node_ && node_->kind == T::kKind ? static_cast<const T*>(node_.get()) : nullptr;
}
inline Type Expr::type() const { return node_->type; }
inline NodeKind Expr::kind() const { return node_->kind; }
inline NodeKind Stmt::kind() const { return node_->kind; }

// ---- builders (fold constants and identities) ----
Expr var(const std::string& name, Type t = i64());
Expr int_imm(int64_t v, Type t = i64());
Expr float_imm(double v, Type t = f32());
// A constant of `t` with value v (int or float by t).
Expr make_const(Type t, double v);
Expr load(const Buffer& b, Expr index);
Expr binary(BinOp op, Expr a, Expr b);
Expr select(Expr cond, Expr t, Expr f);
Expr cast(Type t, Expr v);
Expr call(Intrinsic f, std::vector<Expr> args);
Expr ramp(Expr base, Expr stride, int lanes);
Expr broadcast(Expr v, int lanes);
Expr min(Expr a, Expr b);
Expr max(Expr a, Expr b);

Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator%(Expr a, Expr b);
Expr operator-(Expr a);
Expr operator==(Expr a, Expr b);
Expr operator!=(Expr a, Expr b);
Expr operator<(Expr a, Expr b);
Expr operator<=(Expr a, Expr b);
Expr operator>(Expr a, Expr b);
Expr operator>=(Expr a, Expr b);
Expr operator&&(Expr a, Expr b);
Expr operator||(Expr a, Expr b);

Stmt for_loop(Expr v, Expr min, Expr extent, ForKind kind, Stmt body);
Stmt store(const Buffer& b, Expr index, Expr value);
Stmt block(std::vector<Stmt> stmts);  // flattens nested blocks, drops nulls
Stmt if_then_else(Expr cond, Stmt then_case, Stmt else_case = Stmt());
Stmt let_stmt(Expr v, Expr value, Stmt body);
Stmt allocate(const Buffer& b, Expr size, Stmt body);

// The integer value of e if it is an IntImm.
const int64_t* as_const_int(const Expr& e);

// A kernel: a function of buffer parameters (pointers, noalias) and a body.
struct Func {
  std::string name;
  std::vector<Buffer> params;
  Stmt body;
};

// Printers (KILN_DUMP_IR=kernel and tests).
std::string to_string(const Expr& e);
std::string to_string(const Stmt& s);
std::string to_string(const Func& f);

}  // namespace kiln::kir
