// BatchNormalization folding: rewrite conv weights and bias at compile time.
#include "passes/fold_scale_into_conv.h"

#include <optional>

namespace kiln::passes {

namespace {

// The per-channel values of constant `c` broadcast against a conv output of
// shape `y` (N, C, H, W): c must be a scalar or vary only along axis 1.
std::optional<std::vector<float>> per_channel(const ir::Value* c, const ir::Shape& y) {
  if (!c->is_constant() || c->type.dtype != DType::kF32) return std::nullopt;
  const ir::Shape& s = c->type.shape;
  if (s.size() > y.size()) return std::nullopt;
  size_t off = y.size() - s.size();
  int64_t channels = y[1];
  bool varies = false;
  for (size_t i = 0; i < s.size(); ++i) {
    size_t axis = off + i;
    if (s[i] == 1) continue;
    if (axis != 1 || s[i] != channels) return std::nullopt;
    varies = true;
  }
  std::vector<float> v(static_cast<size_t>(channels));
  for (int64_t ch = 0; ch < channels; ++ch) v[ch] = c->constant->data<float>()[varies ? ch : 0];
  return v;
}

// Returns the Conv producing `v` if it has constant weights (and bias) and `v`
// has exactly one user.
ir::Node* foldable_conv(ir::Graph& g, const std::map<const ir::Value*, std::vector<ir::Node*>>& uses,
                        ir::Value* v) {
  ir::Node* conv = v->producer;
  if (!conv || conv->op != ir::OpKind::kConv || v->type.dtype != DType::kF32) return nullptr;
  if (g.is_graph_output(v)) return nullptr;
  auto it = uses.find(v);
  if (it == uses.end() || it->second.size() != 1) return nullptr;
  if (!conv->inputs[1]->is_constant()) return nullptr;
  if (conv->inputs.size() > 2 && !conv->inputs[2]->is_constant()) return nullptr;
  return conv;
}

// Current bias of `conv` (zeros when absent).
std::vector<float> conv_bias(const ir::Node* conv, int64_t oc) {
  std::vector<float> b(static_cast<size_t>(oc), 0.f);
  if (conv->inputs.size() > 2)
    for (int64_t i = 0; i < oc; ++i) b[i] = conv->inputs[2]->constant->data<float>()[i];
  return b;
}

bool fold_one(ir::Graph& g) {
  auto uses = g.use_map();
  for (const auto& node : g.nodes()) {
    ir::Node* n = node.get();
    if (n->op != ir::OpKind::kMul && n->op != ir::OpKind::kAdd) continue;
    for (int side = 0; side < 2; ++side) {
      ir::Value* y = n->inputs[side];
      ir::Value* c = n->inputs[1 - side];
      ir::Node* conv = foldable_conv(g, uses, y);
      if (!conv || n->outputs[0]->type.shape != y->type.shape) continue;
      auto vals = per_channel(c, y->type.shape);
      if (!vals) continue;
      const ir::Tensor& w = *conv->inputs[1]->constant;
      int64_t oc = w.type().shape[0];
      std::vector<float> bias = conv_bias(conv, oc);
      if (n->op == ir::OpKind::kMul) {
        ir::Tensor nw(w.type());
        int64_t per = w.type().num_elements() / oc;
        for (int64_t o = 0; o < oc; ++o)
          for (int64_t i = 0; i < per; ++i)
            nw.mutable_data<float>()[o * per + i] = w.data<float>()[o * per + i] * (*vals)[o];
        conv->inputs[1] = g.add_constant(conv->inputs[1]->name + "_scaled", nw);
        for (int64_t o = 0; o < oc; ++o) bias[o] *= (*vals)[o];
      } else {
        for (int64_t o = 0; o < oc; ++o) bias[o] += (*vals)[o];
      }
      ir::Value* b = g.add_constant(conv->name + "_bias", ir::Tensor::from_f32({oc}, bias));
      if (conv->inputs.size() > 2) {
        conv->inputs[2] = b;
      } else {
        conv->inputs.push_back(b);
      }
      g.replace_all_uses(n->outputs[0], y);
      g.remove_node(n);
      g.compact();
      return true;
    }
  }
  return false;
}

}  // namespace

void fold_scale_into_conv(ir::Graph& g) {
  while (fold_one(g)) {
  }
}

}  // namespace kiln::passes
