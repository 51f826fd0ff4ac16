// Constant folding through the JIT: lower a node, run it on constant inputs.
#include "passes/constant_fold.h"

#include "base/check.h"
#include "codegen/codegen.h"
#include "lower/kernel_builder.h"

namespace kiln::passes {

namespace {

// Integer Div and Mod trap on a zero divisor: report it instead of running it.
Status check_divisor(const ir::Node& n) {
  if (n.op != ir::OpKind::kDiv && n.op != ir::OpKind::kMod) return Status::ok();
  const ir::Tensor& d = *n.inputs[1]->constant;
  if (dtype_is_float(d.type().dtype)) return Status::ok();
  for (int64_t i = 0; i < d.type().num_elements(); ++i)
    if (d.get_i64(i) == 0) return Status::invalid(n.label() + ": integer division by zero (a constant divisor is 0)");
  return Status::ok();
}

}  // namespace

NodeEvaluator::NodeEvaluator() = default;
NodeEvaluator::~NodeEvaluator() = default;

Expected<ir::Tensor> NodeEvaluator::evaluate(const ir::Node& n) {
  KILN_CHECK(is_foldable_node(n)) << n.label() << " is not foldable";
  const ir::Value* out = n.outputs[0];
  if (n.op == ir::OpKind::kReshape || n.op == ir::OpKind::kIdentity) {
    const ir::Tensor& in = *n.inputs[0]->constant;
    return ir::Tensor(out->type, std::vector<uint8_t>(in.bytes(), in.bytes() + in.num_bytes()));
  }
  KILN_RETURN_IF_ERROR(check_divisor(n));
  if (!jit_) {
    KILN_ASSIGN_OR_RETURN(jit_, codegen::Jit::create());
  }
  lower::FusedGroup group{{const_cast<ir::Node*>(&n)}};
  ops::KernelOptions opts;
  opts.level = 1;
  KILN_ASSIGN_OR_RETURN(lower::Kernel k, lower::build_kernel(group, "kiln_fold_" + std::to_string(counter_++), opts));
  KILN_RETURN_IF_ERROR(jit_->add(k.func));
  ir::Tensor result(out->type);
  std::vector<void*> args;
  for (ir::Value* v : k.param_values) {
    if (v == out) {
      args.push_back(result.mutable_data<uint8_t>());
    } else {
      args.push_back(const_cast<uint8_t*>(v->constant->bytes()));
    }
  }
  KILN_RETURN_IF_ERROR(jit_->run(k.func.name, args).with_context("folding " + n.label()));
  return result;
}

bool is_foldable_node(const ir::Node& n) {
  if (n.inputs.empty() || n.outputs.size() != 1) return false;
  for (const ir::Value* v : n.inputs)
    if (!v->is_constant()) return false;
  return true;
}

Status fold_node(ir::Graph& g, ir::Node& n, NodeEvaluator& eval) {
  KILN_ASSIGN_OR_RETURN(ir::Tensor result, eval.evaluate(n));
  ir::Value* out = n.outputs[0];
  out->constant = std::move(result);
  out->producer = nullptr;
  g.remove_node(&n);
  return Status::ok();
}

Status fold_constants(ir::Graph& g) {
  NodeEvaluator eval;
  for (const auto& node : g.nodes()) {
    ir::Node& n = *node;
    if (!is_foldable_node(n) || n.outputs[0]->type.num_bytes() > kMaxFoldBytes) continue;
    KILN_RETURN_IF_ERROR(fold_node(g, n, eval));
  }
  g.compact();
  return Status::ok();
}

}  // namespace kiln::passes
