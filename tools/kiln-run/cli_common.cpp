// Shared helpers of `kiln run` / `kiln inspect` (see cli_common.h).
#include "cli_common.h"

#include <cstdio>
#include <cstring>

namespace kiln::cli {

std::vector<Tensor> model_tensors(const kiln_model* m, bool inputs) {
  std::vector<Tensor> out;
  const int n = inputs ? kiln_model_num_inputs(m) : kiln_model_num_outputs(m);
  for (int i = 0; i < n; ++i) {
    kiln_tensor_info info{};
    if ((inputs ? kiln_model_input_info(m, i, &info) : kiln_model_output_info(m, i, &info)) != KILN_OK)
      continue;
    Tensor t;
    t.name = info.name;
    t.dtype = info.dtype;
    t.shape.assign(info.shape, info.shape + info.rank);
    t.num_bytes = static_cast<size_t>(info.num_bytes);
    out.push_back(std::move(t));
  }
  return out;
}

std::string describe(int32_t dtype, const std::vector<int64_t>& shape) {
  // .npy void data (ml_dtypes arrays) has no kiln dtype: name its element size.
  const char* name = dtype == npy::kRawBytes1   ? "1-byte void (|V1)"
                     : dtype == npy::kRawBytes2 ? "2-byte void (<V2)"
                                                : kiln_dtype_name(dtype);
  return std::string(name) + " " + npy::shape_string(shape);
}

int exit_code_for(kiln_status status) {
  return status == KILN_ERROR_INVALID_ARGUMENT || status == KILN_ERROR_INCOMPATIBLE ? 2 : 1;
}

std::string command_prefix(const char* argv0, const char* subcommand) {
  const char* base = argv0 ? std::strrchr(argv0, '/') : nullptr;
  base = base ? base + 1 : (argv0 ? argv0 : subcommand);
  if (std::strcmp(base, subcommand) == 0) return std::string("kiln ") + subcommand;
  return base;
}

int fail(const std::string& prefix, int code, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", prefix.c_str(), message.c_str());
  return code;
}

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f %s (%llu bytes)", v, units[u],
                static_cast<unsigned long long>(bytes));
  return buf;
}

std::string sanitize_file_name(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

}  // namespace kiln::cli
