// KernelEmitter setup: types, the kernel function signature, entry-block allocas.
#include "codegen/llvm/kernel_emitter.h"

#include "kernel/passes/vectorize.h"

namespace kiln::codegen {

KernelEmitter::KernelEmitter(llvm::Module& module, const llvm::TargetMachine& tm)
    : ctx_(module.getContext()), module_(module), isa_(DotIsa::of(tm)), b_(ctx_) {
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
    case DType::kU16:
    case DType::kI16:
    case DType::kBF16: return b_.getInt16Ty();
    case DType::kI32:
    case DType::kU32: return b_.getInt32Ty();
    case DType::kI64:
    case DType::kU64: return b_.getInt64Ty();
    case DType::kU8:
    case DType::kI8:
    case DType::kBool:
    case DType::kF8E4M3FN:
    case DType::kF8E4M3FNUZ:
    case DType::kF8E5M2:
    case DType::kF8E5M2FNUZ:
    case DType::kF8E8M0:
    case DType::kF4E2M1:
    case DType::kU4:
    case DType::kI4:
    case DType::kU2:
    case DType::kI2: return b_.getInt8Ty();
  }
  KILN_UNREACHABLE("bad dtype ") << static_cast<int>(t);
  return nullptr;
}

llvm::Type* KernelEmitter::value_type(kir::Type t) {
  // bool: i1; narrow floats: float32 (see emit_narrow.cpp); others as in memory.
  llvm::Type* s = t.is_bool()                        ? b_.getInt1Ty()
                  : dtype_is_narrow_float(t.elem) ? b_.getFloatTy()
                                                     : memory_type(t.elem);
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
