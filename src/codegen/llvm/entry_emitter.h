// The AOT entry function `kiln_run`, the weights blob and the exported
// `kiln_model_v1` descriptor (include/kiln/model_abi.h).
#pragma once

#include "codegen/codegen.h"

namespace llvm {
class Module;
}  // namespace llvm

namespace kiln::codegen {

// Adds to `module` (which already holds every kernel of plan.funcs): a 64-aligned
// constant holding plan.weights, `int32 kiln_run(host, inputs, outputs, arena)`
// calling the kernels in plan.calls order, and the exported descriptor. A plan
// that names a missing kernel or passes the wrong arguments is an internal error.
Status emit_entry(llvm::Module& module, const ModelPlan& plan, const Target& target);

}  // namespace kiln::codegen
