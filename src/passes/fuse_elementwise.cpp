// Elementwise epilogue fusion (conv+bias+relu, add+relu, chains of unary ops).
#include "passes/fuse_elementwise.h"

#include <algorithm>
#include <map>
#include <set>

namespace kiln::passes {

std::vector<lower::FusedGroup> fuse_elementwise(const ir::Graph& g) {
  auto uses = g.use_map();
  std::map<const ir::Node*, size_t> position;
  for (size_t i = 0; i < g.nodes().size(); ++i) position[g.nodes()[i].get()] = i;

  std::set<const ir::Node*> grouped;
  std::vector<std::pair<size_t, lower::FusedGroup>> groups;
  for (const auto& node : g.nodes()) {
    ir::Node* n = node.get();
    if (n->op == ir::OpKind::kReshape || grouped.count(n)) continue;
    lower::FusedGroup group{{n}};
    grouped.insert(n);
    while (true) {
      ir::Node* last = group.nodes.back();
      if (last->outputs.size() != 1) break;
      ir::Value* out = last->outputs[0];
      if (g.is_graph_output(out)) break;
      auto it = uses.find(out);
      if (it == uses.end() || it->second.size() != 1) break;
      ir::Node* user = it->second[0];
      if (ir::op_class(user->op) != ir::OpClass::kElementwise || grouped.count(user)) break;
      if (user->outputs[0]->type.shape != out->type.shape) break;
      group.nodes.push_back(user);
      grouped.insert(user);
    }
    groups.emplace_back(position[group.nodes.back()], std::move(group));
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<lower::FusedGroup> result;
  for (auto& [pos, grp] : groups) result.push_back(std::move(grp));
  return result;
}

}  // namespace kiln::passes
