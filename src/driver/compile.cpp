// kiln::compile: options -> target -> import -> passes -> kernels -> model.so + model.json.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/json.h"
#include "codegen/codegen.h"
#include "driver/pipeline.h"
#include "frontend/onnx/import.h"
#include "frontend/onnx/load.h"
#include "kiln/compiler.h"
#include "kiln/model_abi.h"
#include "targets/target.h"

namespace kiln {

namespace {

namespace fs = std::filesystem;

// Progress lines on a terminal; silent otherwise (SPEC.md §1).
class Progress {
 public:
  explicit Progress(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
  void step(const std::string& what) {
    if (!on_) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "[kiln %6.2fs] %s\n", s, what.c_str());
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point start_;
};

// --constant_input values as graph tensors: a kiln dtype, and bytes that fill the shape.
Expected<std::map<std::string, ir::Tensor>> constant_input_tensors(const CompileOptions& o) {
  std::map<std::string, ir::Tensor> out;
  for (const auto& [name, c] : o.constant_inputs) {
    std::optional<DType> dtype = dtype_from_code(c.dtype);
    if (!dtype)
      return Status::invalid("--constant_input '" + name + "' has unsupported dtype code " + std::to_string(c.dtype));
    ir::TensorType type{*dtype, c.shape};
    for (int64_t d : c.shape)
      if (d < 0) return Status::invalid("--constant_input '" + name + "' has a negative dimension");
    int64_t want = type.num_elements() * dtype_size(*dtype);
    if (static_cast<int64_t>(c.bytes.size()) != want)
      return Status::invalid("--constant_input '" + name + "' has " + std::to_string(c.bytes.size()) +
                             " bytes of data but " + dtype_name(*dtype) + "[" + ir::shape_str(c.shape) + "] needs " +
                             std::to_string(want));
    out.emplace(name, ir::Tensor(type, c.bytes));
  }
  return out;
}

Status validate_options(const CompileOptions& o) {
  if (o.input_path.empty()) return Status::invalid("missing --input_path");
  if (o.output_path.empty()) return Status::invalid("missing --output_path");
  if (o.kernel_level < 1 || o.kernel_level > 4)
    return Status::invalid("kernel level " + std::to_string(o.kernel_level) + " is out of range 1-4");
  if (o.layout != "NCHW" && o.layout != "NHWC")
    return Status::invalid("--layout '" + o.layout + "' is not one of NCHW, NHWC");
  if (o.layout == "NHWC" && o.kernel_level < 3)
    return Status::invalid("--layout NHWC needs kernel level 3 or 4 (got level " + std::to_string(o.kernel_level) + ")");
  if (o.tuning_iterations.has_value())
    return Status::invalid("category:graph,iterations (auto-tuning) is not implemented yet in this build");
  if (o.bundle) return Status::invalid("--bundle is not implemented yet in this build");
  return Status::ok();
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Expected<std::string> file_hash(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::invalid("cannot read " + path);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return hex64(kiln_checksum64(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

void write_tensors(JsonWriter& j, const std::vector<codegen::TensorInfo>& ts) {
  j.begin_array();
  for (const auto& t : ts) {
    j.begin_object().key("name").value(t.name).key("dtype").value(dtype_name(t.dtype)).key("shape").value(t.shape);
    j.key("layout").value(t.shape.size() == 4 ? "NCHW" : "row-major").end_object();
  }
  j.end_array();
}

// Whether the int8 kernels use 8-bit dot products (ops/int8_conv.h): VNNI at
// the target's vector width, or NEON dotprod; otherwise int16 pairs.
// AArch64 always has FMA (fmla); x86-64 from x86-64-v3 / Haswell on.
bool has_fma(const Target& t) {
  return t.arch != Arch::kX86_64 ||
         std::find(t.required_features.begin(), t.required_features.end(), "fma") != t.required_features.end();
}

bool int8_dot4(const Target& t) {
  auto has = [&](const char* f) {
    return std::find(t.required_features.begin(), t.required_features.end(), f) != t.required_features.end();
  };
  if (t.arch == Arch::kAArch64) return has("dotprod");
  return t.vector_bits >= 512 ? has("avx512vnni") : has("avxvnni") || (has("avx512vnni") && has("avx512vl"));
}

std::string strategy_for(int level) {
  switch (level) {
    case 1: return "plain loops";
    case 2: return "vectorized + parallel loops";
    // Level 4's Winograd layers say so themselves (KernelSummary::strategy).
    default: return "register-tiled Conv/MatMul with pre-packed weights; vectorized + parallel loops elsewhere";
  }
}

std::string metadata_json(const CompileOptions& o, const Target& t, const std::string& model_file,
                          const std::string& hash, const codegen::ModelPlan& plan,
                          const std::vector<driver::KernelSummary>& kernels) {
  JsonWriter j;
  j.begin_object();
  j.key("kiln_version").value(KILN_VERSION).key("abi_version").value(static_cast<int64_t>(KILN_MODEL_ABI_VERSION));
  j.key("source").begin_object().key("path").value(model_file).key("fnv1a64").value(hash).end_object();
  j.key("target").begin_object().key("spec").value(o.target).key("arch").value(t.arch_name());
  j.key("triple").value(t.triple).key("cpu").value(t.cpu).key("features").value(t.features);
  j.key("required_cpu_features").begin_array();
  for (const auto& f : t.required_features) j.value(f);
  j.end_array().key("vector_bits").value(static_cast<int64_t>(t.vector_bits)).end_object();
  j.key("options").begin_object().key("kernel_level").value(static_cast<int64_t>(o.kernel_level));
  j.key("effective_kernel_level").value(static_cast<int64_t>(o.kernel_level));
  j.key("layout").value(o.layout).end_object();
  j.key("inputs");
  write_tensors(j, plan.inputs);
  j.key("outputs");
  write_tensors(j, plan.outputs);
  j.key("arena_bytes").value(plan.arena_bytes).key("weights_bytes").value(static_cast<int64_t>(plan.weights.size()));
  j.key("layers").begin_array();
  for (const auto& k : kernels) {
    j.begin_object().key("kernel").value(k.name).key("ops").begin_array();
    for (const auto& op : k.ops) j.value(op);
    j.end_array().key("nodes").begin_array();
    for (const auto& n : k.nodes) j.value(n);
    j.end_array();
    if (!k.layout.empty()) j.key("layout").value(k.layout);
    j.key("precision").value(k.precision).key("precision_reason").value(k.precision_reason);
    j.key("strategy").value(k.strategy.empty() ? strategy_for(o.kernel_level) : k.strategy).end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

Status write_file(const fs::path& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return Status::invalid("cannot write " + path.string());
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) return Status::internal("failed writing " + path.string());
  return Status::ok();
}

Status compile_impl(const CompileOptions& o) {
  KILN_RETURN_IF_ERROR(validate_options(o));
  Progress progress(o.show_progress);

  Expected<Target> target = o.target.empty() || o.target == "llvm" ? host_target() : parse_target(o.target);
  if (!target) return target.status().with_context("--target");
  if (target->arch == Arch::kCuda && o.layout == "NHWC")
    return Status::invalid("--layout NHWC is for CPU targets only (llvm ...), not --target " + o.target +
                           ": leave --layout out (NCHW) for cuda");
  if (target->arch == Arch::kCuda)
    return Status::invalid("--target " + o.target + ": CUDA code generation is not implemented yet in this build");

  progress.step("importing " + o.input_path);
  KILN_ASSIGN_OR_RETURN(std::string model_file, frontend::find_model_file(o.input_path));
  KILN_ASSIGN_OR_RETURN(auto constants, constant_input_tensors(o));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<ir::Graph> graph,
                        frontend::import_onnx(o.input_path, o.input_shapes, constants));
  KILN_ASSIGN_OR_RETURN(std::string hash, file_hash(model_file));

  progress.step("optimizing the graph (" + std::to_string(graph->nodes().size()) + " nodes)");
  ops::KernelOptions kopts;
  kopts.level = o.kernel_level;
  kopts.f32_lanes = std::max(1, target->f32_lanes());
  kopts.vector_registers = target->arch == Arch::kAArch64 || target->vector_bits >= 512 ? 32 : 16;
  kopts.channels_last = o.layout == "NHWC";
  kopts.int8_dot4 = int8_dot4(*target);
  kopts.fma = has_fma(*target);
  KILN_RETURN_IF_ERROR(driver::run_graph_passes(*graph, kopts));

  std::vector<driver::KernelSummary> kernels;
  KILN_ASSIGN_OR_RETURN(codegen::ModelPlan plan, driver::lower_graph(*graph, kopts, &kernels));
  plan.metadata_json = metadata_json(o, *target, model_file, hash, plan, kernels);

  progress.step("generating code for " + std::to_string(plan.funcs.size()) + " kernels (" + target->triple + ", " +
                target->cpu + ")");
  KILN_ASSIGN_OR_RETURN(std::string object, codegen::emit_object(plan, *target));

  std::error_code ec;
  fs::path dir(o.output_path);
  fs::create_directories(dir, ec);
  if (ec) return Status::invalid("cannot create --output_path " + o.output_path + ": " + ec.message());
  std::string suffix = ".tmp-" + std::to_string(::getpid());
  fs::path so_tmp = dir / ("model.so" + suffix), json_tmp = dir / ("model.json" + suffix);
  progress.step("linking " + (dir / "model.so").string());
  Status st = codegen::link_shared_object(object, *target, so_tmp.string());
  if (st.is_ok()) st = write_file(json_tmp, plan.metadata_json);
  if (st.is_ok()) {
    fs::rename(so_tmp, dir / "model.so", ec);
    if (!ec) fs::rename(json_tmp, dir / "model.json", ec);
    if (ec) st = Status::internal("cannot move the compiled model into place: " + ec.message());
  }
  fs::remove(so_tmp, ec);
  fs::remove(json_tmp, ec);
  if (st.is_ok()) progress.step("done");
  return st;
}

}  // namespace

CompileResult compile(const CompileOptions& options) {
  Status st = compile_impl(options);
  CompileResult r;
  r.exit_code = st.exit_code();
  r.error = st.message();
  return r;
}

}  // namespace kiln
