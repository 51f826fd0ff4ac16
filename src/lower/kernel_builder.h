// Lowers one fused group of graph nodes to one kernel (kir::Func): the anchor
// op's loop nest, with the elementwise epilogue chain applied in registers
// before the single store (DESIGN.md "fusion").
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"
#include "kernel/ir.h"
#include "ops/op_info.h"

namespace kiln::lower {

// nodes[0] is the anchor (any op but Reshape); each later node is elementwise
// at the anchor's output shape and reads external values or the outputs of
// earlier nodes of the group, each of which has all its users in the group
// (a chain, each node consuming the previous one's output, or a diamond such
// as GELU that reads a value twice; a dequantized side input joins before its
// user, passes/fuse_elementwise). The group's result is the last node's output.
struct FusedGroup {
  std::vector<ir::Node*> nodes;

  ir::Node* anchor() const { return nodes.front(); }
  ir::Value* result() const { return nodes.back()->outputs[0]; }
};

struct Kernel {
  kir::Func func;
  // The graph value bound to each parameter of func, in order (the group's
  // external inputs, then its result).
  std::vector<ir::Value*> param_values;
  // Sizes in bytes of the scratch buffers that follow those parameters
  // (lower/hoist_scratch; none unless it ran).
  std::vector<int64_t> scratch_bytes;
};

// Builds the kernel for `group`. Inputs are read from row-major buffers.
Expected<Kernel> build_kernel(const FusedGroup& group, const std::string& name, const ops::KernelOptions& opts);

// "conv1+relu" style summary of a group's ops for metadata and messages.
std::string describe_group(const FusedGroup& group);

}  // namespace kiln::lower
