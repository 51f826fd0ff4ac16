// Locates the .onnx file, parses it with protobuf (models up to 2 GB) and checks
// the model-level fields: IR version, opset imports, a graph.
#include "frontend/onnx/load.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <vector>

#include <google/protobuf/io/coded_stream.h>

namespace kiln::frontend {
namespace {

namespace fs = std::filesystem;

// Reads the whole file; errors name the path.
Expected<std::string> read_file(const std::string& path) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec) return Status::invalid("cannot read " + path + ": " + ec.message());
  if (size >= static_cast<uintmax_t>(INT_MAX))
    return Status::invalid(path + " is larger than 2 GB; store the weights as ONNX external data");
  std::string bytes(static_cast<size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size)))
    return Status::invalid("cannot read " + path);
  return bytes;
}

}  // namespace

int64_t opset_for_domain(const onnx::ModelProto& model, const std::string& domain) {
  for (const auto& op : model.opset_import()) {
    if (op.domain() == domain || (is_default_domain(domain) && is_default_domain(op.domain())))
      return op.version();
  }
  return 0;
}

Expected<std::string> find_model_file(const std::string& input_path) {
  std::error_code ec;
  if (!fs::exists(input_path, ec)) return Status::invalid("no such file: " + input_path);
  if (!fs::is_directory(input_path, ec)) return input_path;
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(input_path, ec)) {
    if (entry.path().extension() == ".onnx" && !entry.is_directory()) found.push_back(entry.path().string());
  }
  if (ec) return Status::invalid("cannot list folder " + input_path + ": " + ec.message());
  std::sort(found.begin(), found.end());
  if (found.size() == 1) return found[0];
  if (found.empty())
    return Status::invalid("folder " + input_path + " holds no .onnx file; pass the model file itself");
  std::string names;
  for (const auto& f : found) names += (names.empty() ? "" : ", ") + fs::path(f).filename().string();
  return Status::invalid("folder " + input_path + " holds " + std::to_string(found.size()) +
                         " .onnx files (" + names + "); pass the model file itself");
}

Expected<std::unique_ptr<LoadedModel>> load_model(const std::string& input_path) {
  KILN_ASSIGN_OR_RETURN(std::string path, find_model_file(input_path));
  KILN_ASSIGN_OR_RETURN(std::string bytes, read_file(path));

  auto loaded = std::make_unique<LoadedModel>();
  loaded->path = path;
  loaded->dir = fs::path(path).parent_path().string();
  if (loaded->dir.empty()) loaded->dir = ".";
  onnx::ModelProto& model = loaded->model;

  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  bool parsed = model.ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage();
  // Stray bytes can parse as a message of unknown fields: that is not a model either.
  if (!parsed || (!model.has_graph() && model.opset_import_size() == 0 && model.ir_version() == 0))
    return Status::invalid(path + " is not a valid ONNX model (protobuf parse failed)");

  if (model.ir_version() < kMinIrVersion || model.ir_version() > kMaxIrVersion)
    return Status::invalid(path + ": ONNX IR version " + std::to_string(model.ir_version()) +
                           " is not supported (kiln reads IR versions " + std::to_string(kMinIrVersion) +
                           " to " + std::to_string(kMaxIrVersion) + ")");
  loaded->opset = opset_for_domain(model, "");
  if (loaded->opset == 0)
    return Status::invalid(path + ": the model imports no opset of the default ONNX domain");
  if (loaded->opset >= 1 && loaded->opset < kMinOpset && model.has_graph()) {
    KILN_RETURN_IF_ERROR(check_legacy_opset(model, loaded->opset, path));
  } else if (loaded->opset < kMinOpset || loaded->opset > kMaxOpset) {
    return Status::invalid(path + ": opset " + std::to_string(loaded->opset) +
                           " of the default ONNX domain is not supported (kiln supports opsets " +
                           std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) +
                           "); convert the model with onnx.version_converter");
  }
  if (!model.has_graph()) return Status::invalid(path + ": the model has no graph");
  return loaded;
}

}  // namespace kiln::frontend
