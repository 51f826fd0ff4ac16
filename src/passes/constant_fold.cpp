// Constant folding through the JIT: lower a node, run it on constant inputs.
#include "passes/constant_fold.h"

#include <memory>

#include "codegen/codegen.h"
#include "lower/kernel_builder.h"

namespace kiln::passes {

namespace {

bool all_inputs_constant(const ir::Node& n) {
  if (n.inputs.empty()) return false;
  for (const ir::Value* v : n.inputs)
    if (!v->is_constant()) return false;
  return true;
}

}  // namespace

Status fold_constants(ir::Graph& g) {
  std::unique_ptr<codegen::Jit> jit;
  int counter = 0;
  std::vector<ir::Node*> folded;
  for (const auto& node : g.nodes()) {
    ir::Node& n = *node;
    if (!all_inputs_constant(n) || n.outputs.size() != 1) continue;
    ir::Value* out = n.outputs[0];
    if (out->type.num_bytes() > kMaxFoldBytes) continue;

    ir::Tensor result;
    if (n.op == ir::OpKind::kReshape || n.op == ir::OpKind::kIdentity) {
      const ir::Tensor& in = *n.inputs[0]->constant;
      result = ir::Tensor(out->type, std::vector<uint8_t>(in.bytes(), in.bytes() + in.num_bytes()));
    } else {
      if (!jit) {
        KILN_ASSIGN_OR_RETURN(jit, codegen::Jit::create());
      }
      lower::FusedGroup group{{&n}};
      ops::KernelOptions opts;
      opts.level = 1;
      KILN_ASSIGN_OR_RETURN(lower::Kernel k,
                            lower::build_kernel(group, "kiln_fold_" + std::to_string(counter++), opts));
      KILN_RETURN_IF_ERROR(jit->add(k.func));
      result = ir::Tensor(out->type);
      std::vector<void*> args;
      for (ir::Value* v : k.param_values) {
        if (v == out) {
          args.push_back(result.mutable_data<uint8_t>());
        } else {
          args.push_back(const_cast<uint8_t*>(v->constant->bytes()));
        }
      }
      KILN_RETURN_IF_ERROR(jit->run(k.func.name, args).with_context("folding " + n.label()));
    }
    out->constant = std::move(result);
    out->producer = nullptr;
    folded.push_back(&n);
  }
  for (ir::Node* n : folded) g.remove_node(n);
  g.compact();
  return Status::ok();
}

}  // namespace kiln::passes
