// What an op mapper sees while it maps one ONNX node: its inputs as graph
// values, its attributes with ONNX defaults, and helpers to emit core-op nodes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include "base/status.h"
#include "ir/graph.h"
#include "passes/constant_fold.h"

namespace kiln::frontend {

// Import-wide state shared by all nodes.
struct ImportState {
  ir::Graph* graph = nullptr;
  int64_t opset = 0;                          // default-domain opset
  std::string model_dir;                      // for Constant tensors with external data
  std::map<std::string, ir::Value*> values;   // ONNX value name -> graph value
  std::set<std::string> used_names;           // names read by some node or graph output
  passes::NodeEvaluator evaluator;            // folds nodes of constant inputs as they are emitted
};

class NodeContext {
 public:
  NodeContext(ImportState& state, const onnx::NodeProto& node) : state_(state), node_(node) {}

  const onnx::NodeProto& proto() const { return node_; }
  const std::string& op_type() const { return node_.op_type(); }
  int64_t opset() const { return state_.opset; }
  ir::Graph& graph() { return *state_.graph; }
  const std::string& model_dir() const { return state_.model_dir; }
  // The node's name, or its first output's name when it has none.
  std::string name() const;
  // "Conv 'conv1'": how messages name the node.
  std::string label() const;

  // Inputs: an absent optional input is one past the end or named "".
  int num_inputs() const { return node_.input_size(); }
  bool has_input(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }
  // The graph value of input i (must be present; the importer bound it).
  ir::Value* input(int i) const;
  // The constant data of input i, or null when absent or not a constant.
  const ir::Tensor* constant_input(int i) const;

  int num_outputs() const { return node_.output_size(); }
  // True when output i exists and some node or graph output reads it.
  bool output_used(int i) const;
  // Makes `v` the value of ONNX output i (names a fresh node's value after it).
  void set_output(int i, ir::Value* v);

  // Attributes, with the ONNX default when absent. A present attribute of the
  // wrong type is recorded as an error (attr_status) and yields the default.
  bool has_attr(const std::string& name) const { return find_attr(name) != nullptr; }
  int64_t attr_int(const std::string& name, int64_t dflt);
  double attr_float(const std::string& name, double dflt);
  std::string attr_string(const std::string& name, const std::string& dflt);
  std::vector<int64_t> attr_ints(const std::string& name, std::vector<int64_t> dflt = {});
  std::vector<double> attr_floats(const std::string& name, std::vector<double> dflt = {});
  const onnx::TensorProto* attr_tensor(const std::string& name);
  const Status& attr_status() const { return attr_status_; }

  // Emits a core-op node named after this ONNX node (plus "/suffix" for helper
  // nodes of a multi-node expansion). Type errors name the ONNX node. A node
  // whose inputs are all constants and whose output has at most
  // kMaxFoldElements elements is evaluated at once and its value is a
  // constant: shape arithmetic (integer or float, any core op) folds while the
  // model is read, so later mappers see constant shapes, axes and counts.
  Expected<ir::Value*> add(ir::OpKind op, std::vector<ir::Value*> inputs, ir::Attrs attrs = {},
                           const std::string& suffix = "");
  // A Reshape of `v` to `shape` (a constant when `v` is a small integer constant).
  Expected<ir::Value*> reshape(ir::Value* v, const ir::Shape& shape, const std::string& suffix = "");
  // A new constant named after this node.
  ir::Value* constant(ir::Tensor t, const std::string& suffix = "const");
  // A scalar constant of `dtype` (a float or integer type) holding `v`.
  ir::Value* scalar(DType dtype, double v, const std::string& suffix = "scalar");

  // Errors that name this node.
  Status error(const std::string& msg) const { return Status::invalid(label() + ": " + msg); }
  Status unsupported(const std::string& what) const {
    return Status::invalid(label() + ": " + what + " is not supported");
  }

 private:
  const onnx::AttributeProto* find_attr(const std::string& name) const;
  const onnx::AttributeProto* typed_attr(const std::string& name, onnx::AttributeProto::AttributeType type);

  ImportState& state_;
  const onnx::NodeProto& node_;
  Status attr_status_;
  std::set<const ir::Value*> fresh_;  // values created while mapping this node
};

// An axis in [-rank, rank) made non-negative; nullopt when out of range.
std::optional<int64_t> normalize_axis(int64_t axis, int64_t rank);

}  // namespace kiln::frontend
