// codegen::emit_object: every kernel + the entry and descriptor in one module,
// verified, optimized for the target and emitted as an object file.
#include <iostream>

#include "codegen/codegen.h"
#include "codegen/llvm/backend.h"
#include "codegen/llvm/entry_emitter.h"
#include "codegen/llvm/kernel_emitter.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

namespace kiln::codegen {

Expected<std::string> emit_object(const ModelPlan& plan, const Target& target, const CodegenOptions& options) {
  if (target.arch == Arch::kCuda) {
    return Status::invalid("emit_object: target '" + target.triple + "' is a CUDA target; the CPU code generator "
                           "handles x86_64 and aarch64 only");
  }
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<llvm::TargetMachine> tm, create_target_machine(target, options.opt_level));
  llvm::LLVMContext ctx;
  llvm::Module module("kiln_model", ctx);
  module.setTargetTriple(tm->getTargetTriple().str());
  module.setDataLayout(tm->createDataLayout());

  bool dump_kernel = dump_ir_requested("kernel");
  KernelEmitter emitter(module, *tm);
  for (const kir::Func& f : plan.funcs) {
    if (dump_kernel) std::cerr << kir::to_string(f);
    llvm::Function* fn = emitter.emit_kernel(f);
    // Kernels stay out of line: compile time stays linear and constant weights
    // are not folded into code.
    fn->addFnAttr(llvm::Attribute::NoInline);
  }
  KILN_RETURN_IF_ERROR(emit_entry(module, plan, target));

  std::string errors;
  llvm::raw_string_ostream es(errors);
  KILN_CHECK(!llvm::verifyModule(module, &es)) << "generated LLVM IR is invalid: " << errors;
  optimize_module(module, *tm, options.opt_level);
  if (dump_ir_requested("llvm")) dump_module(module);
  return emit_object_code(module, *tm);
}

}  // namespace kiln::codegen
