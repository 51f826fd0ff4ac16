// kiln._compiler: binds kiln::compile (include/kiln/compiler.h) for kiln.compile.
// Option strings are parsed by the compiler's own parsers, not here.
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <exception>
#include <map>
#include <string>
#include <vector>

#include "kiln/compiler.h"

namespace nb = nanobind;

namespace {

// Returns (exit_code, error): 0 and "" on success, 2 for the caller's mistakes.
nb::tuple compile(const std::string& input_path, const std::string& output_path, const std::string& target,
                  const std::string& layout, const std::vector<std::string>& optimization,
                  const std::map<std::string, std::vector<int64_t>>& input_shapes,
                  const std::string& input_shapes_text, bool bundle,
                  const std::map<std::string, int32_t>& constant_dtypes,
                  const std::map<std::string, std::vector<int64_t>>& constant_shapes,
                  const std::map<std::string, nb::bytes>& constant_data) {
  kiln::CompileOptions options;
  options.input_path = input_path;
  options.output_path = output_path;
  options.target = target;
  options.layout = layout;
  options.bundle = bundle;
  for (const std::string& flag : optimization) {
    const std::string err = kiln::apply_optimization_flag(flag, &options);
    if (!err.empty()) return nb::make_tuple(2, err);
  }
  if (!input_shapes_text.empty()) {
    const std::string err = kiln::parse_input_shapes(input_shapes_text, &options);
    if (!err.empty()) return nb::make_tuple(2, err);
  }
  for (const auto& [name, dims] : input_shapes) options.input_shapes[name] = dims;
  // constant_inputs arrive as three maps with the same keys (kiln/_compile.py builds them).
  for (const auto& [name, dtype] : constant_dtypes) {
    kiln::ConstantInput c;
    c.dtype = dtype;
    c.shape = constant_shapes.at(name);
    const nb::bytes& data = constant_data.at(name);
    const auto* p = static_cast<const uint8_t*>(data.data());
    c.bytes.assign(p, p + data.size());
    options.constant_inputs[name] = std::move(c);
  }
  kiln::CompileResult result;
  {
    nb::gil_scoped_release release;
    try {
      result = kiln::compile(options);
    } catch (const std::exception& e) {
      result.exit_code = 1;
      result.error = std::string("internal error: ") + e.what();
    }
  }
  return nb::make_tuple(result.exit_code, result.error);
}

}  // namespace

NB_MODULE(_compiler, m) {
  m.doc() = "kiln compiler bindings (use kiln.compile, not this module)";
  m.def("compile", &compile, nb::arg("input_path"), nb::arg("output_path"), nb::arg("target"),
        nb::arg("layout"), nb::arg("optimization"), nb::arg("input_shapes"), nb::arg("input_shapes_text"),
        nb::arg("bundle"), nb::arg("constant_dtypes"), nb::arg("constant_shapes"), nb::arg("constant_data"));
}
