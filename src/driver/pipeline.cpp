// The ordered list of passes, and lowering of the optimized graph to a plan.
#include "driver/pipeline.h"

#include <cctype>
#include <cstdlib>
#include <iostream>

#include "lower/hoist_scratch.h"
#include "lower/kernel_builder.h"
#include "ops/int8_conv.h"
#include "ops/layout.h"
#include "ops/winograd.h"
#include "passes/constant_fold.h"
#include "passes/convert_layout.h"
#include "passes/dead_code.h"
#include "passes/fold_scale_into_conv.h"
#include "passes/fuse_elementwise.h"
#include "passes/lower_qdq.h"
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
  passes::lower_qdq(g, opts);  // first: constant folding would dequantize the int8 weights
  passes::eliminate_dead_code(g);
  KILN_RETURN_IF_ERROR(check(g, "lower_qdq"));
  KILN_RETURN_IF_ERROR(passes::fold_constants(g));
  KILN_RETURN_IF_ERROR(check(g, "fold_constants"));
  passes::eliminate_dead_code(g);
  KILN_RETURN_IF_ERROR(check(g, "eliminate_dead_code"));
  passes::fold_scale_into_conv(g);
  KILN_RETURN_IF_ERROR(check(g, "fold_scale_into_conv"));
  passes::eliminate_dead_code(g);
  if (opts.channels_last) {
    passes::convert_layout(g, opts);
    passes::eliminate_dead_code(g);
    KILN_RETURN_IF_ERROR(check(g, "convert_layout"));
  }
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
  // Kernels first: the memory plan places their scratch buffers (lower/hoist_scratch).
  std::vector<lower::Kernel> built;
  std::vector<std::vector<int64_t>> scratch;
  for (size_t i = 0; i < groups.size(); ++i) {
    KILN_ASSIGN_OR_RETURN(lower::Kernel k, lower::build_kernel(groups[i], kernel_name(i, groups[i]), opts));
    lower::hoist_scratch(&k);
    scratch.push_back(k.scratch_bytes);
    built.push_back(std::move(k));
  }
  passes::MemoryPlan memory = passes::plan_memory(g, groups, scratch);

  codegen::ModelPlan plan;
  bool quantized = passes::has_quantization(g);
  for (size_t i = 0; i < groups.size(); ++i) {
    std::string name = kernel_name(i, groups[i]);
    lower::Kernel& k = built[i];
    codegen::KernelCall call{name, {}};
    for (const ir::Value* v : k.param_values) call.args.push_back(memory.location.at(v));
    for (const codegen::KernelArg& a : memory.scratch[i]) call.args.push_back(a);
    plan.funcs.push_back(std::move(k.func));
    plan.calls.push_back(std::move(call));
    passes::LayerPrecision precision = passes::layer_precision(groups[i], quantized);
    KernelSummary summary{name, {}, {}, ops::is_channels_last(*groups[i].anchor()) ? "NHWC" : "",
                          precision.precision, precision.reason, {}};
    std::optional<ops::PackedWeight> packed = ops::packed_weight(*groups[i].anchor());
    if (packed && (groups[i].anchor()->op == ir::OpKind::kConvInteger ||
                   groups[i].anchor()->op == ir::OpKind::kMatMulInteger))
      summary.strategy = ops::conv_integer_strategy(*packed);
    if (packed && ops::winograd_tile(*packed) > 0)
      summary.strategy = "Winograd F(" + std::to_string(ops::winograd_tile(*packed)) + "x" +
                         std::to_string(ops::winograd_tile(*packed)) + ", 3x3), weights transformed at compile time";
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
