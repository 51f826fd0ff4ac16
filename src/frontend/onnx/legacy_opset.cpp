// Models of opsets 1 to 6: kiln's mappers read ops as opset 7 defines them, so an
// older model loads when each of its ops has, at the model's opset, the definition
// that opset 7 still uses (Not, Conv, MatMul, ... unchanged since opset 1; Relu,
// Sigmoid, ... since 6). Any other op keeps the opset error.
#include "frontend/onnx/load.h"

#include <map>

namespace kiln::frontend {
namespace {

// op -> the version of its definition in force at opset 7, for the ops kiln maps
// whose opset-7 definition is older than 7 (onnx.defs.get_schema(op, 7).since_version).
const std::map<std::string, int64_t>& opset7_versions() {
  static const std::map<std::string, int64_t> kVersions = {
      {"Abs", 6}, {"ArgMax", 1}, {"ArgMin", 1}, {"Cast", 6}, {"Ceil", 6}, {"Clip", 6}, {"Concat", 4},
      {"Constant", 1}, {"Conv", 1}, {"ConvTranspose", 1}, {"DepthToSpace", 1}, {"Elu", 6}, {"Exp", 6},
      {"Flatten", 1}, {"Floor", 6}, {"Gather", 1}, {"GlobalAveragePool", 1}, {"GlobalLpPool", 2},
      {"GlobalMaxPool", 1}, {"HardSigmoid", 6}, {"Hardmax", 1}, {"Identity", 1}, {"InstanceNormalization", 6},
      {"LRN", 1}, {"LeakyRelu", 6}, {"Log", 6}, {"LogSoftmax", 1}, {"LpNormalization", 1}, {"LpPool", 2},
      {"MatMul", 1}, {"Max", 6}, {"MaxPool", 1}, {"Mean", 6}, {"Min", 6}, {"Neg", 6}, {"Not", 1}, {"Pad", 2},
      {"Reciprocal", 6}, {"ReduceL1", 1}, {"ReduceL2", 1}, {"ReduceLogSum", 1}, {"ReduceLogSumExp", 1},
      {"ReduceMax", 1}, {"ReduceMean", 1}, {"ReduceMin", 1}, {"ReduceProd", 1}, {"ReduceSum", 1},
      {"ReduceSumSquare", 1}, {"Relu", 6}, {"Reshape", 5}, {"Selu", 6}, {"Shape", 1}, {"Sigmoid", 6}, {"Size", 1},
      {"Slice", 1}, {"Softmax", 1}, {"Softplus", 1}, {"Softsign", 1}, {"SpaceToDepth", 1}, {"Split", 2}, {"Sqrt", 6},
      {"Squeeze", 1}, {"Sum", 6}, {"Tanh", 6}, {"Tile", 6}, {"TopK", 1}, {"Transpose", 1}, {"Unsqueeze", 1}
  };
  return kVersions;
}

}  // namespace

Status check_legacy_opset(const onnx::ModelProto& model, int64_t opset, const std::string& path) {
  std::string why = path + ": opset " + std::to_string(opset) +
                    " of the default ONNX domain is not supported (kiln supports opsets " + std::to_string(kMinOpset) +
                    " to " + std::to_string(kMaxOpset) + ", and older ones for ops defined as at opset " +
                    std::to_string(kMinOpset) + "; ";
  for (const auto& n : model.graph().node()) {
    if (!is_default_domain(n.domain())) continue;
    auto it = opset7_versions().find(n.op_type());
    std::string node = n.name().empty() ? (n.output_size() ? n.output(0) : n.op_type()) : n.name();
    if (it == opset7_versions().end())
      return Status::invalid(why + n.op_type() + " at node '" + node + "' is not one of them" +
                             "); convert the model with onnx.version_converter");
    if (it->second > opset)
      return Status::invalid(why + n.op_type() + " at node '" + node + "' changed at opset " +
                             std::to_string(it->second) + "); convert the model with onnx.version_converter");
  }
  return Status::ok();
}

}  // namespace kiln::frontend
