// Code generation entry points: kernel IR + an execution plan -> an object file
// (or a JIT for constant folding). No LLVM type appears in this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"
#include "kernel/ir.h"
#include "targets/target.h"

namespace kiln::codegen {

// Where one kernel argument points when the entry function calls the kernel.
struct KernelArg {
  enum class Kind : uint8_t {
    kInput,    // inputs[index]  (the model's i-th input buffer)
    kOutput,   // outputs[index]
    kArena,    // arena + offset (bytes, 64-aligned)
    kWeights,  // weights blob + offset (bytes, 64-aligned)
  };
  Kind kind;
  int64_t value;  // index or byte offset
};

// One step of the compiled entry function: call `func` with these arguments,
// one per parameter of that kir::Func, in order.
struct KernelCall {
  std::string func;
  std::vector<KernelArg> args;
};

struct TensorInfo {
  std::string name;
  DType dtype;
  ir::Shape shape;
};

// Everything the generated model.so contains.
struct ModelPlan {
  std::vector<kir::Func> funcs;     // kernel bodies (unique names)
  std::vector<KernelCall> calls;    // execution order of the entry function
  std::vector<uint8_t> weights;     // all constants; size a multiple of 64
  int64_t arena_bytes = 0;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::string metadata_json;        // embedded verbatim (also written as model.json)
};

// Kernel-IR-to-machine-code knobs that are not part of the target.
struct CodegenOptions {
  int opt_level = 3;                // LLVM optimization level (0..3)
};

// Lowers every kernel and the entry function + kiln_model_v1 descriptor
// (include/kiln/model_abi.h) into one LLVM module, optimizes it (O3) and
// returns the relocatable object file's bytes for `target`.
Expected<std::string> emit_object(const ModelPlan& plan, const Target& target,
                                  const CodegenOptions& options = {});

// Links an object file into a shared object at `out_path` with lld, in process.
Status link_shared_object(const std::string& object_bytes, const Target& target,
                          const std::string& out_path);

// A host JIT for running kernels inside the compiler (constant folding, tests,
// tuning). Kernels are called with a serial host API.
class Jit {
 public:
  static Expected<std::unique_ptr<Jit>> create();
  // A JIT that compiles for `target`'s CPU and features instead of the host's
  // (tests of per-ISA code paths; the code must be runnable on the host).
  static Expected<std::unique_ptr<Jit>> create(const Target& target);
  virtual ~Jit() = default;
  // Compiles `func` for the host CPU; afterwards run(func.name, args) calls it
  // with one pointer per parameter.
  virtual Status add(const kir::Func& func) = 0;
  virtual Status run(const std::string& name, const std::vector<void*>& args) = 0;
};

}  // namespace kiln::codegen
