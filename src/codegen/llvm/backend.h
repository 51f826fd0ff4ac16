// LLVM back end plumbing shared by the AOT path and the JIT: target
// initialization, TargetMachine creation, the O3 pipeline, object emission.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "targets/target.h"

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace kiln::codegen {

// Registers the X86, AArch64 and NVPTX back ends with LLVM (once per process).
void initialize_llvm_targets();

// A TargetMachine for target.triple / cpu / features (PIC, aggressive codegen).
Expected<std::unique_ptr<llvm::TargetMachine>> create_target_machine(const Target& target, int opt_level);

// Sets the module's triple and data layout from `tm` and runs the new pass
// manager's default pipeline at `opt_level` (0..3).
void optimize_module(llvm::Module& module, llvm::TargetMachine& tm, int opt_level);

// Relocatable object bytes for an optimized module.
Expected<std::string> emit_object_code(llvm::Module& module, llvm::TargetMachine& tm);

// Whether KILN_DUMP_IR asks for `what` ("kernel" or "llvm"; "all" means both).
bool dump_ir_requested(const char* what);

// Prints the module to stderr (KILN_DUMP_IR=llvm).
void dump_module(const llvm::Module& module);

}  // namespace kiln::codegen
