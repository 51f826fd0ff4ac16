// Graph IR: op names, attributes, graph construction and editing.
#include "ir/graph.h"

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include "base/check.h"
#include "ops/op_info.h"

namespace kiln::ir {

namespace {

struct OpRow {
  const char* name;
  OpClass cls;
};

constexpr OpClass kElementwise = OpClass::kElementwise;
constexpr OpClass kInjective = OpClass::kInjective;
constexpr OpClass kReshape = OpClass::kReshape;
constexpr OpClass kComplex = OpClass::kComplex;

const OpRow kOpRows[] = {
#define KILN_OP(Name, str, kind) {str, k##kind},
#include "ir/ops.def"
#undef KILN_OP
};

}  // namespace

const char* op_name(OpKind op) { return kOpRows[static_cast<int>(op)].name; }
OpClass op_class(OpKind op) { return kOpRows[static_cast<int>(op)].cls; }

std::optional<OpKind> op_from_name(const std::string& name) {
  for (size_t i = 0; i < std::size(kOpRows); ++i)
    if (name == kOpRows[i].name) return static_cast<OpKind>(i);
  return std::nullopt;
}

// ---- Attrs ----

int64_t Attrs::get_int(const std::string& name) const {
  auto it = map_.find(name);
  KILN_CHECK(it != map_.end() && std::holds_alternative<int64_t>(it->second)) << "missing int attribute " << name;
  return std::get<int64_t>(it->second);
}
int64_t Attrs::get_int(const std::string& name, int64_t dflt) const {
  auto it = map_.find(name);
  return it == map_.end() ? dflt : get_int(name);
}
double Attrs::get_float(const std::string& name) const {
  auto it = map_.find(name);
  KILN_CHECK(it != map_.end()) << "missing float attribute " << name;
  if (std::holds_alternative<int64_t>(it->second)) return static_cast<double>(std::get<int64_t>(it->second));
  KILN_CHECK(std::holds_alternative<double>(it->second)) << "attribute " << name << " is not a float";
  return std::get<double>(it->second);
}
double Attrs::get_float(const std::string& name, double dflt) const {
  return map_.count(name) ? get_float(name) : dflt;
}
const std::vector<int64_t>& Attrs::get_ints(const std::string& name) const {
  auto it = map_.find(name);
  KILN_CHECK(it != map_.end() && std::holds_alternative<std::vector<int64_t>>(it->second))
      << "missing ints attribute " << name;
  return std::get<std::vector<int64_t>>(it->second);
}
std::vector<int64_t> Attrs::get_ints(const std::string& name, std::vector<int64_t> dflt) const {
  return map_.count(name) ? get_ints(name) : dflt;
}

std::string Node::label() const {
  std::string n = name;
  if (n.empty() && !outputs.empty()) n = outputs[0]->name;
  return std::string(op_name(op)) + " '" + n + "'";
}

// ---- Graph ----

std::string Graph::unique_name(const std::string& base) {
  std::string b = base.empty() ? "v" : base;
  int& count = name_counts_[b];
  std::string n = count == 0 ? b : b + "_" + std::to_string(count);
  ++count;
  while (name_counts_.count(n) && n != b) n = b + "_" + std::to_string(count++);
  if (n != b) name_counts_[n] = 1;
  return n;
}

Value* Graph::new_value(const std::string& name, TensorType type) {
  auto v = std::make_unique<Value>();
  v->id = static_cast<int>(values_.size());
  v->name = name;
  v->type = std::move(type);
  values_.push_back(std::move(v));
  return values_.back().get();
}

Value* Graph::add_input(const std::string& name, TensorType type) {
  name_counts_[name] = std::max(name_counts_[name], 1);
  Value* v = new_value(name, std::move(type));
  inputs_.push_back(v);
  return v;
}

Value* Graph::add_constant(const std::string& name, Tensor t) {
  Value* v = new_value(unique_name(name), t.type());
  v->constant = std::move(t);
  return v;
}

Expected<Node*> Graph::add_node(OpKind op, const std::string& name, std::vector<Value*> inputs, Attrs attrs,
                                int num_outputs, std::vector<std::string> output_names) {
  auto node = std::make_unique<Node>();
  node->op = op;
  node->name = name;
  node->inputs = std::move(inputs);
  node->attrs = std::move(attrs);
  for (Value* in : node->inputs) KILN_CHECK(in != nullptr) << "null input to " << node->label();

  // The float8/float4 and 4-/2-bit integer types only flow through Cast and data movement.
  bool moves_data = op == OpKind::kCast || op == OpKind::kIdentity || op == OpKind::kWhere ||
                    op_class(op) == OpClass::kReshape || op_class(op) == OpClass::kInjective;
  if (!moves_data) {
    for (Value* in : node->inputs) {
      if (dtype_is_storage_only(in->type.dtype))
        return Status::invalid(std::string(op_name(op)) + " does not compute in " + dtype_name(in->type.dtype) +
                               " (kiln keeps float8, float4 and 4-/2-bit integer tensors for Cast and data "
                               "movement; Cast to float32 first)")
            .with_context(node->label());
    }
  }
  std::vector<TensorType> types;
  const ops::OpInfo& info = ops::op_info(op);
  KILN_CHECK(info.infer != nullptr) << "no type inference for " << op_name(op);
  Status st = info.infer(*node, &types);
  if (!st.is_ok()) return st.with_context(node->label());
  KILN_CHECK(static_cast<int>(types.size()) >= num_outputs)
      << node->label() << ": inference gave " << types.size() << " outputs, wanted " << num_outputs;
  for (int i = 0; i < num_outputs; ++i) {
    std::string base = i < static_cast<int>(output_names.size()) ? output_names[i]
                       : name.empty() ? std::string(op_name(op))
                                      : name + (i ? "_out" + std::to_string(i) : "");
    Value* v = new_value(unique_name(base), types[i]);
    v->producer = node.get();
    node->outputs.push_back(v);
  }
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

Expected<Value*> Graph::add(OpKind op, const std::string& name, std::vector<Value*> inputs, Attrs attrs) {
  KILN_ASSIGN_OR_RETURN(Node * n, add_node(op, name, std::move(inputs), std::move(attrs)));
  return n->outputs[0];
}

void Graph::replace_all_uses(Value* from, Value* to) {
  for (auto& n : nodes_)
    for (Value*& in : n->inputs)
      if (in == from) in = to;
  for (GraphOutput& o : outputs_)
    if (o.value == from) o.value = to;
}

void Graph::compact() {
  if (dead_.empty()) return;
  std::set<Node*> dead(dead_.begin(), dead_.end());
  nodes_.erase(std::remove_if(nodes_.begin(), nodes_.end(), [&](const std::unique_ptr<Node>& n) {
                 return dead.count(n.get()) != 0;
               }),
               nodes_.end());
  dead_.clear();
}

void Graph::topo_sort() {
  compact();
  std::map<const Value*, Node*> producer;
  for (auto& n : nodes_)
    for (Value* o : n->outputs) producer[o] = n.get();
  std::set<Node*> done;
  std::vector<std::unique_ptr<Node>> order;
  std::map<Node*, std::unique_ptr<Node>*> slot;
  for (auto& n : nodes_) slot[n.get()] = &n;
  // Iterative DFS keeping the existing relative order where possible.
  std::function<void(Node*)> visit = [&](Node* n) {
    if (done.count(n)) return;
    done.insert(n);
    for (Value* in : n->inputs) {
      auto it = producer.find(in);
      if (it != producer.end()) visit(it->second);
    }
    order.push_back(std::move(*slot[n]));
  };
  std::vector<Node*> all;
  for (auto& n : nodes_) all.push_back(n.get());
  for (Node* n : all) visit(n);
  nodes_ = std::move(order);
}

std::vector<Node*> Graph::users(const Value* v) const {
  std::vector<Node*> out;
  for (auto& n : nodes_)
    if (std::find(n->inputs.begin(), n->inputs.end(), v) != n->inputs.end()) out.push_back(n.get());
  return out;
}

std::map<const Value*, std::vector<Node*>> Graph::use_map() const {
  std::map<const Value*, std::vector<Node*>> m;
  for (auto& n : nodes_) {
    std::set<const Value*> seen;
    for (Value* in : n->inputs)
      if (seen.insert(in).second) m[in].push_back(n.get());
  }
  return m;
}

bool Graph::is_graph_output(const Value* v) const {
  for (const GraphOutput& o : outputs_)
    if (o.value == v) return true;
  return false;
}

Status Graph::verify() const {
  std::set<const Value*> defined(inputs_.begin(), inputs_.end());
  for (auto& n : nodes_) {
    for (Value* in : n->inputs) {
      if (!in->is_constant() && !defined.count(in))
        return Status::internal(n->label() + " uses " + in->name + " before it is defined");
    }
    std::vector<TensorType> types;
    Status st = ops::op_info(n->op).infer(*n, &types);
    if (!st.is_ok()) return Status::internal(n->label() + ": " + st.message());
    for (size_t i = 0; i < n->outputs.size(); ++i) {
      if (i < types.size() && types[i] != n->outputs[i]->type)
        return Status::internal(n->label() + " output " + n->outputs[i]->name + " has type " +
                                n->outputs[i]->type.str() + " but inference says " + types[i].str());
      defined.insert(n->outputs[i]);
    }
  }
  for (const GraphOutput& o : outputs_)
    if (!o.value->is_constant() && !defined.count(o.value))
      return Status::internal("graph output " + o.name + " is not computed");
  return Status::ok();
}

namespace {

std::string attr_str(const AttrValue& v) {
  std::ostringstream os;
  if (auto* i = std::get_if<int64_t>(&v)) {
    os << *i;
  } else if (auto* d = std::get_if<double>(&v)) {
    os << *d;
  } else if (auto* is = std::get_if<std::vector<int64_t>>(&v)) {
    os << "[";
    for (size_t k = 0; k < is->size(); ++k) os << (k ? "," : "") << (*is)[k];
    os << "]";
  } else if (auto* ds = std::get_if<std::vector<double>>(&v)) {
    os << "[";
    for (size_t k = 0; k < ds->size(); ++k) os << (k ? "," : "") << (*ds)[k];
    os << "]";
  } else {
    os << '"' << std::get<std::string>(v) << '"';
  }
  return os.str();
}

}  // namespace

std::string Graph::str() const {
  std::ostringstream os;
  os << "graph(";
  for (size_t i = 0; i < inputs_.size(); ++i)
    os << (i ? ", " : "") << "%" << inputs_[i]->name << ": " << inputs_[i]->type.str();
  os << ") {\n";
  for (auto& n : nodes_) {
    os << "  ";
    for (size_t i = 0; i < n->outputs.size(); ++i)
      os << (i ? ", " : "") << "%" << n->outputs[i]->name << ": " << n->outputs[i]->type.str();
    os << " = " << op_name(n->op) << "(";
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      Value* in = n->inputs[i];
      os << (i ? ", " : "") << (in->is_constant() ? "$" : "%") << in->name;
    }
    os << ")";
    if (!n->attrs.all().empty()) {
      os << " {";
      bool first = true;
      for (auto& [k, v] : n->attrs.all()) {
        os << (first ? "" : ", ") << k << "=" << attr_str(v);
        first = false;
      }
      os << "}";
    }
    os << "\n";
  }
  os << "  return ";
  for (size_t i = 0; i < outputs_.size(); ++i)
    os << (i ? ", " : "") << outputs_[i].name << "=" << (outputs_[i].value->is_constant() ? "$" : "%")
       << outputs_[i].value->name;
  os << "\n}\n";
  return os.str();
}

}  // namespace kiln::ir
