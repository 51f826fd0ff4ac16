// The compilation pipeline as code (STYLE.md habit 2): graph passes in order,
// then lowering every fused group to a kernel and planning memory.
#pragma once

#include <string>

#include "base/status.h"
#include "codegen/codegen.h"
#include "ir/graph.h"
#include "ops/op_info.h"

namespace kiln::driver {

// Runs the graph passes on `g` in their fixed order; `opts` (the kernel level
// and tile shape) decides which weights are pre-packed. KILN_DUMP_IR=all (or a
// pass name) prints the graph after passes to stderr.
Status run_graph_passes(ir::Graph& g, const ops::KernelOptions& opts);

// One kernel of the plan, for metadata: its name and the graph nodes it fuses.
struct KernelSummary {
  std::string name;
  std::vector<std::string> ops;
  std::vector<std::string> nodes;
  std::string layout;  // "NHWC" for a layout="NHWC" anchor (--layout NHWC), else empty
  std::string precision = "fp32";  // "int8", "fp32", ... (passes/lower_qdq.h layer_precision)
  std::string precision_reason;    // why the kernel runs in that precision
  std::string strategy;            // set where a layer's kernel differs from its level's default (Winograd, int8 tiles)
};

// Fuses, plans memory and lowers `g` (after run_graph_passes) into a plan
// whose metadata_json is left empty for the caller to fill.
Expected<codegen::ModelPlan> lower_graph(const ir::Graph& g, const ops::KernelOptions& opts,
                                         std::vector<KernelSummary>* kernels);

}  // namespace kiln::driver
