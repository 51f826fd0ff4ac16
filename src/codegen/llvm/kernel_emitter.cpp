// KernelEmitter setup: types, the kernel function signature, entry-block allocas.
#include "codegen/llvm/kernel_emitter.h"

#include "kernel/passes/vectorize.h"

namespace kiln::codegen {

KernelEmitter::KernelEmitter(llvm::Module& module) : ctx_(module.getContext()), module_(module), b_(ctx_) {
  // Let the back end fuse a*b + c into FMA where the target has it (clang's
  // -ffp-contract=fast): accumulations in generated kernels are this shape.
  llvm::FastMathFlags fmf;
  fmf.setAllowContract(true);
  b_.setFastMathFlags(fmf);
}

llvm::Type* KernelEmitter::memory_type(DType t) {
  switch (t) {
    case DType::kF32: return b_.getFloatTy();
    case DType::kF16: return b_.getHalfTy();
    case DType::kF64: return b_.getDoubleTy();
    case DType::kU8:
    case DType::kI8:
    case DType::kBool: return b_.getInt8Ty();
    case DType::kI32: return b_.getInt32Ty();
    case DType::kI64: return b_.getInt64Ty();
  }
  KILN_UNREACHABLE("bad dtype ") << static_cast<int>(t);
  return nullptr;
}

llvm::Type* KernelEmitter::value_type(kir::Type t) {
  llvm::Type* s = t.is_bool() ? b_.getInt1Ty() : memory_type(t.elem);
  return t.lanes == 1 ? s : llvm::FixedVectorType::get(s, t.lanes);
}

llvm::Function* KernelEmitter::emit_kernel(const kir::Func& func) {
  std::vector<llvm::Type*> params(1 + func.params.size(), b_.getPtrTy());
  auto* fty = llvm::FunctionType::get(b_.getVoidTy(), params, false);
  KILN_CHECK(!module_.getFunction(func.name)) << "two kernels named " << func.name;
  function_ = llvm::Function::Create(fty, llvm::Function::InternalLinkage, func.name, module_);
  function_->addFnAttr(llvm::Attribute::NoUnwind);
  host_ = function_->getArg(0);
  host_->setName("host");
  vars_.clear();
  buffers_.clear();
  for (size_t i = 0; i < func.params.size(); ++i) {
    llvm::Argument* arg = function_->getArg(static_cast<unsigned>(i + 1));
    arg->setName(func.params[i]->name);
    arg->addAttr(llvm::Attribute::NoAlias);
    arg->addAttr(llvm::Attribute::NoCapture);
    buffers_[func.params[i].get()] = arg;
  }
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", function_));
  emit(kir::vectorize_loops(func.body));
  b_.CreateRetVoid();
  return function_;
}

llvm::AllocaInst* KernelEmitter::entry_alloca(llvm::Type* t, llvm::Value* count, const std::string& name) {
  llvm::BasicBlock& entry = function_->getEntryBlock();
  llvm::IRBuilder<> eb(&entry, entry.begin());
  return eb.CreateAlloca(t, count, name);
}

}  // namespace kiln::codegen
