// ONNX TensorProto -> ir::Tensor (typed fields, raw_data or external data),
// and ONNX element types -> kiln DTypes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::frontend {

// The kiln DType of an ONNX TensorProto.DataType value, if kiln has one.
std::optional<DType> dtype_from_onnx(int32_t elem_type);
// "FLOAT", "INT16", ... for messages ("type 17" for values ONNX 1.12 lacks).
std::string onnx_type_name(int32_t elem_type);

// Converts an initializer or Constant value. `model_dir` is the folder that
// external data locations are relative to. Checks that the stored data matches
// dims × element size, and that external data stays inside `model_dir` and
// within its file; errors name the tensor.
Expected<ir::Tensor> tensor_from_proto(const onnx::TensorProto& t, const std::string& model_dir);

}  // namespace kiln::frontend
