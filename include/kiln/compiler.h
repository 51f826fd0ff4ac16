// kiln's public C++ compiler API: kiln::compile(Options) -> Status.
// The CLI (`kiln compile`) and Python (`kiln.compile`) both call this.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

// A small tensor given by value (--constant_input): C-order little-endian bytes.
struct ConstantInput {
  int32_t dtype = 0;             // kiln_dtype (kiln/model_abi.h), e.g. KILN_I64
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

struct CompileOptions {
  std::string input_path;        // an .onnx file, or a folder holding exactly one
  std::string output_path;       // folder, created if missing
  std::string target = "llvm";   // "llvm -mcpu=skylake ..." or "cuda[:MODEL]"
  std::string layout = "NCHW";   // "NCHW" | "NHWC"
  int kernel_level = 3;          // category:kernel,level:N (1..4)
  std::optional<bool> cuda_enabled;     // category:cuda,enabled:B (default: on for cuda targets)
  std::optional<int> tuning_iterations; // category:graph,iterations:N (0..30000)
  std::map<std::string, std::vector<int64_t>> input_shapes;  // --input_shapes
  // --constant_input NAME=FILE.npy: graph inputs frozen to these values; they
  // become constants and are no longer inputs of the compiled model.
  std::map<std::string, ConstantInput> constant_inputs;
  bool bundle = false;           // --bundle
  bool show_progress = false;    // progress lines on stderr (the CLI sets this on a tty)
};

// Parses one `--optimization` value ("category:kernel,level:4") into `options`.
// Returns "" on success, else a one-line message naming what is wrong.
std::string apply_optimization_flag(const std::string& value, CompileOptions* options);
// Parses "--input_shapes name:1x3x224x224[,name2:...]". Returns "" or a message.
std::string parse_input_shapes(const std::string& value, CompileOptions* options);

struct CompileResult {
  int exit_code = 0;             // 0 ok, 2 bad input/usage, 1 internal error
  std::string error;             // one line, empty on success
};

// Runs the whole pipeline and writes output_path/model.so and model.json.
CompileResult compile(const CompileOptions& options);

}  // namespace kiln
