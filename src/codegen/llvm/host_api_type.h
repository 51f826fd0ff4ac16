// The LLVM struct type that mirrors kiln_host_api (include/kiln/model_abi.h)
// field by field; kernels (parallel_for) and kiln_run (kernel_done) read it.
#pragma once

#include "llvm/IR/DerivedTypes.h"

namespace kiln::codegen {

// Field indices of kiln_host_api.
enum HostApiField : unsigned {
  kHostAbiVersion = 0,
  kHostNumThreads = 1,
  kHostPool = 2,
  kHostParallelFor = 3,
  kHostKernelDone = 4,
  kHostProfiler = 5,
};

// { u32 abi_version; u32 num_threads; void* pool; parallel_for; kernel_done; void* profiler }
inline llvm::StructType* host_api_type(llvm::LLVMContext& ctx) {
  auto* i32 = llvm::Type::getInt32Ty(ctx);
  auto* ptr = llvm::PointerType::get(ctx, 0);
  return llvm::StructType::get(ctx, {i32, i32, ptr, ptr, ptr, ptr});
}

}  // namespace kiln::codegen
