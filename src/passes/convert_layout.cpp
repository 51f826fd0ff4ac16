// --layout NHWC (see convert_layout.h). One forward sweep in execution order:
// a convolution-type op gets layout="NHWC", a Transpose to NHWC on its input
// (or the NHWC value that input was a view of) and a Transpose back to NCHW
// (a "view") on its output for its consumers; a layout-agnostic op whose
// inputs are all such views (or constants) runs on the viewed values instead
// and exposes a view of its own result (pushing Transposes down, through
// Reshapes too). Then Transposes to NHWC move up through NCHW stretches when
// that costs nothing (hoist_transposes), views nobody reads die, and
// Transpose pairs compose (cancelling when inverse), as in ONNX Runtime's
// transpose optimizer.
#include "passes/convert_layout.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "ops/conv_params.h"
#include "ops/conv_transpose_params.h"
#include "ops/layout.h"
#include "ops/pool_params.h"
#include "ops/weight_layout.h"

namespace kiln::passes {

namespace {

using ir::Node;
using ir::OpKind;
using ir::Value;
using Perm = std::vector<int64_t>;

const Perm kToNhwc = {0, 2, 3, 1};
const Perm kToNchw = {0, 3, 1, 2};

// Transposing by p and then by q is transposing by compose(p, q).
Perm compose(const Perm& p, const Perm& q) {
  Perm r(q.size());
  for (size_t i = 0; i < q.size(); ++i) r[i] = p[q[i]];
  return r;
}

bool is_identity(const Perm& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// The shape of a tensor of shape s transposed by p.
ir::Shape permuted(const ir::Shape& s, const Perm& p) {
  ir::Shape r(p.size());
  for (size_t i = 0; i < p.size(); ++i) r[i] = s[p[i]];
  return r;
}

Perm perm_of(const Node& n) {
  Perm dflt(n.inputs[0]->type.rank());
  std::iota(dflt.rbegin(), dflt.rend(), 0);
  return n.attrs.get_ints("perm", dflt);
}

// True when transposing shape s by p keeps its non-unit dimensions in order
// (the bytes do not move: a Reshape).
bool moves_only_unit_dims(const ir::Shape& s, const Perm& p) {
  int64_t last = -1;
  for (int64_t d : p) {
    if (s[d] == 1) continue;
    if (d < last) return false;
    last = d;
  }
  return true;
}

ir::Tensor transpose_tensor(const ir::Tensor& t, const Perm& p) {
  const ir::Shape& s = t.type().shape;
  ir::Shape out = permuted(s, p);
  size_t elem = static_cast<size_t>(dtype_size(t.type().dtype));
  std::vector<int64_t> in_strides(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) in_strides[d - 1] = in_strides[d] * s[d];
  std::vector<uint8_t> bytes(static_cast<size_t>(t.num_bytes()));
  std::vector<int64_t> idx(out.size(), 0);
  int64_t count = t.type().num_elements();
  for (int64_t o = 0; o < count; ++o) {
    int64_t src = 0;
    for (size_t i = 0; i < out.size(); ++i) src += idx[i] * in_strides[p[i]];
    std::memcpy(bytes.data() + o * elem, t.bytes() + src * elem, elem);
    for (size_t i = out.size(); i-- > 0;) {
      if (++idx[i] < out[i]) break;
      idx[i] = 0;
    }
  }
  return ir::Tensor(ir::TensorType{t.type().dtype, out}, std::move(bytes));
}

bool is_reduction(OpKind op) {
  return op == OpKind::kReduceMean || op == OpKind::kReduceSum || op == OpKind::kReduceMax ||
         op == OpKind::kReduceMin || op == OpKind::kReduceProd;
}

// Convolution-type ops with an NHWC kernel: f32, 2-D, valid.
bool has_nhwc_kernel(const Node& n) {
  if (ops::is_channels_last(n) || n.outputs.size() != 1 || n.inputs.empty() || n.attrs.has("packed")) return false;
  const ir::TensorType& x = n.inputs[0]->type;
  if (x.dtype != DType::kF32 || x.rank() != 4) return false;
  switch (n.op) {
    case OpKind::kConv: return ops::conv_params(n).has_value();
    case OpKind::kConvTranspose: return ops::conv_transpose_params(n).has_value();
    case OpKind::kMaxPool:
    case OpKind::kAveragePool: return ops::pool_params(n).has_value();
    default: return false;
  }
}

bool is_conv_type(OpKind op) {
  return op == OpKind::kConv || op == OpKind::kConvInteger || op == OpKind::kConvTranspose || op == OpKind::kMaxPool ||
         op == OpKind::kAveragePool;
}

// Perm p inverted: transposing by p and then by inverse(p) is the identity.
Perm inverse(const Perm& p) {
  Perm r(p.size());
  for (size_t i = 0; i < p.size(); ++i) r[p[i]] = static_cast<int64_t>(i);
  return r;
}

// Reshape(Transpose(a, p), out) as Transpose(Reshape(a, *a_shape), *q), when
// the reshape only merges or splits dimensions that lie next to each other,
// in order, in `a` as well. False otherwise.
bool reshape_through(const ir::Shape& a, const Perm& p, const ir::Shape& out, ir::Shape* a_shape, Perm* q) {
  ir::Shape v = permuted(a, p);
  // Groups of consecutive dims of v and out with equal products.
  struct Group {
    std::vector<size_t> vd, od;
  };
  std::vector<Group> groups;
  size_t i = 0, j = 0;
  while (i < v.size() && j < out.size()) {
    Group g{{i}, {j}};
    int64_t pv = v[i++], po = out[j++];
    while (pv != po) {
      if (pv < po && i < v.size()) {
        g.vd.push_back(i), pv *= v[i++];
      } else if (po < pv && j < out.size()) {
        g.od.push_back(j), po *= out[j++];
      } else {
        return false;
      }
    }
    groups.push_back(std::move(g));
  }
  if (groups.empty()) return false;
  // Trailing unit dims join the last group.
  for (; i < v.size(); ++i) groups.back().vd.push_back(i);
  for (; j < out.size(); ++j) groups.back().od.push_back(j);
  // Each group is a pure merge or split whose dims are consecutive and in order in `a`.
  std::vector<std::pair<int64_t, size_t>> order;  // (first dim in a, group)
  for (size_t k = 0; k < groups.size(); ++k) {
    const Group& g = groups[k];
    if (g.vd.size() > 1 && g.od.size() > 1) return false;
    for (size_t t = 1; t < g.vd.size(); ++t)
      if (p[g.vd[t]] != p[g.vd[t - 1]] + 1) return false;
    order.push_back({p[g.vd[0]], k});
  }
  std::sort(order.begin(), order.end());
  // a reshaped: the groups in a's order, each as its output dims.
  a_shape->clear();
  std::vector<int64_t> first(groups.size());
  for (auto [pos, k] : order) {
    first[k] = static_cast<int64_t>(a_shape->size());
    for (size_t d : groups[k].od) a_shape->push_back(out[d]);
  }
  q->assign(out.size(), 0);
  for (size_t k = 0; k < groups.size(); ++k)
    for (size_t t = 0; t < groups[k].od.size(); ++t) (*q)[groups[k].od[t]] = first[k] + static_cast<int64_t>(t);
  return true;
}

class LayoutConverter {
 public:
  explicit LayoutConverter(ir::Graph& g) : g_(g) {}

  void run() {
    std::vector<Node*> order;
    for (const auto& n : g_.nodes()) order.push_back(n.get());
    for (Node* n : order) {
      if (has_nhwc_kernel(*n) && !from_nchw_conv(n->inputs[0])) {
        convert(n);
        continue;
      }
      follow(n);
      if (n->op == OpKind::kTranspose || n->outputs.size() != 1) continue;
      bool nchw = is_conv_type(n->op) && n->inputs[0]->type.rank() == 4;
      for (const Value* v : n->inputs) nchw = nchw || from_nchw_conv(v);
      if (nchw) nchw_conv_.insert(n->outputs[0]);
    }
    g_.topo_sort();
    hoist_transposes();
    g_.topo_sort();
    simplify_transposes();
  }

 private:
  Value* add_transpose(Value* v, const Perm& p) {
    std::string suffix = p == kToNchw ? "_nchw" : p == kToNhwc ? "_nhwc" : "_t";
    Expected<Value*> out = g_.add(OpKind::kTranspose, v->name + suffix, {v}, ir::Attrs().set("perm", p));
    KILN_CHECK(out.has_value()) << "convert_layout: " << out.status().message();
    views_.emplace(std::make_pair(v, p), *out);
    ours_.insert((*out)->producer);
    fresh_.push_back((*out)->producer);
    return *out;
  }

  // v transposed by p: folds into the Transpose that produced v (nothing when
  // the two cancel), permutes a constant at compile time, else a Transpose
  // (one per value and perm, shared by its consumers).
  Value* transposed(Value* v, const Perm& p) {
    if (v->is_constant()) {
      auto key = std::make_pair(v, p);
      auto it = constants_.find(key);
      if (it == constants_.end())
        it = constants_.emplace(key, g_.add_constant(v->name + "_nhwc", transpose_tensor(*v->constant, p))).first;
      return it->second;
    }
    Perm q = p;
    if (const Node* t = v->producer; t && t->op == OpKind::kTranspose) {
      q = compose(perm_of(*t), p);
      v = t->inputs[0];
      if (is_identity(q)) return v;
    }
    auto it = views_.find(std::make_pair(v, q));
    return it != views_.end() ? it->second : add_transpose(v, q);
  }

  // v is computed (through ops that stayed in NCHW) by a convolution-type op
  // that runs in NCHW, e.g. an int8 conv (no NHWC kernel). A conv there stays
  // in NCHW too: in NHWC it would cost a Transpose of its input and, before
  // the next such conv, one of its output (MobileNetV2 int8: the fp32 depthwise
  // conv between two int8 1x1 convs: 1.70 -> 1.40 ms, ORT 1.62, 1 thread).
  bool from_nchw_conv(const Value* v) const { return nchw_conv_.count(v) != 0; }

  // When v is a view this pass made (v = Transpose(*src, *p)): true.
  bool view_of(const Value* v, Value** src, Perm* p) const {
    const Node* t = v->producer;
    if (!t || !ours_.count(t)) return false;
    *src = t->inputs[0];
    *p = perm_of(*t);
    return true;
  }

  // A constant operand c of an op that moves from view Transpose(a, p) to a:
  // broadcast to the rank of p and transposed by its inverse.
  Value* constant_for(Value* c, const Perm& p) {
    const ir::Shape& s = c->type.shape;
    if (c->type.num_elements() <= 1 || s.size() > p.size()) return c;
    ir::Shape full(p.size() - s.size(), 1);
    full.insert(full.end(), s.begin(), s.end());
    Perm inv = inverse(p);
    if (permuted(full, inv) == full) return c;  // it broadcasts alike either way
    auto key = std::make_pair(c, inv);
    auto it = constants_.find(key);
    if (it != constants_.end()) return it->second;
    ir::Tensor t(ir::TensorType{c->type.dtype, full},
                 std::vector<uint8_t>(c->constant->bytes(), c->constant->bytes() + c->constant->num_bytes()));
    Value* out = g_.add_constant(c->name + "_nhwc", transpose_tensor(t, inv));
    constants_.emplace(key, out);
    return out;
  }

  // n now computes `shape` (its output's old value is Transpose(new, p)):
  // check that against its type inference, then give its former consumers
  // (and model outputs) that view of it.
  void expose_view(Node* n, const ir::Shape& shape, const Perm& p) {
    Value* y = n->outputs[0];
    ir::TensorType want{y->type.dtype, shape};
    std::vector<ir::TensorType> types;
    Status st = ops::op_info(n->op).infer(*n, &types);
    KILN_CHECK(st.is_ok() && !types.empty() && types[0] == want)
        << "convert_layout: " << n->label() << " after the layout change: "
        << (st.is_ok() ? types[0].str() : st.message()) << ", expected " << want.str();
    y->type = want;
    Value* view = add_transpose(y, p);
    g_.replace_all_uses(y, view);
    view->producer->inputs[0] = y;
  }

  void convert(Node* n) {
    n->inputs[0] = transposed(n->inputs[0], kToNhwc);
    n->attrs.set(ops::kLayoutAttr, std::string(ops::kChannelsLast));
    expose_view(n, permuted(n->outputs[0]->type.shape, kToNhwc), kToNchw);
  }

  // A layout-agnostic op whose inputs are views this pass made, all with one
  // permutation p (or constants, or single values), runs on the viewed values
  // instead and exposes a view of its own result; anything else stays as it is.
  void follow(Node* n) {
    if (n->outputs.size() != 1 || n->op == OpKind::kTranspose) return;
    OpKind op = n->op;
    // The inputs that carry the activation; the others are left as they are.
    std::vector<size_t> data;
    if (ir::op_class(op) == ir::OpClass::kElementwise || op == OpKind::kConcat) {
      for (size_t i = 0; i < n->inputs.size(); ++i) data.push_back(i);
    } else if (op == OpKind::kGather) {
      if (n->inputs[1]->type.rank() != 1) return;
      data.push_back(0);
    } else if (op == OpKind::kSlice) {
      if (!n->attrs.has("starts") || !n->attrs.has("steps") || !n->attrs.has("shape")) return;
      data.push_back(0);
    } else if (op == OpKind::kReshape || op == OpKind::kSoftmax || op == OpKind::kLogSoftmax ||
               (is_reduction(op) && n->attrs.get_int("keepdims", 1) != 0)) {
      data.push_back(0);
    } else {
      return;
    }
    Perm p;
    bool any = false;
    for (size_t i : data) {
      Value* v = n->inputs[i];
      Value* src = nullptr;
      Perm q;
      if (view_of(v, &src, &q)) {
        if (any && q != p) return;
        p = q, any = true;
      } else if (op == OpKind::kConcat ? !v->is_constant() : !v->is_constant() && v->type.num_elements() != 1) {
        return;
      }
    }
    if (!any) return;
    const ir::Shape& out = n->outputs[0]->type.shape;
    ir::Shape shape;
    Perm out_perm = p;
    if (op == OpKind::kReshape) {
      Value* src = nullptr;
      Perm q;
      view_of(n->inputs[0], &src, &q);
      if (!reshape_through(src->type.shape, p, out, &shape, &out_perm)) return;
      n->attrs.set("shape", std::vector<int64_t>(shape));
    } else {
      if (static_cast<size_t>(n->outputs[0]->type.rank()) != p.size()) return;
      for (size_t i : data)
        if (n->inputs[i]->is_constant() && n->inputs[i]->type.rank() > static_cast<int64_t>(p.size())) return;
      shape = permuted(out, inverse(p));
    }

    for (size_t i : data) {
      Value* v = n->inputs[i];
      Value* src = nullptr;
      Perm q;
      if (view_of(v, &src, &q)) {
        n->inputs[i] = src;
      } else if (v->is_constant()) {
        n->inputs[i] = op == OpKind::kConcat ? transposed(v, inverse(p)) : constant_for(v, p);
      }
    }
    // Axis a of the view is axis p[a] of the viewed value.
    auto axis = [&](const char* name) { n->attrs.set(name, p[n->attrs.get_int(name, 0)]); };
    auto per_axis = [&](const char* name) {
      std::vector<int64_t> v = n->attrs.get_ints(name), r(v.size());
      for (size_t a = 0; a < v.size(); ++a) r[p[a]] = v[a];
      n->attrs.set(name, r);
    };
    if (op == OpKind::kConcat || op == OpKind::kGather || op == OpKind::kSoftmax || op == OpKind::kLogSoftmax) {
      axis("axis");
    } else if (op == OpKind::kSlice) {
      per_axis("starts"), per_axis("steps"), per_axis("shape");
    } else if (is_reduction(op) && n->attrs.has("axes")) {
      std::vector<int64_t> axes = n->attrs.get_ints("axes");
      for (int64_t& a : axes) a = p[a];
      std::sort(axes.begin(), axes.end());
      n->attrs.set("axes", axes);
    }
    expose_view(n, shape, out_perm);
  }

  // A Transpose to NHWC that this pass made, whose input is computed only for
  // it by an elementwise op, a Concat or a Reshape, moves above that op when
  // that adds no Transpose (every other non-constant input cancels against
  // the Transpose that produced it). Repeated, an NCHW stretch between NHWC
  // values (U-Net's stride-2 ConvTranspose, imported as a MatMul with its own
  // Transposes, its bias Add and the skip Concat) runs in NHWC, and the
  // Transposes meet and compose.
  void hoist_transposes() {
    std::vector<Node*> work;
    for (const auto& n : g_.nodes())
      if (ours_.count(n.get())) work.push_back(n.get());
    while (!work.empty()) {
      Node* t = work.back();
      work.pop_back();
      fresh_.clear();
      if (hoist(t)) work.insert(work.end(), fresh_.begin(), fresh_.end());
    }
    g_.compact();
  }

  // Moves Transpose t (to NHWC) above the op that computes its input; false
  // when that does not apply. Leaves t dead (no inputs, marked for removal).
  bool hoist(Node* t) {
    if (t->op != OpKind::kTranspose || t->inputs.empty() || perm_of(*t) != kToNhwc) return false;
    Value* u = t->inputs[0];
    Node* x = u->producer;
    if (!x || x->outputs.size() != 1 || g_.is_graph_output(u) || g_.users(u).size() != 1) return false;
    const Perm& q = kToNhwc;
    const ir::Shape& out = t->outputs[0]->type.shape;
    OpKind op = x->op;
    // The data inputs and the perm each is transposed by.
    std::vector<std::pair<size_t, Perm>> moves;
    if (op == OpKind::kReshape) {
      ir::Shape a_shape;
      Perm q2;
      if (!reshape_through(out, inverse(q), x->inputs[0]->type.shape, &a_shape, &q2)) return false;
      moves.push_back({0, inverse(q2)});
    } else if (ir::op_class(op) == ir::OpClass::kElementwise || op == OpKind::kConcat) {
      for (size_t i = 0; i < x->inputs.size(); ++i) {
        Value* v = x->inputs[i];
        if (v->type.rank() == u->type.rank()) {
          moves.push_back({i, q});
        } else if (!v->is_constant() && v->type.num_elements() != 1) {
          return false;
        }
      }
    } else {
      return false;
    }
    // Each non-constant input that does not cancel adds a Transpose; t goes.
    int added = 0;
    for (const auto& [i, p] : moves) {
      Value* v = x->inputs[i];
      const Node* pt = v->producer;
      if (!v->is_constant() && (!pt || pt->op != OpKind::kTranspose || !is_identity(compose(perm_of(*pt), p)))) ++added;
    }
    if (added > 1) return false;

    for (const auto& [i, p] : moves) x->inputs[i] = transposed(x->inputs[i], p);
    if (op == OpKind::kReshape) {
      x->attrs.set("shape", std::vector<int64_t>(out));
    } else {
      // Lower-rank constants broadcast from the right: give them the full rank, permuted.
      for (Value*& v : x->inputs)
        if (v->is_constant() && v->type.rank() < u->type.rank() && v->type.num_elements() > 1)
          v = constant_for(v, inverse(q));
      if (op == OpKind::kConcat) x->attrs.set("axis", inverse(q)[x->attrs.get_int("axis", 0)]);
    }
    std::vector<ir::TensorType> types;
    Status st = ops::op_info(op).infer(*x, &types);
    KILN_CHECK(st.is_ok() && !types.empty() && types[0].shape == out)
        << "convert_layout: " << x->label() << " above " << t->label() << ": "
        << (st.is_ok() ? types[0].str() : st.message()) << ", expected " << ir::shape_str(out);
    u->type = types[0];
    g_.replace_all_uses(t->outputs[0], u);
    views_.erase(std::make_pair(u, q));
    ours_.erase(t);
    t->inputs.clear();
    g_.remove_node(t);
    return true;
  }

  // Transpose(Transpose(x, p), q) -> Transpose(x, compose(p, q)), or x when
  // they cancel; a Transpose that moves only unit dimensions -> Reshape.
  void simplify_transposes() {
    for (const auto& node : g_.nodes()) {
      Node* n = node.get();
      if (n->op != OpKind::kTranspose) continue;
      Perm p = perm_of(*n);
      if (const Node* t = n->inputs[0]->producer; t && t->op == OpKind::kTranspose) {
        p = compose(perm_of(*t), p);
        n->inputs[0] = t->inputs[0];
        n->attrs.set("perm", p);
      }
      if (is_identity(p)) {
        g_.replace_all_uses(n->outputs[0], n->inputs[0]);
        g_.remove_node(n);
      } else if (moves_only_unit_dims(n->inputs[0]->type.shape, p)) {
        n->op = OpKind::kReshape;
        n->attrs = ir::Attrs().set("shape", std::vector<int64_t>(n->outputs[0]->type.shape));
      }
    }
    g_.compact();
  }

  ir::Graph& g_;
  // Transposes made so far, (value, perm) -> view, so that consumers share one;
  // constants permuted so far, (constant, perm) -> constant.
  std::map<std::pair<Value*, Perm>, Value*> views_, constants_;
  std::set<const Node*> ours_;
  std::set<const Value*> nchw_conv_;  // see from_nchw_conv
  std::vector<Node*> fresh_;  // Transposes made since hoist_transposes last cleared it
};

}  // namespace

void convert_layout(ir::Graph& g, const ops::KernelOptions& opts) {
  if (!opts.channels_last) return;
  LayoutConverter(g).run();
}

}  // namespace kiln::passes
