// Elementwise epilogue fusion (conv+bias+relu, add+relu, chains of unary ops),
// with dequantized side inputs (the residual of a quantized block).
#include "passes/fuse_elementwise.h"

#include <algorithm>
#include <map>
#include <set>

#include "ops/quant_types.h"

namespace kiln::passes {

namespace {

using Uses = std::map<const ir::Value*, std::vector<ir::Node*>>;

// The single user of `v`, if it has exactly one and `v` is not a graph output.
ir::Node* only_user(const ir::Graph& g, const Uses& uses, const ir::Value* v) {
  if (g.is_graph_output(v)) return nullptr;
  auto it = uses.find(v);
  return it == uses.end() || it->second.size() != 1 ? nullptr : it->second[0];
}

// A side input: a DequantizeLinear of uint8/int8 data whose only user is an
// elementwise node of the same shape. It joins the group of that user, loading
// its 1-byte input in the epilogue instead of a float tensor from memory.
bool is_side_dequantize(const ir::Graph& g, const Uses& uses, const ir::Node* n) {
  if (n->op != ir::OpKind::kDequantizeLinear || !ops::is_quantized_type(n->inputs[0]->type.dtype)) return false;
  const ir::Node* user = only_user(g, uses, n->outputs[0]);
  return user && ir::op_class(user->op) == ir::OpClass::kElementwise &&
         user->outputs[0]->type.shape == n->outputs[0]->type.shape;
}

// The ungrouped side dequantizes among `n`'s inputs that are not in `members`
// (each once).
std::vector<ir::Node*> sides_of(const ir::Graph& g, const Uses& uses, const std::set<const ir::Node*>& grouped,
                                const std::set<const ir::Node*>& members, const ir::Node* n) {
  std::vector<ir::Node*> sides;
  for (const ir::Value* in : n->inputs)
    if (in->producer && !grouped.count(in->producer) && !members.count(in->producer) &&
        is_side_dequantize(g, uses, in->producer) && std::find(sides.begin(), sides.end(), in->producer) == sides.end())
      sides.push_back(in->producer);
  return sides;
}

// Grows `group` (its anchor last, after its side dequantizes) with the
// elementwise nodes at the anchor's shape that read its values: each step takes
// the earliest (in graph order) outside user of a group value, with that user's
// side dequantizes. Growth stops when a group value is a graph output or has an
// outside user that cannot join; the group is then cut back to the longest
// prefix whose values other than the last node's are used only inside it (so
// that they need not be stored). Taking the earliest user first keeps the nodes
// in dependency order and means a joining node's outside inputs never depend on
// the group: a path from the group to them would leave it through an earlier
// user, which joins first or stops the growth. The last node is therefore the
// group's sink, and running the kernel at its position reads only values
// computed before.
void grow(const ir::Graph& g, const Uses& uses, const std::map<const ir::Node*, size_t>& position,
          const std::set<const ir::Node*>& grouped, lower::FusedGroup& group) {
  if (group.anchor()->outputs.size() != 1) return;  // multi-output anchors are not fused
  const ir::Shape& shape = group.nodes.back()->outputs[0]->type.shape;
  auto joinable = [&](const ir::Node* u) {
    return ir::op_class(u->op) == ir::OpClass::kElementwise && !grouped.count(u) && u->outputs.size() == 1 &&
           u->outputs[0]->type.shape == shape;
  };
  std::set<const ir::Node*> members(group.nodes.begin(), group.nodes.end());
  size_t valid = group.nodes.size();
  while (true) {
    ir::Node* next = nullptr;
    bool stuck = false, inner_escapes = false;
    for (const ir::Node* m : group.nodes) {
      const ir::Value* v = m->outputs[0];
      bool escapes = g.is_graph_output(v);
      stuck = stuck || escapes;
      auto it = uses.find(v);
      if (it != uses.end())
        for (ir::Node* u : it->second) {
          if (members.count(u)) continue;
          escapes = true;
          if (!joinable(u))
            stuck = true;
          else if (!next || position.at(u) < position.at(next))
            next = u;
        }
      inner_escapes = inner_escapes || (escapes && m != group.nodes.back());
    }
    if (!inner_escapes) valid = group.nodes.size();
    if (stuck || !next) break;
    for (ir::Node* side : sides_of(g, uses, grouped, members, next)) group.nodes.push_back(side);
    group.nodes.push_back(next);
    members.insert(group.nodes.begin(), group.nodes.end());
  }
  group.nodes.resize(valid);
}

}  // namespace

std::vector<lower::FusedGroup> fuse_elementwise(const ir::Graph& g) {
  Uses uses = g.use_map();
  std::map<const ir::Node*, size_t> position;
  for (size_t i = 0; i < g.nodes().size(); ++i) position[g.nodes()[i].get()] = i;

  std::set<const ir::Node*> grouped;
  std::vector<std::pair<size_t, lower::FusedGroup>> groups;
  for (const auto& node : g.nodes()) {
    ir::Node* n = node.get();
    if (n->op == ir::OpKind::kReshape || grouped.count(n)) continue;
    // A side dequantize waits for its user's group.
    if (is_side_dequantize(g, uses, n)) continue;
    // A group that starts here starts at its side dequantizes.
    lower::FusedGroup group{sides_of(g, uses, grouped, {}, n)};
    group.nodes.push_back(n);
    grow(g, uses, position, grouped, group);
    grouped.insert(group.nodes.begin(), group.nodes.end());
    groups.emplace_back(position[group.nodes.back()], std::move(group));
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<lower::FusedGroup> result;
  for (auto& [pos, grp] : groups) result.push_back(std::move(grp));
  return result;
}

}  // namespace kiln::passes
