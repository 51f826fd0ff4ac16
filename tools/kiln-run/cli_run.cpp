// `kiln run`: load a compiled model, feed .npy (or random) inputs, print and
// save the outputs, optionally benchmark and profile. Runtime-only: no compiler code here.
#include "cli_run.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"

namespace kiln::cli {
namespace {

constexpr const char* kRunHelp =
    "usage: kiln run --input_path DIR [options]\n"
    "\n"
    "Runs a compiled model (DIR/model.so, or the .so itself).\n"
    "\n"
    "  --input_path DIR          the compiled model (required)\n"
    "  --input NAME=FILE.npy     an input (repeatable; NAME= may be left out for a\n"
    "                            single-input model). Without any --input, inputs are\n"
    "                            filled with seeded pseudo-random values.\n"
    "  --output_dir DIR          write each output as DIR/<output name>.npy\n"
    "  --benchmark N             after warm-up, time N runs; print median and min latency\n"
    "  --profile N               after warm-up, run N times timing each kernel; print\n"
    "                            the kernels slowest first (ms per run, share of the run)\n"
    "  --threads N               threads to run with (default 1; 0 = all cores)\n"
    "  --inference_context CTX   cpu (default) or cuda\n"
    "  --help                    this text\n";

struct RunOptions {
  std::string input_path;
  std::vector<std::string> inputs;
  std::string output_dir;
  long benchmark = 0;
  long profile = 0;
  long threads = 1;
  std::string context = "cpu";
};

bool parse_count(const std::string& text, long min, long* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || v < min || v > 100000000) return false;
  *out = v;
  return true;
}

// Returns -1 when parsing succeeded, else the exit status (0 after --help).
int parse_args(const std::string& prefix, int argc, char** argv, RunOptions* o) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    bool has_value = false;
    const size_t eq = flag.find('=');
    if (flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    if (flag == "--help" || flag == "-h") {
      std::fputs(kRunHelp, stdout);
      return 0;
    }
    const bool known = flag == "--input_path" || flag == "--input" || flag == "--output_dir" ||
                       flag == "--benchmark" || flag == "--profile" || flag == "--threads" ||
                       flag == "--inference_context";
    if (!known) {
      if (flag.rfind("-", 0) == 0)
        return fail(prefix, 2, "unknown flag " + flag + " (see " + prefix + " --help)");
      return fail(prefix, 2, "unexpected argument '" + flag + "' (see " + prefix + " --help)");
    }
    if (!has_value) {
      if (i + 1 >= argc) return fail(prefix, 2, flag + " needs a value");
      value = argv[++i];
    }
    if (flag == "--input_path") o->input_path = value;
    else if (flag == "--input") o->inputs.push_back(value);
    else if (flag == "--output_dir") o->output_dir = value;
    else if (flag == "--inference_context") o->context = value;
    else if (flag == "--benchmark" && !parse_count(value, 1, &o->benchmark))
      return fail(prefix, 2, "--benchmark needs a positive count, got '" + value + "'");
    else if (flag == "--profile" && !parse_count(value, 1, &o->profile))
      return fail(prefix, 2, "--profile needs a positive count, got '" + value + "'");
    else if (flag == "--threads" && !parse_count(value, 0, &o->threads))
      return fail(prefix, 2, "--threads needs a count >= 0, got '" + value + "'");
  }
  if (o->input_path.empty()) return fail(prefix, 2, "--input_path DIR is required (see --help)");
  if (o->context != "cpu" && o->context != "cuda")
    return fail(prefix, 2, "--inference_context must be cpu or cuda, got '" + o->context + "'");
  return -1;
}

struct ModelDeleter {
  void operator()(kiln_model* m) const { kiln_model_free(m); }
};

bool make_dirs(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string part = path.substr(0, pos);
    if (mkdir(part.c_str(), 0777) != 0 && errno != EEXIST) return false;
  }
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int write_outputs(const std::string& prefix, const std::string& dir, const std::vector<Tensor>& outs,
                  const std::vector<npy::AlignedBuffer>& buffers) {
  if (!make_dirs(dir)) return fail(prefix, 2, "cannot create --output_dir " + dir + ": " + std::strerror(errno));
  std::vector<std::string> used;
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string base = sanitize_file_name(outs[i].name);
    if (std::find(used.begin(), used.end(), base) != used.end()) base += "_" + std::to_string(i);
    used.push_back(base);
    const std::string path = dir + "/" + base + ".npy";
    const std::string err =
        npy::write_npy(path, outs[i].dtype, outs[i].shape, buffers[i].data(), outs[i].num_bytes);
    if (!err.empty()) return fail(prefix, 1, err);
    std::printf("wrote %s\n", path.c_str());
  }
  return 0;
}

long warmup_runs(long runs) { return std::clamp(runs / 10, 2L, 10L); }

int benchmark(const std::string& prefix, kiln_model* m, long runs, long threads) {
  using Clock = std::chrono::steady_clock;
  const long warmup = warmup_runs(runs);
  for (long i = 0; i < warmup; ++i)
    if (kiln_model_run(m) != KILN_OK) return fail(prefix, 1, kiln_last_error());
  std::vector<double> ms;
  ms.reserve(runs);
  for (long i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    if (kiln_model_run(m) != KILN_OK) return fail(prefix, 1, kiln_last_error());
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  std::printf("benchmark: %ld runs after %ld warm-up, %ld thread(s): median %.3f ms, min %.3f ms\n", runs,
              warmup, threads, median, ms.front());
  return 0;
}

int profile(const std::string& prefix, kiln_model* m, long runs, long threads) {
  const long warmup = warmup_runs(runs);
  for (long i = 0; i < warmup; ++i)
    if (kiln_model_run(m) != KILN_OK) return fail(prefix, 1, kiln_last_error());
  kiln_model_set_profiling(m, 1);
  for (long i = 0; i < runs; ++i)
    if (kiln_model_run(m) != KILN_OK) return fail(prefix, 1, kiln_last_error());
  kiln_model_set_profiling(m, 0);
  std::vector<kiln_kernel_profile> kernels(kiln_model_num_kernels(m));
  double total = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    if (kiln_model_kernel_profile(m, int(i), &kernels[i]) != KILN_OK) return fail(prefix, 1, kiln_last_error());
    total += kernels[i].total_seconds;
  }
  std::vector<size_t> order(kernels.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {  // slowest first, then call order
    return kernels[a].total_seconds != kernels[b].total_seconds ? kernels[a].total_seconds > kernels[b].total_seconds
                                                                : a < b;
  });
  std::printf("profile: %ld runs after %ld warm-up, %ld thread(s): %.3f ms per run in %zu kernels\n", runs, warmup,
              threads, 1e3 * total / runs, kernels.size());
  std::printf("%10s %6s  %s\n", "ms/run", "%", "kernel");
  for (size_t i : order) {
    const kiln_kernel_profile& k = kernels[i];
    std::printf("%10.3f %6.1f  %s\n", 1e3 * k.total_seconds / runs, total > 0 ? 100 * k.total_seconds / total : 0.0,
                k.name);
  }
  return 0;
}

int run_main(int argc, char** argv) {
  const std::string prefix = command_prefix(argc > 0 ? argv[0] : nullptr, "run");
  RunOptions o;
  const int parsed = parse_args(prefix, argc, argv, &o);
  if (parsed >= 0) return parsed;

  kiln_model* raw = nullptr;
  const kiln_status load = kiln_model_load(o.input_path.c_str(), &raw);
  if (load != KILN_OK) return fail(prefix, exit_code_for(load), kiln_last_error());
  std::unique_ptr<kiln_model, ModelDeleter> model(raw);
  kiln_model_props props{};
  kiln_model_properties(model.get(), &props);
  if (o.context == "cuda")
    return fail(prefix, 2, "--inference_context cuda: " + std::string(props.path) +
                               " is a CPU model (compiled for " + props.arch +
                               "); run it with --inference_context cpu, or compile with --target cuda");
  const kiln_status st = kiln_model_set_num_threads(model.get(), int(o.threads));
  if (st != KILN_OK) return fail(prefix, exit_code_for(st), kiln_last_error());

  const std::vector<Tensor> ins = model_tensors(model.get(), true);
  const std::vector<Tensor> outs = model_tensors(model.get(), false);
  std::vector<npy::Array> inputs;
  if (int code = gather_inputs(prefix, ins, o.inputs, &inputs)) return code;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (kiln_model_bind_input(model.get(), int(i), inputs[i].data.data(), ins[i].num_bytes) != KILN_OK)
      return fail(prefix, 2, kiln_last_error());
  }
  std::vector<npy::AlignedBuffer> buffers;
  for (size_t i = 0; i < outs.size(); ++i) {
    buffers.emplace_back(outs[i].num_bytes);
    if (kiln_model_bind_output(model.get(), int(i), buffers[i].data(), outs[i].num_bytes) != KILN_OK)
      return fail(prefix, 1, kiln_last_error());
  }
  const kiln_status ran = kiln_model_run(model.get());
  if (ran != KILN_OK) return fail(prefix, exit_code_for(ran), kiln_last_error());
  for (size_t i = 0; i < outs.size(); ++i) print_summary(outs[i], buffers[i].data());
  if (!o.output_dir.empty())
    if (int code = write_outputs(prefix, o.output_dir, outs, buffers)) return code;
  kiln_model_properties(model.get(), &props);
  if (o.benchmark > 0)
    if (int code = benchmark(prefix, model.get(), o.benchmark, props.num_threads)) return code;
  if (o.profile > 0) return profile(prefix, model.get(), o.profile, props.num_threads);
  return 0;
}

}  // namespace
}  // namespace kiln::cli

int kiln_cli_run(int argc, char** argv) {
  try {
    return kiln::cli::run_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln run: internal error: %s\n", e.what());
    return 1;
  }
}
