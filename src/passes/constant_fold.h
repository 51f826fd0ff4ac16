// Constant folding: evaluates nodes whose inputs are all constants.
#pragma once

#include <memory>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::codegen {
class Jit;
}

namespace kiln::passes {

// Evaluates single nodes on constant inputs by compiling the node's own kernel
// with the host JIT (so folding uses exactly the semantics of compiled code).
// The JIT is created on first use. Used by fold_constants and by the ONNX
// frontend, which folds shape arithmetic while it maps nodes.
class NodeEvaluator {
 public:
  NodeEvaluator();
  ~NodeEvaluator();
  NodeEvaluator(const NodeEvaluator&) = delete;
  NodeEvaluator& operator=(const NodeEvaluator&) = delete;

  // The value of the single output of `n`, whose inputs must all be constants.
  // An integer division by a zero constant is an error naming the node.
  Expected<ir::Tensor> evaluate(const ir::Node& n);

 private:
  std::unique_ptr<codegen::Jit> jit_;
  int counter_ = 0;
};

// True when `n` has inputs, all of them constants, and one output.
bool is_foldable_node(const ir::Node& n);

// Evaluates `n` (is_foldable_node) and turns its output into a constant; the
// node is marked removed (the caller compacts the graph).
Status fold_node(ir::Graph& g, ir::Node& n, NodeEvaluator& eval);

// Replaces every node whose inputs are all constants by constant values
// (NodeEvaluator). Runs to a fixpoint in one sweep, since nodes are visited in
// topological order.
// Leaves: no node with only constant inputs, unless its output would exceed
// kMaxFoldBytes (such nodes stay and run at inference time).
Status fold_constants(ir::Graph& g);

constexpr int64_t kMaxFoldBytes = int64_t{256} << 20;

}  // namespace kiln::passes
