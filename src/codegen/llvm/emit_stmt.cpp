// Kernel IR statements -> LLVM control flow: loops (serial, unrolled; parallel
// in emit_parallel.cpp), stores (vector, scatter), if, let and allocations.
#include "codegen/llvm/kernel_emitter.h"

namespace kiln::codegen {
namespace {

// Allocations up to this size live on the stack; bigger ones use malloc so
// pool threads with small stacks do not overflow.
constexpr int64_t kMaxStackBytes = 64 * 1024;

}  // namespace

void KernelEmitter::emit(const kir::Stmt& s) {
  if (!s) return;
  switch (s.kind()) {
    case kir::NodeKind::kFor: return emit_for(s.as<kir::For>());
    case kir::NodeKind::kStore: return emit_store(s.as<kir::Store>());
    case kir::NodeKind::kBlock:
      for (auto& c : s.as<kir::Block>()->stmts) emit(c);
      return;
    case kir::NodeKind::kIfThenElse: return emit_if(s.as<kir::IfThenElse>());
    case kir::NodeKind::kLetStmt: {
      auto* l = s.as<kir::LetStmt>();
      vars_[l->var.get()] = emit(l->value);
      emit(l->body);
      vars_.erase(l->var.get());
      return;
    }
    case kir::NodeKind::kAllocate: return emit_allocate(s.as<kir::Allocate>());
    default: KILN_UNREACHABLE("expression kind in a statement");
  }
}

void KernelEmitter::emit_store(const kir::Store* op) {
  llvm::Value* v = emit(op->value);
  DType elem = op->buffer->elem;
  v = to_memory(elem, v);
  llvm::Align align(dtype_size(elem));
  int lanes = op->index.type().lanes;
  if (lanes == 1) {
    KILN_CHECK(op->value.type().lanes == 1) << "vector value stored at scalar index of " << op->buffer->name;
    b_.CreateAlignedStore(v, element_ptr(op->buffer, emit(op->index)), align);
    return;
  }
  KILN_CHECK(!op->index.as<kir::Broadcast>()) << "store of a vector to one location of " << op->buffer->name;
  auto* r = op->index.as<kir::Ramp>();
  if (r && kir::as_const_int(r->stride) && *kir::as_const_int(r->stride) == 1) {
    b_.CreateAlignedStore(v, element_ptr(op->buffer, emit(r->base)), align);
    return;
  }
  b_.CreateMaskedScatter(v, element_ptr(op->buffer, emit(op->index)), align);
}

void KernelEmitter::emit_counted_loop(llvm::Value* begin, llvm::Value* end, const std::string& name,
                                      const std::function<void(llvm::Value*)>& body) {
  llvm::BasicBlock* pre = b_.GetInsertBlock();
  auto* header = llvm::BasicBlock::Create(ctx_, name + ".header", function_);
  auto* loop = llvm::BasicBlock::Create(ctx_, name + ".body", function_);
  auto* exit = llvm::BasicBlock::Create(ctx_, name + ".exit", function_);
  b_.CreateBr(header);
  b_.SetInsertPoint(header);
  llvm::PHINode* i = b_.CreatePHI(begin->getType(), 2, name);
  i->addIncoming(begin, pre);
  b_.CreateCondBr(b_.CreateICmpSLT(i, end), loop, exit);
  b_.SetInsertPoint(loop);
  body(i);
  llvm::Value* next = b_.CreateAdd(i, llvm::ConstantInt::get(i->getType(), 1), name + ".next", false, true);
  i->addIncoming(next, b_.GetInsertBlock());
  b_.CreateBr(header);
  b_.SetInsertPoint(exit);
}

void KernelEmitter::emit_for(const kir::For* op) {
  const std::string& name = op->var.as<kir::Var>()->name;
  switch (op->for_kind) {
    case kir::ForKind::kVectorized:
      KILN_UNREACHABLE("vectorized loop ") << name << " reached codegen; run vectorize_loops first";
      return;
    case kir::ForKind::kParallel:
      // Only the outermost parallel loop forks; nested ones run serially inside it.
      if (!in_parallel_) return emit_parallel(op);
      break;
    case kir::ForKind::kUnrolled:
      if (const int64_t* n = kir::as_const_int(op->extent)) {
        llvm::Value* min = emit(op->min);
        for (int64_t k = 0; k < *n; ++k) {
          vars_[op->var.get()] = b_.CreateAdd(min, llvm::ConstantInt::get(min->getType(), k));
          emit(op->body);
        }
        vars_.erase(op->var.get());
        return;
      }
      break;
    case kir::ForKind::kSerial: break;
  }
  llvm::Value* min = emit(op->min);
  llvm::Value* end = b_.CreateAdd(min, emit(op->extent));
  emit_counted_loop(min, end, name, [&](llvm::Value* i) {
    vars_[op->var.get()] = i;
    emit(op->body);
  });
  vars_.erase(op->var.get());
}

void KernelEmitter::emit_if(const kir::IfThenElse* op) {
  KILN_CHECK(!op->cond.type().is_vector()) << "lane-varying if reached codegen; run vectorize_loops first";
  llvm::Value* c = emit(op->cond);
  auto* then_bb = llvm::BasicBlock::Create(ctx_, "then", function_);
  auto* else_bb = op->else_case ? llvm::BasicBlock::Create(ctx_, "else", function_) : nullptr;
  auto* merge = llvm::BasicBlock::Create(ctx_, "endif", function_);
  b_.CreateCondBr(c, then_bb, else_bb ? else_bb : merge);
  b_.SetInsertPoint(then_bb);
  emit(op->then_case);
  b_.CreateBr(merge);
  if (else_bb) {
    b_.SetInsertPoint(else_bb);
    emit(op->else_case);
    b_.CreateBr(merge);
  }
  b_.SetInsertPoint(merge);
}

void KernelEmitter::emit_allocate(const kir::Allocate* op) {
  llvm::Type* mt = memory_type(op->buffer->elem);
  int64_t elem_bytes = dtype_size(op->buffer->elem);
  const int64_t* n = kir::as_const_int(op->size);
  if (n && *n * elem_bytes <= kMaxStackBytes) {
    llvm::AllocaInst* a = entry_alloca(mt, b_.getInt64(std::max<int64_t>(*n, 1)), op->buffer->name);
    a->setAlignment(llvm::Align(64));
    buffers_[op->buffer.get()] = a;
    emit(op->body);
    buffers_.erase(op->buffer.get());
    return;
  }
  llvm::FunctionCallee malloc_fn = module_.getOrInsertFunction("malloc", b_.getPtrTy(), b_.getInt64Ty());
  llvm::FunctionCallee free_fn = module_.getOrInsertFunction("free", b_.getVoidTy(), b_.getPtrTy());
  llvm::Value* size = b_.CreateSExtOrTrunc(emit(op->size), b_.getInt64Ty());
  llvm::Value* p = b_.CreateCall(malloc_fn, {b_.CreateMul(size, b_.getInt64(elem_bytes))}, op->buffer->name);
  buffers_[op->buffer.get()] = p;
  emit(op->body);
  buffers_.erase(op->buffer.get());
  b_.CreateCall(free_fn, {p});
}

}  // namespace kiln::codegen
