// Kernel scratch in the arena: a kernel's top-level local buffers that are
// too big for the stack (codegen would malloc and free them on every call,
// and glibc returns such blocks to the OS, so every call page-faults them
// in again) become trailing kernel parameters that the memory plan places in
// the arena, live for that kernel's call only (passes/plan_memory).
#pragma once

#include <cstdint>

#include "lower/kernel_builder.h"

namespace kiln::lower {

// Assumes: `k` comes from build_kernel and has no scratch yet.
// Leaves: every Allocate of constant size >= min_bytes in the chain of
// Allocates that encloses the whole body removed (smaller ones stay), its
// buffer appended to k->func.params and its size in bytes to
// k->scratch_bytes, outermost first.
void hoist_scratch(Kernel* k, int64_t min_bytes = 64 * 1024);

}  // namespace kiln::lower
