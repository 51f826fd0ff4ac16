// Dead-code elimination: a reverse sweep from the graph outputs.
#include "passes/dead_code.h"

#include <set>

namespace kiln::passes {

void eliminate_dead_code(ir::Graph& g) {
  std::set<const ir::Value*> live;
  for (const ir::GraphOutput& o : g.outputs()) live.insert(o.value);
  const auto& nodes = g.nodes();
  std::vector<ir::Node*> dead;
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    ir::Node* n = it->get();
    bool used = false;
    for (ir::Value* o : n->outputs) used = used || live.count(o);
    if (!used) {
      dead.push_back(n);
      continue;
    }
    for (ir::Value* in : n->inputs) live.insert(in);
  }
  for (ir::Node* n : dead) g.remove_node(n);
  g.compact();
}

}  // namespace kiln::passes
