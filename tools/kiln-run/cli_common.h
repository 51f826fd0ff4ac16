// Helpers shared by the `run` and `inspect` subcommands: tensor lists, error
// printing, exit codes, byte counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/runtime.h"
#include "npy.h"

namespace kiln::cli {

// One input or output as the model describes it.
struct Tensor {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> shape;
  size_t num_bytes = 0;
};

// The model's inputs (or outputs) in index order.
std::vector<Tensor> model_tensors(const kiln_model* m, bool inputs);

// "float32 (2, 8)".
std::string describe(int32_t dtype, const std::vector<int64_t>& shape);

// Exit status for a runtime failure: 2 for the user's mistakes, 1 for internal ones.
int exit_code_for(kiln_status status);

// "kiln run" when invoked as a subcommand named `run`, else the program's base name.
std::string command_prefix(const char* argv0, const char* subcommand);

// Prints "PREFIX: message" on stderr and returns `code`.
int fail(const std::string& prefix, int code, const std::string& message);

// "1.5 MiB (1572864 bytes)" / "64 bytes".
std::string human_bytes(uint64_t bytes);

// A file name for a tensor name: characters outside [A-Za-z0-9._-] become '_'.
std::string sanitize_file_name(const std::string& name);

// Fills `inputs` from "--input" specs, or with seeded random values when `specs`
// is empty. Returns 0 or an exit status after printing the problem.
int gather_inputs(const std::string& prefix, const std::vector<Tensor>& tensors,
                  const std::vector<std::string>& specs, std::vector<npy::Array>* inputs);

// Prints name, dtype, shape and a short value summary of one output.
void print_summary(const Tensor& t, const void* data);

}  // namespace kiln::cli
