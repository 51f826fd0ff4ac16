// Elementwise epilogue fusion (conv+bias+relu, add+relu, chains of unary ops),
// with dequantized side inputs (the residual of a quantized block).
#include "passes/fuse_elementwise.h"

#include <algorithm>
#include <map>
#include <set>

#include "ops/quant_types.h"

namespace kiln::passes {

namespace {

// The single user of `v`, if it has exactly one and `v` is not a graph output.
ir::Node* only_user(const ir::Graph& g, const std::map<const ir::Value*, std::vector<ir::Node*>>& uses,
                    const ir::Value* v) {
  if (g.is_graph_output(v)) return nullptr;
  auto it = uses.find(v);
  return it == uses.end() || it->second.size() != 1 ? nullptr : it->second[0];
}

// A side input: a DequantizeLinear of uint8/int8 data whose only user is an
// elementwise node of the same shape. It joins the group of that user, loading
// its 1-byte input in the epilogue instead of a float tensor from memory.
bool is_side_dequantize(const ir::Graph& g, const std::map<const ir::Value*, std::vector<ir::Node*>>& uses,
                        const ir::Node* n) {
  if (n->op != ir::OpKind::kDequantizeLinear || !ops::is_quantized_type(n->inputs[0]->type.dtype)) return false;
  const ir::Node* user = only_user(g, uses, n->outputs[0]);
  return user && ir::op_class(user->op) == ir::OpClass::kElementwise &&
         user->outputs[0]->type.shape == n->outputs[0]->type.shape;
}

}  // namespace

std::vector<lower::FusedGroup> fuse_elementwise(const ir::Graph& g) {
  auto uses = g.use_map();
  std::map<const ir::Node*, size_t> position;
  for (size_t i = 0; i < g.nodes().size(); ++i) position[g.nodes()[i].get()] = i;

  std::set<const ir::Node*> grouped;
  // The ungrouped side dequantizes among `n`'s inputs, other than `chain` (each once).
  auto sides_of = [&](const ir::Node* n, const ir::Value* chain) {
    std::vector<ir::Node*> sides;
    for (const ir::Value* in : n->inputs)
      if (in != chain && in->producer && !grouped.count(in->producer) && is_side_dequantize(g, uses, in->producer) &&
          std::find(sides.begin(), sides.end(), in->producer) == sides.end())
        sides.push_back(in->producer);
    return sides;
  };
  std::vector<std::pair<size_t, lower::FusedGroup>> groups;
  for (const auto& node : g.nodes()) {
    ir::Node* n = node.get();
    if (n->op == ir::OpKind::kReshape || grouped.count(n)) continue;
    // A side dequantize waits for its user's group.
    if (is_side_dequantize(g, uses, n)) continue;
    // A group that starts here starts at its side dequantizes.
    lower::FusedGroup group;
    for (ir::Node* side : sides_of(n, nullptr)) group.nodes.push_back(side);
    group.nodes.push_back(n);
    grouped.insert(group.nodes.begin(), group.nodes.end());
    while (true) {
      ir::Node* last = group.nodes.back();
      if (last->outputs.size() != 1) break;
      ir::Value* out = last->outputs[0];
      ir::Node* user = only_user(g, uses, out);
      if (!user || ir::op_class(user->op) != ir::OpClass::kElementwise || grouped.count(user)) break;
      if (user->outputs[0]->type.shape != out->type.shape) break;
      for (ir::Node* side : sides_of(user, out)) group.nodes.push_back(side);
      group.nodes.push_back(user);
      grouped.insert(group.nodes.begin(), group.nodes.end());
    }
    groups.emplace_back(position[group.nodes.back()], std::move(group));
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<lower::FusedGroup> result;
  for (auto& [pos, grp] : groups) result.push_back(std::move(grp));
  return result;
}

}  // namespace kiln::passes
