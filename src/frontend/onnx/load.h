// Finding, parsing and checking an ONNX model file (before any op is mapped).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include "base/status.h"

namespace kiln::frontend {

// Opsets of the default ONNX domain that the op mappers understand.
inline constexpr int64_t kMinOpset = 7;
inline constexpr int64_t kMaxOpset = 27;  // ONNX 1.22; docs/opsets.md lists what changed after 23
// IR versions accepted (3 = ONNX 1.0's opset imports .. 13 = ONNX 1.22).
inline constexpr int64_t kMinIrVersion = 3;
inline constexpr int64_t kMaxIrVersion = 13;

struct LoadedModel {
  onnx::ModelProto model;
  std::string path;      // the .onnx file that was read
  std::string dir;       // its folder: external data locations are relative to it
  int64_t opset = 0;     // the default domain's opset
};

// The .onnx file that `input_path` names: the path itself, or the one .onnx
// file inside a folder. Errors: missing path, folder with none or several.
Expected<std::string> find_model_file(const std::string& input_path);

// Finds, reads and parses the model, then checks its IR version, opset imports
// and graph. Does not look at initializer data (tensor_from_proto does).
Expected<std::unique_ptr<LoadedModel>> load_model(const std::string& input_path);

// True for the default ONNX domain's two spellings, "" and "ai.onnx".
inline bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// For a model of default-domain opset 1..kMinOpset-1: ok when every node's op is
// defined at `opset` as at kMinOpset (legacy_opset.cpp), else the opset error
// naming the first op that is not. `path` prefixes the message.
Status check_legacy_opset(const onnx::ModelProto& model, int64_t opset, const std::string& path);

// The opset the model imports for `domain` ("" and "ai.onnx" are the same), or 0.
int64_t opset_for_domain(const onnx::ModelProto& model, const std::string& domain);

}  // namespace kiln::frontend
