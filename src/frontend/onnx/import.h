// The ONNX frontend's entry point: an .onnx file (or a folder holding one) ->
// kiln's graph IR, with every ONNX-specific variant resolved to core ops.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::frontend {

// Loads, checks and imports the model at `input_path` (an .onnx file or a folder
// holding exactly one). `input_shapes` pins symbolic input dimensions by input
// name (from --input_shapes). Every problem with the model (bad file, unknown
// ops, unpinned dims, bad external data) is an invalid-input Status whose
// message names the file, tensor, input or node at fault. `constant_inputs`
// (from --constant_input) freezes graph inputs by name to the given values: each
// becomes a constant; its dtype must be the input's and its shape must match the
// input's declared dims (symbolic dims take the given sizes).
Expected<std::unique_ptr<ir::Graph>> import_onnx(const std::string& input_path,
                                                 const std::map<std::string, std::vector<int64_t>>& input_shapes,
                                                 const std::map<std::string, ir::Tensor>& constant_inputs = {});

}  // namespace kiln::frontend
