// Output materialization: copies where an output would otherwise alias.
#include "passes/materialize_outputs.h"

#include <set>

namespace kiln::passes {

Status materialize_outputs(ir::Graph& g) {
  std::set<const ir::Value*> seen;
  for (ir::GraphOutput& o : g.outputs()) {
    ir::Value* v = o.value;
    bool needs_copy = v->producer == nullptr || v->producer->op == ir::OpKind::kReshape || seen.count(v);
    if (needs_copy) {
      KILN_ASSIGN_OR_RETURN(ir::Value * copy, g.add(ir::OpKind::kIdentity, o.name + "_copy", {v}));
      o.value = copy;
      v = copy;
    }
    seen.insert(v);
  }
  return Status::ok();
}

}  // namespace kiln::passes
