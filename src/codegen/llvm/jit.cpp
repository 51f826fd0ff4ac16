// codegen::Jit on ORC LLJIT: each add() compiles one kernel (O3, host CPU) plus
// a wrapper `void(const kiln_host_api*, void* const* args)`; run() calls it with a
// serial host API. The only TU that includes LLJIT.h.
#include <map>

#include "codegen/codegen.h"
#include "codegen/llvm/backend.h"
#include "codegen/llvm/kernel_emitter.h"
#include "kiln/model_abi.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/SubtargetFeature.h"

namespace kiln::codegen {
namespace {

using WrapperFn = void (*)(const kiln_host_api*, void* const*);

void serial_parallel_for(void*, kiln_task_fn fn, void* ctx, int64_t n) {
  if (n > 0) fn(ctx, 0, n);
}

const kiln_host_api kSerialHost = {KILN_MODEL_ABI_VERSION, 1, nullptr, serial_parallel_for, nullptr, nullptr};

Status from_llvm(llvm::Error err, const std::string& context) {
  return Status::internal(context + ": " + llvm::toString(std::move(err)));
}

class LlvmJit final : public Jit {
 public:
  LlvmJit(std::unique_ptr<llvm::orc::LLJIT> jit, std::unique_ptr<llvm::TargetMachine> tm)
      : jit_(std::move(jit)), tm_(std::move(tm)) {}

  Status add(const kir::Func& func) override {
    if (kernels_.count(func.name)) return Status::invalid("JIT: a kernel named '" + func.name + "' was already added");
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto module = std::make_unique<llvm::Module>("kiln_jit_" + func.name, *ctx);
    module->setTargetTriple(tm_->getTargetTriple().str());
    module->setDataLayout(jit_->getDataLayout());
    if (dump_ir_requested("kernel")) std::cerr << kir::to_string(func);
    KernelEmitter emitter(*module, *tm_);
    llvm::Function* kernel = emitter.emit_kernel(func);

    std::string wrapper_name = "kiln_jit_entry_" + std::to_string(counter_++);
    llvm::IRBuilder<> b(*ctx);
    auto* wrapper = llvm::Function::Create(
        llvm::FunctionType::get(b.getVoidTy(), {b.getPtrTy(), b.getPtrTy()}, false),
        llvm::Function::ExternalLinkage, wrapper_name, *module);
    b.SetInsertPoint(llvm::BasicBlock::Create(*ctx, "entry", wrapper));
    std::vector<llvm::Value*> args{wrapper->getArg(0)};
    for (size_t i = 0; i < func.params.size(); ++i) {
      args.push_back(b.CreateLoad(b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getPtrTy(), wrapper->getArg(1), i)));
    }
    b.CreateCall(kernel, args);
    b.CreateRetVoid();

    std::string errors;
    llvm::raw_string_ostream es(errors);
    KILN_CHECK(!llvm::verifyModule(*module, &es)) << "generated LLVM IR for " << func.name << " is invalid: " << errors;
    optimize_module(*module, *tm_, 3);
    if (dump_ir_requested("llvm")) dump_module(*module);
    if (auto err = jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(ctx)))) {
      return from_llvm(std::move(err), "JIT: adding kernel " + func.name);
    }
    auto sym = jit_->lookup(wrapper_name);
    if (!sym) return from_llvm(sym.takeError(), "JIT: compiling kernel " + func.name);
    kernels_[func.name] = {sym->toPtr<WrapperFn>(), func.params.size()};
    return Status::ok();
  }

  Status run(const std::string& name, const std::vector<void*>& args) override {
    auto it = kernels_.find(name);
    if (it == kernels_.end()) return Status::invalid("JIT: no kernel named '" + name + "'; add() it first");
    if (args.size() != it->second.num_params) {
      return Status::invalid("JIT: kernel '" + name + "' takes " + std::to_string(it->second.num_params) +
                             " buffers, got " + std::to_string(args.size()));
    }
    it->second.fn(&kSerialHost, args.data());
    return Status::ok();
  }

 private:
  struct Kernel {
    WrapperFn fn;
    size_t num_params;
  };
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::unique_ptr<llvm::TargetMachine> tm_;
  std::map<std::string, Kernel> kernels_;
  int counter_ = 0;
};

}  // namespace

namespace {

Expected<std::unique_ptr<Jit>> create_jit(const Target* target) {
  initialize_llvm_targets();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return from_llvm(jtmb.takeError(), "JIT: detecting the host");
  if (target) {
    jtmb->setCPU(target->cpu);
    jtmb->getFeatures() = llvm::SubtargetFeatures(target->features);
  }
  jtmb->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = jtmb->createTargetMachine();
  if (!tm) return from_llvm(tm.takeError(), "JIT: creating the host target machine");
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(*jtmb).create();
  if (!jit) return from_llvm(jit.takeError(), "JIT: creating LLJIT");
  // Generated code may call malloc/free/memcpy/memset from the process.
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess((*jit)->getDataLayout().getGlobalPrefix());
  if (!gen) return from_llvm(gen.takeError(), "JIT: process symbols");
  (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  return std::unique_ptr<Jit>(std::make_unique<LlvmJit>(std::move(*jit), std::move(*tm)));
}

}  // namespace

Expected<std::unique_ptr<Jit>> Jit::create() { return create_jit(nullptr); }

Expected<std::unique_ptr<Jit>> Jit::create(const Target& target) { return create_jit(&target); }

}  // namespace kiln::codegen
