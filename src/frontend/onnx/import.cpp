// The import driver: checks that every op is supported (one error listing all
// that are not), turns initializers and inputs into graph values, then maps the
// nodes in order through the op table and binds the graph outputs.
#include "frontend/onnx/import.h"

#include <algorithm>
#include <set>

#include "frontend/onnx/context.h"
#include "frontend/onnx/load.h"
#include "frontend/onnx/op_table.h"
#include "frontend/onnx/tensor.h"

namespace kiln::frontend {
namespace {

using InputShapes = std::map<std::string, std::vector<int64_t>>;

// Nodes named per unsupported op type (a zoo model can have hundreds).
constexpr size_t kMaxNodesListed = 8;

std::string node_name(const onnx::NodeProto& n) {
  if (!n.name().empty()) return n.name();
  return n.output_size() ? n.output(0) : n.op_type();
}

// One error naming every unsupported op type with its domain, opset and nodes.
Status check_supported(const onnx::ModelProto& model) {
  struct Unsupported {
    std::string op, domain;
    std::vector<std::string> nodes;
  };
  std::vector<Unsupported> found;
  for (const auto& n : model.graph().node()) {
    if (find_op_in(n.domain(), n.op_type())) continue;
    std::string domain = is_default_domain(n.domain()) ? "ai.onnx" : n.domain();
    auto it = std::find_if(found.begin(), found.end(),
                           [&](const Unsupported& u) { return u.op == n.op_type() && u.domain == domain; });
    if (it == found.end()) it = found.insert(found.end(), {n.op_type(), domain, {}});
    it->nodes.push_back(node_name(n));
  }
  if (found.empty()) return Status::ok();
  std::string msg = "unsupported operators: ";
  for (size_t i = 0; i < found.size(); ++i) {
    const Unsupported& u = found[i];
    int64_t opset = opset_for_domain(model, u.domain == "ai.onnx" ? "" : u.domain);
    msg += (i ? "; " : "") + u.op + " (domain '" + u.domain + "', " +
           (opset ? "opset " + std::to_string(opset) : std::string("no opset import")) + ") at node ";
    size_t shown = std::min(u.nodes.size(), kMaxNodesListed);
    for (size_t j = 0; j < shown; ++j) msg += (j ? ", '" : "'") + u.nodes[j] + "'";
    if (shown < u.nodes.size()) msg += " and " + std::to_string(u.nodes.size() - shown) + " more";
  }
  return Status::invalid(msg);
}

std::string dims_str(const std::vector<std::string>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + dims[i];
  return s;
}

// The static shape of graph input `vi`: its dims, with symbolic ones pinned by `pin`.
Expected<ir::Shape> input_shape(const onnx::ValueInfoProto& vi, const std::vector<int64_t>* pin) {
  const std::string& name = vi.name();
  const auto& tt = vi.type().tensor_type();
  if (!tt.has_shape()) {
    if (pin) return ir::Shape(*pin);
    return Status::invalid("input '" + name + "' has no shape in the model; give one with --input_shapes " + name +
                           ":1x3x224x224 (your input's real dims)");
  }
  std::vector<std::string> shown, symbolic, suggestion;
  ir::Shape shape;
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() >= 0) {
      shown.push_back(std::to_string(d.dim_value()));
      suggestion.push_back(shown.back());
      shape.push_back(d.dim_value());
    } else {
      std::string sym = d.has_dim_param() && !d.dim_param().empty() ? d.dim_param() : "?";
      shown.push_back(sym);
      symbolic.push_back(sym);
      suggestion.push_back("1");
      shape.push_back(-1);
    }
  }
  if (pin) {
    if (pin->size() != shape.size())
      return Status::invalid("--input_shapes gives input '" + name + "' rank " + std::to_string(pin->size()) + " (" +
                             ir::shape_str(*pin) + ") but the model's input has rank " +
                             std::to_string(shape.size()) + " (" + dims_str(shown) + ")");
    for (size_t i = 0; i < shape.size(); ++i)
      if (shape[i] >= 0 && shape[i] != (*pin)[i])
        return Status::invalid("--input_shapes gives input '" + name + "' shape " + ir::shape_str(*pin) +
                               " but the model fixes dim " + std::to_string(i) + " to " + std::to_string(shape[i]) +
                               " (" + dims_str(shown) + ")");
    return ir::Shape(*pin);
  }
  if (!symbolic.empty()) {
    std::string syms;
    for (const auto& s : symbolic) syms += (syms.empty() ? "'" : ", '") + s + "'";
    return Status::invalid("input '" + name + "' has symbolic dimensions " + syms + " (shape " + dims_str(shown) +
                           "); kiln compiles static shapes: pin them with --input_shapes " + name + ":" +
                           dims_str(suggestion));
  }
  return shape;
}

// The graph input `vi` frozen to `value` (--constant_input): same dtype, and a
// shape that matches the declared dims (symbolic ones take the given sizes).
Status check_constant_input(const onnx::ValueInfoProto& vi, DType dtype, const ir::Tensor& value) {
  const std::string& name = vi.name();
  const ir::TensorType& t = value.type();
  if (t.dtype != dtype)
    return Status::invalid("--constant_input '" + name + "' is " + dtype_name(t.dtype) + " but the model's input is " +
                           dtype_name(dtype));
  const auto& tt = vi.type().tensor_type();
  if (!tt.has_shape()) return Status::ok();
  std::vector<std::string> dims;
  for (const auto& d : tt.shape().dim())
    dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? std::to_string(d.dim_value())
                   : d.has_dim_param() && !d.dim_param().empty() ? d.dim_param() : "?");
  bool match = dims.size() == t.shape.size();
  for (int i = 0; match && i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (d.has_dim_value() && d.dim_value() >= 0 && d.dim_value() != t.shape[i]) match = false;
  }
  if (!match)
    return Status::invalid("--constant_input '" + name + "' has shape " + ir::shape_str(t.shape) +
                           " but the model's input has shape " + (dims.empty() ? "scalar" : dims_str(dims)));
  return Status::ok();
}

// Graph inputs that are not initializers become graph inputs of static type,
// or constants when `constant_inputs` names them.
Status add_inputs(const onnx::GraphProto& g, const InputShapes& input_shapes,
                  const std::map<std::string, ir::Tensor>& constant_inputs, ImportState& state) {
  std::set<std::string> initializers;
  for (const auto& t : g.initializer()) initializers.insert(t.name());
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& vi : g.input())
    if (!initializers.count(vi.name())) inputs.push_back(&vi);
  auto check_named = [&](const std::string& name, const std::string& flag) {
    bool known = std::any_of(inputs.begin(), inputs.end(), [&](auto* vi) { return vi->name() == name; });
    if (known) return Status::ok();
    std::string names;
    for (auto* vi : inputs) names += (names.empty() ? "'" : ", '") + vi->name() + "'";
    return Status::invalid(flag + " names '" + name + "', which is not an input of the model (its inputs: " +
                           (names.empty() ? std::string("none") : names) + ")");
  };
  for (const auto& [name, dims] : input_shapes) {
    KILN_RETURN_IF_ERROR(check_named(name, "--input_shapes"));
    if (constant_inputs.count(name))
      return Status::invalid("input '" + name + "' is named by both --input_shapes and --constant_input");
  }
  for (const auto& [name, value] : constant_inputs) KILN_RETURN_IF_ERROR(check_named(name, "--constant_input"));
  for (const auto* vi : inputs) {
    if (!vi->type().has_tensor_type())
      return Status::invalid("input '" + vi->name() + "' is not a tensor; kiln supports tensor inputs only");
    int32_t elem = vi->type().tensor_type().elem_type();
    std::optional<DType> dtype = dtype_from_onnx(elem);
    if (!dtype)
      return Status::invalid("input '" + vi->name() + "' has element type " + onnx_type_name(elem) +
                             ", which kiln does not support");
    if (auto frozen = constant_inputs.find(vi->name()); frozen != constant_inputs.end()) {
      KILN_RETURN_IF_ERROR(check_constant_input(*vi, *dtype, frozen->second));
      state.values[vi->name()] = state.graph->add_constant(vi->name(), frozen->second);
      continue;
    }
    auto pin = input_shapes.find(vi->name());
    KILN_ASSIGN_OR_RETURN(ir::Shape shape,
                          input_shape(*vi, pin == input_shapes.end() ? nullptr : &pin->second));
    for (int64_t d : shape)
      if (d < 0) return Status::invalid("input '" + vi->name() + "' has a negative dimension");
    state.values[vi->name()] = state.graph->add_input(vi->name(), ir::TensorType{*dtype, shape});
  }
  return Status::ok();
}

// Maps one node after checking that its inputs exist.
Status map_node(const onnx::NodeProto& n, ImportState& state) {
  NodeContext ctx(state, n);
  const OpEntry* entry = find_op_in(n.domain(), n.op_type());
  for (const auto& in : n.input())
    if (!in.empty() && !state.values.count(in))
      return ctx.error("input '" + in + "' is not produced by an earlier node, an initializer or a graph input");
  for (int i = 0; i < entry->min_inputs; ++i)
    if (!ctx.has_input(i))
      return ctx.error("needs at least " + std::to_string(entry->min_inputs) + " inputs, has " +
                       std::to_string(n.input_size()));
  // (Optional outputs may be left out as "", even the first: LSTM's Y.)
  if (std::all_of(n.output().begin(), n.output().end(), [](const std::string& o) { return o.empty(); }))
    return ctx.error("has no output");
  Status st = entry->map(ctx);
  if (!st.is_ok()) return st;
  if (!ctx.attr_status().is_ok()) return ctx.attr_status();
  for (int i = 0; i < n.output_size(); ++i)
    if (ctx.output_used(i) && !state.values.count(n.output(i)))
      return ctx.unsupported("output " + std::to_string(i) + " ('" + n.output(i) + "')");
  return Status::ok();
}

}  // namespace

Expected<std::unique_ptr<ir::Graph>> import_onnx(const std::string& input_path, const InputShapes& input_shapes,
                                                 const std::map<std::string, ir::Tensor>& constant_inputs) {
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> loaded, load_model(input_path));
  const onnx::GraphProto& g = loaded->model.graph();
  Status st = check_supported(loaded->model);
  if (!st.is_ok()) return st;

  auto graph = std::make_unique<ir::Graph>();
  ImportState state;
  state.graph = graph.get();
  state.opset = loaded->opset;
  state.model_dir = loaded->dir;
  st = add_inputs(g, input_shapes, constant_inputs, state);
  if (!st.is_ok()) return st;
  for (int i = 0; i < g.initializer_size(); ++i) {
    onnx::TensorProto* t = loaded->model.mutable_graph()->mutable_initializer(i);
    KILN_ASSIGN_OR_RETURN(ir::Tensor tensor, tensor_from_proto(*t, loaded->dir));
    state.values[t->name()] = graph->add_constant(t->name(), std::move(tensor));
    t->clear_raw_data();  // the graph holds the bytes now: keep peak memory near one copy
  }
  for (const auto& n : g.node())
    for (const auto& in : n.input()) state.used_names.insert(in);
  for (const auto& out : g.output()) state.used_names.insert(out.name());

  for (const auto& n : g.node()) {
    st = map_node(n, state);
    if (!st.is_ok()) return st;
  }
  for (const auto& out : g.output()) {
    auto it = state.values.find(out.name());
    if (it == state.values.end())
      return Status::invalid("graph output '" + out.name() + "' is not produced by any node, initializer or input");
    graph->add_output(out.name(), it->second);
  }
  return graph;
}

}  // namespace kiln::frontend
