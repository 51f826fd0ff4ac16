// kiln's graph IR: a typed DAG of Values and Nodes of core ops (ops.def).
// Shapes are static: every Value has a full TensorType once it exists.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "ir/dtype.h"

namespace kiln::ir {

using Shape = std::vector<int64_t>;

struct TensorType {
  DType dtype = DType::kF32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t num_elements() const;
  int64_t num_bytes() const { return num_elements() * dtype_size(dtype); }
  // "float32[1x3x224x224]", "int64[]" for a scalar.
  std::string str() const;
  bool operator==(const TensorType& o) const { return dtype == o.dtype && shape == o.shape; }
  bool operator!=(const TensorType& o) const { return !(*this == o); }
};

// "1x3x224x224" ("scalar" for rank 0).
std::string shape_str(const Shape& s);

// Immutable constant data with its type. Copies share the bytes.
class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor of the type.
  explicit Tensor(TensorType type);
  Tensor(TensorType type, std::vector<uint8_t> bytes);

  const TensorType& type() const { return type_; }
  const uint8_t* bytes() const { return data_->data(); }
  int64_t num_bytes() const { return static_cast<int64_t>(data_->size()); }
  template <typename T>
  const T* data() const { return reinterpret_cast<const T*>(data_->data()); }
  // Mutable access for the code that creates the tensor (before sharing it).
  template <typename T>
  T* mutable_data() { return reinterpret_cast<T*>(data_->data()); }

  // Element i converted to double / int64 (any dtype; uint64 above INT64_MAX
  // wraps in get_i64).
  double get_f64(int64_t i) const;
  int64_t get_i64(int64_t i) const;
  // Sets element i from a double (to integers: truncated toward zero, then wrapped
  // to the type; narrow floats round as ONNX Cast does) or from an int64 (wrapped;
  // to floats: the nearest value).
  void set_f64(int64_t i, double v);
  void set_i64(int64_t i, int64_t v);
  // All elements as int64 (for shape-like tensors).
  std::vector<int64_t> to_i64_vector() const;

  static Tensor from_f32(const Shape& shape, const std::vector<float>& v);
  static Tensor from_i64(const Shape& shape, const std::vector<int64_t>& v);
  // A tensor of `dtype` with each value converted as set_f64 does.
  static Tensor from_f64(DType dtype, const Shape& shape, const std::vector<double>& v);
  static Tensor scalar_f32(float v) { return from_f32({}, {v}); }

 private:
  TensorType type_;
  std::shared_ptr<std::vector<uint8_t>> data_ = std::make_shared<std::vector<uint8_t>>();
};

enum class OpKind : uint16_t {
#define KILN_OP(Name, str, kind) k##Name,
#include "ir/ops.def"
#undef KILN_OP
};

enum class OpClass : uint8_t { kElementwise, kInjective, kReshape, kComplex };

const char* op_name(OpKind op);
OpClass op_class(OpKind op);
// The op named `name` ("Conv"), if there is one.
std::optional<OpKind> op_from_name(const std::string& name);

using AttrValue = std::variant<int64_t, double, std::vector<int64_t>, std::vector<double>, std::string>;

// Typed node attributes. Getters with a default return it when absent;
// getters without one abort (a compiler bug: the frontend sets what ops need).
class Attrs {
 public:
  Attrs& set(const std::string& name, AttrValue v) {
    map_[name] = std::move(v);
    return *this;
  }
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  int64_t get_int(const std::string& name) const;
  int64_t get_int(const std::string& name, int64_t dflt) const;
  double get_float(const std::string& name) const;
  double get_float(const std::string& name, double dflt) const;
  const std::vector<int64_t>& get_ints(const std::string& name) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> dflt) const;
  const std::map<std::string, AttrValue>& all() const { return map_; }
  bool operator==(const Attrs& o) const { return map_ == o.map_; }

 private:
  std::map<std::string, AttrValue> map_;
};

class Node;

class Value {
 public:
  int id = -1;
  std::string name;
  TensorType type;
  Node* producer = nullptr;          // null for graph inputs and constants
  std::optional<Tensor> constant;    // set for constants (initializers, folded values)

  bool is_constant() const { return constant.has_value(); }
};

class Node {
 public:
  OpKind op;
  std::string name;                  // from the model (may be empty) — used in messages
  std::vector<Value*> inputs;
  std::vector<Value*> outputs;
  Attrs attrs;

  // "Conv 'conv1'" — how messages name a node.
  std::string label() const;
};

struct GraphOutput {
  std::string name;                  // the model's output name (kept when values change)
  Value* value;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  Value* add_input(const std::string& name, TensorType type);
  Value* add_constant(const std::string& name, Tensor t);
  // Adds a node after all existing ones, runs its op's type inference and
  // creates its outputs (named output_names[i], or derived from the node name).
  // A type error is returned as an invalid-input Status naming the node.
  Expected<Node*> add_node(OpKind op, const std::string& name, std::vector<Value*> inputs,
                           Attrs attrs = {}, int num_outputs = 1,
                           std::vector<std::string> output_names = {});
  // Shorthand for single-output nodes.
  Expected<Value*> add(OpKind op, const std::string& name, std::vector<Value*> inputs, Attrs attrs = {});
  void add_output(const std::string& name, Value* v) { outputs_.push_back({name, v}); }

  const std::vector<Value*>& inputs() const { return inputs_; }
  std::vector<GraphOutput>& outputs() { return outputs_; }
  const std::vector<GraphOutput>& outputs() const { return outputs_; }
  // Nodes in execution (topological) order.
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }

  // Every use of `from` (node inputs and graph outputs) becomes `to`.
  void replace_all_uses(Value* from, Value* to);
  // Removes nodes marked by remove_node(); values stay owned by the graph.
  void remove_node(Node* n) { dead_.push_back(n); }
  void compact();
  // Restores topological order after passes appended nodes out of order.
  void topo_sort();
  // Nodes that consume `v` (computed on demand; O(nodes)).
  std::vector<Node*> users(const Value* v) const;
  std::map<const Value*, std::vector<Node*>> use_map() const;
  bool is_graph_output(const Value* v) const;

  // Structural checks: every input defined before use, types match op inference.
  Status verify() const;
  // Human-readable listing (KILN_DUMP_IR).
  std::string str() const;

  // A name not used by any value yet, derived from `base`.
  std::string unique_name(const std::string& base);

 private:
  Value* new_value(const std::string& name, TensorType type);

  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Value*> inputs_;
  std::vector<GraphOutput> outputs_;
  std::vector<Node*> dead_;
  std::map<std::string, int> name_counts_;
};

}  // namespace kiln::ir
