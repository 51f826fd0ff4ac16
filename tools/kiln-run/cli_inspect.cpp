// `kiln inspect DIR`: what a compiled model holds (arch, CPU features, ABI,
// tensors, sizes, metadata), human-readable. A model for another machine is
// still described from DIR/model.json.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "cli_common.h"
#include "cli_run.h"
#include "json_pretty.h"
#include "layer_table.h"

namespace kiln::cli {
namespace {

constexpr const char* kInspectHelp =
    "usage: kiln inspect DIR\n"
    "\n"
    "Prints what a compiled model (DIR/model.so) holds: architecture, required CPU\n"
    "features, kiln version, ABI, inputs and outputs, arena and weights sizes, and\n"
    "its metadata, with each layer's precision (int8 / fp32) and why.\n";

bool read_text(const std::string& path, std::string* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, n);
  std::fclose(f);
  return true;
}

void print_tensors(const char* title, const std::vector<Tensor>& tensors) {
  std::printf("%s (%zu):\n", title, tensors.size());
  size_t width = 4;
  for (const auto& t : tensors) width = std::max(width, t.name.size());
  for (const auto& t : tensors)
    std::printf("  %-*s  %-8s  %-20s  %s\n", int(width), t.name.c_str(), kiln_dtype_name(t.dtype),
                npy::shape_string(t.shape).c_str(), human_bytes(t.num_bytes).c_str());
}

int inspect_main(int argc, char** argv) {
  const std::string prefix = command_prefix(argc > 0 ? argv[0] : nullptr, "inspect");
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kInspectHelp, stdout);
      return 0;
    }
    if (arg.rfind("-", 0) == 0) return fail(prefix, 2, "unknown flag " + arg + " (see --help)");
    if (!dir.empty()) return fail(prefix, 2, "unexpected argument '" + arg + "': give one model folder");
    dir = arg;
  }
  if (dir.empty()) return fail(prefix, 2, "usage: kiln inspect DIR");

  kiln_model* m = nullptr;
  const kiln_status st = kiln_model_load(dir.c_str(), &m);
  if (st != KILN_OK) {
    // A model built for another machine cannot be loaded here; its model.json
    // still says what it is.
    const std::string error = kiln_last_error();
    struct stat info {};
    const bool is_dir = stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
    std::string json;
    if (st != KILN_ERROR_INCOMPATIBLE || !is_dir || !read_text(dir + "/model.json", &json))
      return fail(prefix, exit_code_for(st), error);
    std::printf("model:         %s/model.so\nnote:          cannot be loaded here: %s\n", dir.c_str(),
                error.c_str());
    std::printf("metadata (model.json):\n%s\n", pretty_json(json).c_str());
    return 0;
  }
  kiln_model_props p{};
  kiln_model_properties(m, &p);
  std::printf("model:         %s\n", p.path);
  std::printf("arch:          %s\n", p.arch);
  std::printf("cpu features:  %s\n", *p.cpu_features ? p.cpu_features : "(baseline)");
  std::printf("kiln version:  %s (runtime %s)\n", p.kiln_version, kiln_runtime_version());
  std::printf("model ABI:     %u\n", p.abi_version);
  print_tensors("inputs", model_tensors(m, true));
  print_tensors("outputs", model_tensors(m, false));
  std::printf("arena:         %s\n", human_bytes(p.arena_bytes).c_str());
  std::printf("weights:       %s\n", human_bytes(p.weights_bytes).c_str());
  const char* meta = kiln_model_metadata(m);
  // Each kernel's precision (int8 / fp32) and why, from the metadata's "layers".
  std::vector<LayerRow> rows = layer_rows(meta);
  if (!rows.empty()) std::printf("layers:        %s", layer_table(rows).c_str());
  std::printf("metadata:\n%s\n", *meta ? pretty_json(meta).c_str() : "(none)");
  kiln_model_free(m);
  return 0;
}

}  // namespace
}  // namespace kiln::cli

int kiln_cli_inspect(int argc, char** argv) {
  try {
    return kiln::cli::inspect_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln inspect: internal error: %s\n", e.what());
    return 1;
  }
}
