// The ordered list of passes, and lowering of the optimized graph to a plan.
#include "driver/pipeline.h"

#include <cctype>
#include <cstdlib>
#include <iostream>

#include "lower/kernel_builder.h"
#include "passes/constant_fold.h"
#include "passes/dead_code.h"
#include "passes/fold_scale_into_conv.h"
#include "passes/fuse_elementwise.h"
#include "passes/materialize_outputs.h"
#include "passes/pack_weights.h"
#include "passes/plan_memory.h"

namespace kiln::driver {

namespace {

void maybe_dump(const ir::Graph& g, const char* pass) {
  const char* env = std::getenv("KILN_DUMP_IR");
  if (!env) return;
  std::string want = env;
  if (want == "all" || want == "graph" || want == pass) std::cerr << "// after " << pass << "\n" << g.str();
}

Status check(const ir::Graph& g, const char* pass) {
  maybe_dump(g, pass);
#ifndef NDEBUG
  Status st = g.verify();
  if (!st.is_ok()) return Status::internal("graph invalid after " + std::string(pass) + ": " + st.message());
#endif
  return Status::ok();
}

std::string kernel_name(size_t index, const lower::FusedGroup& group) {
  std::string s = "k" + std::to_string(index);
  for (const ir::Node* n : group.nodes) {
    s += "_";
    for (const char* c = ir::op_name(n->op); *c; ++c) s += static_cast<char>(std::tolower(*c));
  }
  return s;
}

}  // namespace

Status run_graph_passes(ir::Graph& g, const ops::KernelOptions& opts) {
  maybe_dump(g, "import");
  KILN_RETURN_IF_ERROR(passes::fold_constants(g));
  KILN_RETURN_IF_ERROR(check(g, "fold_constants"));
  passes::eliminate_dead_code(g);
  KILN_RETURN_IF_ERROR(check(g, "eliminate_dead_code"));
  passes::fold_scale_into_conv(g);
  KILN_RETURN_IF_ERROR(check(g, "fold_scale_into_conv"));
  passes::eliminate_dead_code(g);
  KILN_RETURN_IF_ERROR(passes::materialize_outputs(g));
  KILN_RETURN_IF_ERROR(check(g, "materialize_outputs"));
  passes::pack_weights(g, opts);
  passes::eliminate_dead_code(g);
  KILN_RETURN_IF_ERROR(check(g, "pack_weights"));
  return Status::ok();
}

Expected<codegen::ModelPlan> lower_graph(const ir::Graph& g, const ops::KernelOptions& opts,
                                         std::vector<KernelSummary>* kernels) {
  std::vector<lower::FusedGroup> groups = passes::fuse_elementwise(g);
  passes::MemoryPlan memory = passes::plan_memory(g, groups);

  codegen::ModelPlan plan;
  for (size_t i = 0; i < groups.size(); ++i) {
    std::string name = kernel_name(i, groups[i]);
    KILN_ASSIGN_OR_RETURN(lower::Kernel k, lower::build_kernel(groups[i], name, opts));
    codegen::KernelCall call{name, {}};
    for (const ir::Value* v : k.param_values) call.args.push_back(memory.location.at(v));
    plan.funcs.push_back(std::move(k.func));
    plan.calls.push_back(std::move(call));
    KernelSummary summary{name, {}, {}};
    for (const ir::Node* n : groups[i].nodes) {
      summary.ops.push_back(ir::op_name(n->op));
      summary.nodes.push_back(n->name.empty() ? n->outputs[0]->name : n->name);
    }
    kernels->push_back(std::move(summary));
  }
  plan.weights = std::move(memory.weights);
  plan.arena_bytes = memory.arena_bytes;
  for (const ir::Value* v : g.inputs()) plan.inputs.push_back({v->name, v->type.dtype, v->type.shape});
  for (const ir::GraphOutput& o : g.outputs())
    plan.outputs.push_back({o.name, o.value->type.dtype, o.value->type.shape});
  return plan;
}

}  // namespace kiln::driver
