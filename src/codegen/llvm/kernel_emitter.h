// KernelEmitter: lowers one kir::Func into an LLVM function
// `void NAME(const kiln_host_api* host, T0* noalias p0, ...)`. Private to codegen/llvm.
#pragma once

#include <functional>
#include <unordered_map>
#include <vector>

#include "kernel/ir.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

namespace kiln::codegen {

// The integer multiply-accumulate instructions a target has (kir dot, emit_dot.cpp).
struct DotIsa {
  bool x86 = false, aarch64 = false;
  int vector_bits = 128;  // widest integer vectors: 128 / 256 / 512
  bool vnni = false;      // vpdpbusd at vector_bits (AVX-512 VNNI, or AVX-VNNI at 256)
  bool avx2 = false;      // 256-bit vpmaddwd / vpmaddubsw
  bool dotprod = false;   // NEON sdot / udot
  static DotIsa of(const llvm::TargetMachine& tm);
};

class KernelEmitter {
 public:
  KernelEmitter(llvm::Module& module, const llvm::TargetMachine& tm);

  // Emits `func` (already vectorized: no kVectorized loops) with internal
  // linkage and returns it.
  llvm::Function* emit_kernel(const kir::Func& func);

  // Register type of a kernel IR type (bool: i1), and in-memory element type (bool: i8).
  llvm::Type* value_type(kir::Type t);
  llvm::Type* memory_type(DType t);

 private:
  // expressions (emit_expr.cpp)
  llvm::Value* emit(const kir::Expr& e);
  llvm::Value* emit_binary(const kir::Binary* op);
  llvm::Value* emit_cast(const kir::Cast* op);
  llvm::Value* emit_load(const kir::Load* op);
  llvm::Value* emit_strided_load(const kir::Load* op, int64_t stride);
  llvm::Value* emit_call(const kir::Call* op);
  // kir dot (emit_dot.cpp): acc + the G-way products of a and b, exact on every ISA.
  llvm::Value* emit_dot(const kir::Call* op, const std::vector<llvm::Value*>& args);
  llvm::Value* emit_ramp(const kir::Ramp* op);
  // Address of buffer[index] for a scalar index.
  llvm::Value* element_ptr(const kir::Buffer& b, llvm::Value* index);
  // statements (emit_stmt.cpp)
  void emit(const kir::Stmt& s);
  void emit_store(const kir::Store* op);
  void emit_for(const kir::For* op);
  // for (i = begin; i < end; ++i) body(i), as a plain LLVM loop.
  void emit_counted_loop(llvm::Value* begin, llvm::Value* end, const std::string& name,
                         const std::function<void(llvm::Value*)>& body);
  void emit_allocate(const kir::Allocate* op);
  void emit_if(const kir::IfThenElse* op);
  // element types narrower than their registers (emit_narrow.cpp)
  // float32 x rounded to narrow float type t (its register form: a float32).
  llvm::Value* narrow_round(DType t, llvm::Value* x);
  // The bits of a value of narrow float type t (memory form), and back.
  llvm::Value* narrow_encode(DType t, llvm::Value* x);
  llvm::Value* narrow_decode(DType t, llvm::Value* bits);
  // An i8 holding a 4- or 2-bit integer, sign- or zero-extended from its bits.
  llvm::Value* wrap_small_int(DType t, llvm::Value* v);
  // A loaded element in memory form -> register form, and back for a store.
  llvm::Value* from_memory(DType t, llvm::Value* v);
  llvm::Value* to_memory(DType t, llvm::Value* v);
  // Any numeric register value of type `from` -> float32 (float64 rounded to
  // odd, so that a following narrow_round rounds once).
  llvm::Value* to_f32(kir::Type from, llvm::Value* v, bool round_odd);
  llvm::Value* i32_const(llvm::Value* like, uint32_t c);
  // parallel loops (emit_parallel.cpp)
  void emit_parallel(const kir::For* op);
  // An alloca in the current function's entry block.
  llvm::AllocaInst* entry_alloca(llvm::Type* t, llvm::Value* count, const std::string& name);
  llvm::Value* splat(llvm::Value* v, int lanes);

  llvm::LLVMContext& ctx_;
  llvm::Module& module_;
  DotIsa isa_;
  llvm::IRBuilder<> b_;
  llvm::Function* function_ = nullptr;
  llvm::Value* host_ = nullptr;
  bool in_parallel_ = false;
  int parallel_count_ = 0;
  std::unordered_map<const kir::ExprNode*, llvm::Value*> vars_;
  std::unordered_map<const kir::BufferNode*, llvm::Value*> buffers_;
};

// Inline math (math_emitter.cpp): Cephes-style range reduction and polynomials,
// for float scalars or vectors; no libm calls.
llvm::Value* emit_exp(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_log(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_tanh(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_sigmoid(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_erf(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_pow(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y);
llvm::Value* emit_sin(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_cos(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_tan(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_asin(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_acos(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_atan(llvm::IRBuilder<>& b, llvm::Value* x);

}  // namespace kiln::codegen
