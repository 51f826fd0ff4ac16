// Memory planning: where every buffer a kernel touches lives at run time.
#pragma once

#include <map>
#include <vector>

#include "codegen/codegen.h"
#include "ir/graph.h"
#include "lower/kernel_builder.h"

namespace kiln::passes {

struct MemoryPlan {
  // Location of each value that some kernel reads or writes.
  std::map<const ir::Value*, codegen::KernelArg> location;
  int64_t arena_bytes = 0;
  std::vector<uint8_t> weights;  // every constant a kernel reads, 64-aligned
  // Per group: the arena locations of its kernel's scratch buffers (lower/hoist_scratch).
  std::vector<std::vector<codegen::KernelArg>> scratch;
};

// Assigns graph inputs/outputs to the caller's buffers, constants to the
// weights blob, Reshape results to their source's storage (aliases), and
// every other group result to one arena with static offsets, reusing space
// once a value's last reader has run (liveness over `groups` in order).
// Requires materialize_outputs() to have run. Leaves: no two values that
// are live at the same time overlap; a kernel's output never overlaps its inputs.
// scratch_bytes[i] (optional) lists group i's scratch buffers: each gets arena
// space live only while that group's kernel runs (overlapping neither its
// inputs nor its result).
MemoryPlan plan_memory(const ir::Graph& g, const std::vector<lower::FusedGroup>& groups,
                       const std::vector<std::vector<int64_t>>& scratch_bytes = {});

constexpr int64_t kBufferAlignment = 64;

}  // namespace kiln::passes
