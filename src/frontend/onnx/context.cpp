// NodeContext: attribute access with ONNX defaults and node emission for op mappers.
#include "frontend/onnx/context.h"

#include "base/check.h"
#include "frontend/onnx/shape_eval.h"

namespace kiln::frontend {

using onnx::AttributeProto;

std::string NodeContext::name() const {
  if (!node_.name().empty()) return node_.name();
  for (const auto& o : node_.output())  // the first output that is not left out
    if (!o.empty()) return o;
  return node_.op_type();
}

std::string NodeContext::label() const { return node_.op_type() + " '" + name() + "'"; }

ir::Value* NodeContext::input(int i) const {
  KILN_CHECK(has_input(i)) << label() << ": input " << i << " is absent";
  auto it = state_.values.find(node_.input(i));
  KILN_CHECK(it != state_.values.end()) << label() << ": input '" << node_.input(i) << "' is unbound";
  return it->second;
}

const ir::Tensor* NodeContext::constant_input(int i) const {
  if (!has_input(i)) return nullptr;
  ir::Value* v = input(i);
  return v->is_constant() ? &*v->constant : nullptr;
}

bool NodeContext::output_used(int i) const {
  return i < node_.output_size() && !node_.output(i).empty() && state_.used_names.count(node_.output(i)) != 0;
}

void NodeContext::set_output(int i, ir::Value* v) {
  if (i >= node_.output_size() || node_.output(i).empty()) return;
  // A value made for this node takes the ONNX name (messages and dumps read better).
  if (fresh_.count(v) && v->name != node_.output(i)) v->name = graph().unique_name(node_.output(i));
  state_.values[node_.output(i)] = v;
}

const AttributeProto* NodeContext::find_attr(const std::string& name) const {
  for (const auto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

const AttributeProto* NodeContext::typed_attr(const std::string& name, AttributeProto::AttributeType type) {
  const AttributeProto* a = find_attr(name);
  if (!a) return nullptr;
  // Old exporters leave `type` unset; trust the field that is filled in then.
  if (a->type() != AttributeProto::UNDEFINED && a->type() != type) {
    if (attr_status_.is_ok())
      attr_status_ = error("attribute '" + name + "' has type " + AttributeProto::AttributeType_Name(a->type()) +
                           ", expected " + AttributeProto::AttributeType_Name(type));
    return nullptr;
  }
  return a;
}

int64_t NodeContext::attr_int(const std::string& name, int64_t dflt) {
  const AttributeProto* a = typed_attr(name, AttributeProto::INT);
  return a ? a->i() : dflt;
}

double NodeContext::attr_float(const std::string& name, double dflt) {
  const AttributeProto* a = typed_attr(name, AttributeProto::FLOAT);
  return a ? a->f() : dflt;
}

std::string NodeContext::attr_string(const std::string& name, const std::string& dflt) {
  const AttributeProto* a = typed_attr(name, AttributeProto::STRING);
  return a ? a->s() : dflt;
}

std::vector<int64_t> NodeContext::attr_ints(const std::string& name, std::vector<int64_t> dflt) {
  const AttributeProto* a = typed_attr(name, AttributeProto::INTS);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : dflt;
}

std::vector<double> NodeContext::attr_floats(const std::string& name, std::vector<double> dflt) {
  const AttributeProto* a = typed_attr(name, AttributeProto::FLOATS);
  return a ? std::vector<double>(a->floats().begin(), a->floats().end()) : dflt;
}

const onnx::TensorProto* NodeContext::attr_tensor(const std::string& name) {
  const AttributeProto* a = typed_attr(name, AttributeProto::TENSOR);
  return a ? &a->t() : nullptr;
}

namespace {

// Nodes folded while mapping: small outputs of constant inputs. Quantize and
// dequantize stay: passes/lower_qdq must see DequantizeLinear of constant
// weights (the constant-folding pass evaluates them after it).
bool fold_at_import(const ir::Node& n) {
  if (n.op == ir::OpKind::kQuantizeLinear || n.op == ir::OpKind::kDequantizeLinear) return false;
  return passes::is_foldable_node(n) && n.outputs[0]->type.num_elements() <= kMaxFoldElements;
}

}  // namespace

Expected<ir::Value*> NodeContext::add(ir::OpKind op, std::vector<ir::Value*> inputs, ir::Attrs attrs,
                                      const std::string& suffix) {
  std::string node_name = suffix.empty() ? name() : name() + "/" + suffix;
  auto node = graph().add_node(op, node_name, std::move(inputs), std::move(attrs));
  if (!node) return Status::invalid(label() + ": " + node.status().message());
  ir::Node* n = *node;
  ir::Value* out = n->outputs[0];
  fresh_.insert(out);
  if (fold_at_import(*n)) {
    KILN_RETURN_IF_ERROR(passes::fold_node(graph(), *n, state_.evaluator));
    graph().compact();
  }
  return out;
}

Expected<ir::Value*> NodeContext::reshape(ir::Value* v, const ir::Shape& shape, const std::string& suffix) {
  if (v->type.shape == shape) return v;
  if (is_foldable(v)) return constant(eval_reshape(*v->constant, shape), suffix.empty() ? "reshaped" : suffix);
  return add(ir::OpKind::kReshape, {v}, ir::Attrs().set("shape", shape), suffix);
}

ir::Value* NodeContext::constant(ir::Tensor t, const std::string& suffix) {
  ir::Value* v = graph().add_constant(name() + "/" + suffix, std::move(t));
  fresh_.insert(v);
  return v;
}

ir::Value* NodeContext::scalar(DType dtype, double v, const std::string& suffix) {
  ir::Tensor t(ir::TensorType{dtype, {}});
  t.set_f64(0, v);
  return constant(std::move(t), suffix);
}

std::optional<int64_t> normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

}  // namespace kiln::frontend
